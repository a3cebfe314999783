"""The guard gateway: an OpenAI-compatible proxy that guards, pseudonymises, rate-limits and audits.

``create_gateway(config)`` (in :mod:`medsec.gateway.app`) builds the ASGI app (Starlette); Starlette and
uvicorn come with the ``gateway`` extra and are imported only there, inside the factory. This package's
own import is light: configuration, keys, the audit log and its verification need no web framework.
"""

from __future__ import annotations

from medsec.gateway.config import GatewayConfig, load_gateway_config

__all__ = ["GatewayConfig", "load_gateway_config"]
