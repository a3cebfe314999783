"""The one exception hierarchy of medsec.

Every error medsec raises on purpose derives from :class:`MedsecError`, so callers (and the CLI, which
turns these into one-line messages with no traceback) can catch the whole family at once::

    MedsecError
    ├── ConfigError          a config or policy file is missing, malformed or invalid
    ├── RegistryError        an unknown plugin name, or a Spec whose arguments do not fit
    ├── TaxonomyError        the taxonomy data failed to load or cross-reference
    ├── TargetError          a target could not be reached or answered badly
    └── MissingExtraError    an optional back end is used without its extra installed

Messages never contain PHI: they name files, ids, fields and line numbers, never the offending text.
"""

from __future__ import annotations


class MedsecError(Exception):
    """Base class of every error medsec raises on purpose."""


class ConfigError(MedsecError):
    """A configuration or policy file is missing, malformed or invalid."""


class RegistryError(MedsecError):
    """A plugin name is unknown, or a Spec's arguments do not fit the plugin."""


class TaxonomyError(MedsecError):
    """The taxonomy data failed to load, validate or cross-reference."""


class TargetError(MedsecError):
    """A target could not be reached, timed out, or answered with something unusable."""


class MissingExtraError(MedsecError, ImportError):
    """An optional back end was requested but its extra is not installed.

    Args:
        extra: Name of the ``pip install medsec[extra]`` extra that provides the back end.
        module: The module that failed to import.
    """

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(f"{module!r} is not installed; install it with: pip install 'medsec[{extra}]'")
