"""medsec: security for large language models deployed in biomedical and clinical settings.

The public API is what ``__all__`` lists; a test pins it. Heavy back ends (the local model, the
gateway's web server) are imported only inside the plugins that need them, so ``import medsec`` stays
light.
"""

from medsec._version import __version__
from medsec.config import load_config, read_yaml, secret_from_env
from medsec.errors import (
    ConfigError,
    MedsecError,
    MissingExtraError,
    RegistryError,
    TargetError,
    TaxonomyError,
)
from medsec.registry import Registry
from medsec.taxonomy import Attack, Defense, Taxonomy, load_taxonomy
from medsec.types import Finding, Message, Spec

__all__ = [
    "Attack",
    "ConfigError",
    "Defense",
    "Finding",
    "MedsecError",
    "Message",
    "MissingExtraError",
    "Registry",
    "RegistryError",
    "Spec",
    "TargetError",
    "Taxonomy",
    "TaxonomyError",
    "__version__",
    "load_config",
    "load_taxonomy",
    "read_yaml",
    "secret_from_env",
]
