"""The gateway's configuration: one YAML file parsed once, at the edge, with unknown keys refused.

Secrets never sit in the file: the upstream's API key and the audit HMAC key are named by environment
variable, and API keys are stored as SHA-256 hashes (``medsec.gateway.auth.hash_key``)::

    upstream: {url: "http://127.0.0.1:8000/v1", model: null, api_key_env: null, timeout_s: 60}
    policy: balanced
    keys_file: keys.yaml          # or inline `keys:`, the same entries
    keys:
      - id: ward-7-app
        sha256: "9f86d081…"       # hash of the bearer key, never the key
        role: nurse
        patients: [MRN0001, MRN0002]
        restore: true             # pseudonyms in answers are restored for this key
        rate: {per_minute: 120, burst: 20}
    limits: {max_body_bytes: 1000000, max_messages: 200, body_timeout_s: 10}
    fail_open: null               # null: the policy's own fail_open
    audit: {url: "sqlite:///.medsec/audit.db", hmac_key_env: MEDSEC_AUDIT_KEY, checkpoint_every: 100}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from medsec.config import load_config, medsec_home, read_yaml, validate_document
from medsec.types import Frozen


class Strict(Frozen):
    """Base of the gateway's config models: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class UpstreamConfig(Strict):
    """Where requests go after the guard passed them.

    Attributes:
        url: The upstream's API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: Model name to request upstream (None: the client's).
        api_key_env: Environment variable holding the upstream's API key (None: send no key).
        timeout_s: Seconds allowed for the upstream to answer (each read while streaming).
        connect_timeout_s: Seconds allowed to connect.
        retries: Retries on connection failures before any byte was received.
        models: Model ids ``/v1/models`` lists (empty: ask the upstream).
    """

    url: str = Field(min_length=1)
    model: str | None = None
    api_key_env: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    retries: int = Field(default=1, ge=0, le=5)
    models: tuple[str, ...] = ()

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class RateConfig(Strict):
    """A token bucket: ``per_minute`` steady rate, ``burst`` requests at once."""

    per_minute: float = Field(default=120.0, gt=0)
    burst: int = Field(default=20, ge=1)


class KeyEntry(Strict):
    """One API key: its hash and the principal it stands for.

    Attributes:
        id: The principal's id, as audit records name it (not PHI: an app or user id).
        sha256: Hex SHA-256 of the bearer key.
        role: The principal's role (``clinician``, ``nurse``, ``patient``, ``visitor``, ``service``…).
        patients: MRNs of the patients the principal is authorised for.
        restore: Whether pseudonyms in answers are turned back into the values the principal sent.
        rate: This key's rate limit (None: the gateway's default).
    """

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@:-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: str = Field(default="clinician", min_length=1)
    patients: tuple[str, ...] = ()
    restore: bool = True
    rate: RateConfig | None = None


class KeysFile(Strict):
    """A separate keys file: ``keys: [...]`` entries only."""

    keys: tuple[KeyEntry, ...] = ()


class LimitsConfig(Strict):
    """Request size and time limits.

    Attributes:
        max_body_bytes: Larger bodies get 413.
        max_messages: Requests with more messages get 413.
        body_timeout_s: A client slower than this to send its body gets 408.
        guard_timeout_s: Longest the guard may take on one text before the request fails (or passes,
            when failing open).
    """

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_messages: int = Field(default=200, ge=1)
    body_timeout_s: float = Field(default=10.0, gt=0)
    guard_timeout_s: float = Field(default=5.0, gt=0)


class StreamConfig(Strict):
    """Windowed checking of streamed answers.

    Attributes:
        holdback: Characters kept back from the client until later text arrives; longer than any
            identifier, so one split across chunks is whole when its window is scanned.
        scan_every: Scan once this many new characters are pending (fewer scans, later release).
    """

    holdback: int = Field(default=64, ge=16)
    scan_every: int = Field(default=48, ge=1)


class AuditConfig(Strict):
    """The audit log.

    Attributes:
        url: SQLAlchemy URL (None: ``sqlite:///$MEDSEC_HOME/audit.db``; ``postgresql+psycopg://…``).
        hmac_key_env: Environment variable holding the HMAC key (at least 32 characters).
        checkpoint_every: Write a signed checkpoint after this many records.
        anchor_file: Also append each checkpoint to this file, kept apart from the database, so that a
            truncated log is caught even when the database was rewritten.
    """

    url: str | None = None
    hmac_key_env: str = "MEDSEC_AUDIT_KEY"
    checkpoint_every: int = Field(default=100, ge=1)
    anchor_file: Path | None = None

    def resolved_url(self) -> str:
        """The URL, with the default filled in."""
        return self.url or f"sqlite:///{medsec_home() / 'audit.db'}"


class GatewayConfig(Strict):
    """The whole gateway.

    Attributes:
        upstream: Where requests go.
        policy: A shipped policy name or a policy file.
        keys: API keys, inline.
        keys_file: API keys, in a separate YAML file (merged with ``keys``).
        allow_anonymous: Accept requests without a key as principal ``anonymous`` (loopback trials only).
        anonymous_role: The anonymous principal's role.
        rate: Default per-key rate limit.
        limits: Size and time limits.
        stream: Windowed checking of streamed answers.
        pseudonymise: Replace PHI bound upstream by vault tokens and restore them in answers.
        fail_open: When the guard itself fails or times out, pass the text (True) or refuse (False);
            None: the policy's ``fail_open``.
        refusal: The text of a blocked answer.
        audit: The audit log.
        log_level: The gateway logger's level.
    """

    upstream: UpstreamConfig
    policy: str = "balanced"
    keys: tuple[KeyEntry, ...] = ()
    keys_file: Path | None = None
    allow_anonymous: bool = False
    anonymous_role: str = "clinician"
    rate: RateConfig = RateConfig()
    limits: LimitsConfig = LimitsConfig()
    stream: StreamConfig = StreamConfig()
    pseudonymise: bool = True
    fail_open: bool | None = None
    refusal: str = "I can't help with that: the request was stopped by the clinical safety guard."
    audit: AuditConfig = AuditConfig()
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def all_keys(self) -> tuple[KeyEntry, ...]:
        """Inline keys and those of ``keys_file`` (read here, once).

        Raises:
            ConfigError: When the keys file is missing or invalid.
        """
        if self.keys_file is None:
            return self.keys
        return (*self.keys, *validate_document(KeysFile, read_yaml(self.keys_file)).keys)


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """Read and validate a gateway config file.

    Raises:
        ConfigError: With ``file:line: field: problem`` lines.
    """
    config = load_config(GatewayConfig, path)
    if config.keys_file is not None and not config.keys_file.is_absolute():
        config = config.model_copy(update={"keys_file": Path(path).parent / config.keys_file})
    return config
