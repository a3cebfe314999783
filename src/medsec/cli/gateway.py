"""``medsec serve`` (the guard gateway) and ``medsec audit verify|export`` (its audit log)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medsec.cli._common import print_json, stderr
from medsec.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from medsec.gateway.audit import AuditLog
    from medsec.gateway.config import GatewayConfig

LOOPBACK = ("127.0.0.1", "::1", "localhost")

CONFIG = typer.Option("--config", help="Gateway config file (YAML): keys, limits, audit, upstream.")


def _config(config: Path | None, upstream: str | None, policy: str | None) -> GatewayConfig:
    from medsec.gateway.config import GatewayConfig, UpstreamConfig, load_gateway_config

    if config is None and upstream is None:
        raise typer.BadParameter("give --upstream URL or a --config file that names one")
    base = (
        load_gateway_config(config) if config else GatewayConfig(upstream=UpstreamConfig(url=upstream or ""))
    )
    update: dict[str, object] = {}
    if upstream is not None:
        update["upstream"] = base.upstream.model_copy(update={"url": upstream.rstrip("/")})
    if policy is not None:
        update["policy"] = policy
    return base.model_copy(update=update)


def serve(
    upstream: Annotated[
        str | None, typer.Option(help="The upstream's API root, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    policy: Annotated[
        str | None, typer.Option(help="Guard policy: strict, balanced or a policy file.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8780,
    config: Annotated[Path | None, CONFIG] = None,
) -> None:
    """Serve the guard gateway: an OpenAI-compatible proxy that guards, pseudonymises and audits."""
    from medsec.gateway.app import create_gateway

    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("gateway", "uvicorn") from None
    cfg = _config(config, upstream, policy)
    if cfg.allow_anonymous and host not in LOOPBACK:
        raise ConfigError("allow_anonymous is for loopback trials only; bind 127.0.0.1 or configure keys")
    if not cfg.keys and cfg.keys_file is None and not cfg.allow_anonymous:
        raise ConfigError(
            "no API keys configured: add `keys` or `keys_file` to --config (see docs/gateway.md)"
        )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    gateway_log = logging.getLogger("medsec.gateway")
    gateway_log.addHandler(handler)
    gateway_log.setLevel(cfg.log_level.upper())
    api = create_gateway(cfg)
    stderr.print(
        f"guard gateway on http://{host}:{port}/v1 → {cfg.upstream.url} (Ctrl-C to stop)", highlight=False
    )
    uvicorn.run(api, host=host, port=port, log_level="warning", access_log=False)


audit_app = typer.Typer(help="The gateway's audit log: verify it, export it.", no_args_is_help=True)

URL = typer.Option("--url", help="Audit database URL (default: the config's, else $MEDSEC_HOME/audit.db).")
KEY_ENV = typer.Option("--key-env", help="Environment variable holding the HMAC key.")


def _open(url: str | None, key_env: str | None, config: Path | None) -> AuditLog:
    from medsec.gateway.audit import AuditLog, audit_key
    from medsec.gateway.config import AuditConfig, load_gateway_config

    audit = load_gateway_config(config).audit if config else AuditConfig()
    return AuditLog(
        url or audit.resolved_url(), audit_key(key_env or audit.hmac_key_env), anchor_file=audit.anchor_file
    )


@audit_app.command()
def verify(
    url: Annotated[str | None, URL] = None,
    key_env: Annotated[str | None, KEY_ENV] = None,
    anchor: Annotated[
        Path | None, typer.Option(help="Anchor file of checkpoints kept apart from the log.")
    ] = None,
    config: Annotated[Path | None, CONFIG] = None,
) -> None:
    """Check every record's MAC and the chain, and the tail against head and anchor; exit 1 on tampering."""
    from medsec.gateway.verify import verify as run_verify

    log = _open(url, key_env, config)
    try:
        result = run_verify(log, anchor)
    finally:
        log.close()
    print_json(result.model_dump(mode="json"))
    if not result.ok:
        first = result.problems[0]
        stderr.print(f"audit log FAILS verification at seq {first.seq}: {first.message}", highlight=False)
        raise typer.Exit(1)


@audit_app.command()
def export(
    since: Annotated[
        str | None, typer.Option(help="Only records at or after this ISO-8601 time (UTC).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    url: Annotated[str | None, URL] = None,
    key_env: Annotated[str | None, KEY_ENV] = None,
    config: Annotated[Path | None, CONFIG] = None,
) -> None:
    """Write the audit records as JSON lines (for a SIEM), each with its seq and MAC."""
    log = _open(url, key_env, config)
    try:
        with (
            output.open("w", encoding="utf-8")
            if output
            else open(sys.stdout.fileno(), "w", closefd=False) as fh
        ):
            for line in log.export(since):
                fh.write(line + "\n")
    finally:
        log.close()
