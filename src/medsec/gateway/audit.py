"""The audit log: one append-only, hash-chained, HMAC-signed record per request; never raw text.

Each row's ``mac`` is HMAC-SHA256, under a key from the environment, of its sequence number, kind, time,
the previous row's ``mac`` and its JSON body, so editing, deleting, inserting or reordering rows breaks the
chain where it happened. Every ``checkpoint_every`` records a signed checkpoint row is chained in too and,
when an anchor file is configured, its ``seq`` and ``mac`` are appended there: kept apart from the
database, the anchor catches a truncated tail that the chain alone cannot see. Writes are transactions
(SQLite WAL by default, PostgreSQL by URL), so a process killed mid-write leaves whole rows only.
Verification lives in :mod:`medsec.gateway.verify`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.pool import PoolProxiedConnection

from medsec.config import secret_from_env
from medsec.errors import ConfigError, MedsecError
from medsec.sql import open_engine, shown_url
from medsec.types import Frozen

GENESIS = "0" * 64
"""The ``prev`` of the first row."""

_meta = sa.MetaData()
log_table = sa.Table(
    "audit_log",
    _meta,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("time", sa.String(32), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("prev", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
)
head_table = sa.Table(
    "audit_head",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
)


_COLUMNS = ("seq", "kind", "time", "body", "prev", "mac")
_HEAD = "SELECT seq, mac FROM audit_head WHERE id = 1"
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_SET_HEAD = "UPDATE audit_head SET seq = ?, mac = ? WHERE id = 1"
"""SQLite statements of :meth:`AuditLog.append` (on the driver's connection; see ``_append_sqlite``)."""

Outcome = Literal["allowed", "flagged", "blocked", "rejected", "error"]
"""How a request ended, as audit records and metrics name it."""


class AuditFinding(Frozen):
    """One finding as the audit keeps it: where and what, never the text or a free-text detail."""

    scanner: str
    label: str
    score: float
    start: int | None = None
    end: int | None = None


class AuditVerdict(Frozen):
    """One decision of the guard: channel, action, findings (offsets into the text it scanned)."""

    channel: str
    action: str
    findings: tuple[AuditFinding, ...] = ()


class AuditRecord(Frozen):
    """What is kept about one request.

    Attributes:
        schema_version: Format version.
        request_id: The completion id the response carried (its ``id``), or ``rejected-…`` for requests
            refused before an exchange began (bad key, rate limit, malformed body).
        time: ISO-8601 UTC time the request arrived, to the millisecond.
        principal: The API key's principal id (``-`` when authentication failed).
        role: The principal's role.
        route: The endpoint.
        policy: The policy name.
        policy_version: SHA-256 prefix of the policy file.
        status: The HTTP status returned.
        outcome: ``allowed``, ``flagged``, ``blocked``, ``rejected`` (auth, limits, bad input) or ``error``.
        reason: The reason code of a block, rejection or error.
        stream: Whether the answer was streamed.
        verdicts: The guard's decisions, in order.
        prompt_hmac: Keyed hash of the request's messages (comparable, not reversible).
        answer_hmac: Keyed hash of the answer as returned.
        latency_ms: Milliseconds from request to last byte.
        http_request_id: The ``X-Request-Id`` the response carried: the client's when it sent a sane one
            (1–128 of ``A-Z a-z 0-9 . _ : / + = -``), else one the gateway made.
    """

    schema_version: Literal[1] = 1
    request_id: str
    time: str
    principal: str
    role: str = "-"
    route: str = "/v1/chat/completions"
    policy: str
    policy_version: str
    status: int
    outcome: Outcome
    reason: str | None = None
    stream: bool = False
    verdicts: tuple[AuditVerdict, ...] = ()
    prompt_hmac: str | None = None
    answer_hmac: str | None = None
    latency_ms: float = Field(default=0.0, ge=0.0)
    http_request_id: str | None = None


def utc_now() -> str:
    """The current UTC time, ISO-8601, to the millisecond."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def row_mac(key: bytes, seq: int, kind: str, time: str, prev: str, body: str) -> str:
    """The MAC of one row: every column but the MAC itself."""
    message = f"{seq}\x1f{kind}\x1f{time}\x1f{prev}\x1f{body}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def audit_key(env: str) -> bytes:
    """The HMAC key from the environment variable ``env``.

    Raises:
        ConfigError: When unset or shorter than 16 characters.
    """
    value = secret_from_env(env)
    if len(value) < 16:
        raise ConfigError(f"environment variable {env} must hold at least 16 characters (a random key)")
    return value.encode()


def content_hmac(key: bytes, text: str) -> str:
    """A keyed hash of request or answer text: equal texts match, guessing short PHI needs the key."""
    return hmac.new(key, b"content\x1f" + text.encode(), hashlib.sha256).hexdigest()


class AuditLog:
    """The audit log in a SQL database: append records, export them, and read rows for verification.

    Args:
        url: A SQLAlchemy URL.
        key: The HMAC key.
        checkpoint_every: Chain in a signed checkpoint after this many records.
        anchor_file: Where checkpoints are also appended (None: nowhere else).

    Raises:
        MedsecError: When the database cannot be opened.
    """

    def __init__(
        self, url: str, key: bytes, checkpoint_every: int = 100, anchor_file: Path | None = None
    ) -> None:
        self.url, self.key = url, key
        self.checkpoint_every, self.anchor_file = checkpoint_every, anchor_file
        self.engine = open_engine(url, "audit log")
        self._lock = threading.Lock()
        self._raw: PoolProxiedConnection | None = None
        try:
            _meta.create_all(self.engine)
            with self.engine.begin() as conn:
                if conn.execute(sa.select(head_table.c.id)).first() is None:
                    conn.execute(head_table.insert().values(id=1, seq=0, mac=GENESIS))
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise MedsecError(f"cannot open audit log {shown_url(url)!r}: {type(exc).__name__}") from None

    def close(self) -> None:
        """Release the database connections."""
        with self._lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None
        self.engine.dispose()

    def append(self, records: Sequence[AuditRecord]) -> int:
        """Append records (and any checkpoint due) in one transaction; return the last row's seq.

        The write lock is taken before the previous MAC is read, so concurrent writers (threads or
        processes) cannot fork the chain: SQLite opens the transaction with ``BEGIN IMMEDIATE``, other
        databases update the head row first (a row lock in PostgreSQL).
        """
        if self.engine.dialect.name == "sqlite":
            seq, anchors = self._append_sqlite(records)
        else:
            with self.engine.begin() as conn:
                conn.execute(head_table.update().where(head_table.c.id == 1).values(seq=head_table.c.seq))
                seq, prev = conn.execute(sa.select(head_table.c.seq, head_table.c.mac)).one()
                rows, anchors, seq, prev = self._chain(records, seq, prev)
                if rows:
                    conn.execute(log_table.insert(), rows)
                    conn.execute(head_table.update().where(head_table.c.id == 1).values(seq=seq, mac=prev))
        self._anchor(anchors)
        return int(seq)

    def _append_sqlite(self, records: Sequence[AuditRecord]) -> tuple[int, list[dict[str, Any]]]:
        # The same transaction on the driver's connection, kept open: SQLAlchemy's per-transaction work
        # (pool checkout, four statements built and run) cost ten times SQLite's own.
        with self._lock:
            if self._raw is None:
                self._raw = self.engine.raw_connection()
            db = cast(sqlite3.Connection, self._raw.driver_connection)
            try:
                db.execute("BEGIN IMMEDIATE")
                seq, prev = db.execute(_HEAD).fetchone()
                rows, anchors, seq, prev = self._chain(records, seq, prev)
                if rows:
                    db.executemany(_INSERT, [tuple(r[c] for c in _COLUMNS) for r in rows])
                    db.execute(_SET_HEAD, (seq, prev))
                db.commit()
            except BaseException:
                self._raw.invalidate()  # rolls back and drops the connection; the next append opens one
                self._raw = None
                raise
        return int(seq), anchors

    def _chain(
        self, records: Sequence[AuditRecord], seq: int, prev: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, str]:
        """The rows that chain ``records`` (and any checkpoint due) after the head; anchors; new head."""
        rows: list[dict[str, Any]] = []
        anchors: list[dict[str, Any]] = []
        for record in records:
            seq += 1
            rows.append(self._row(seq, "record", record.time, record.model_dump_json(), prev))
            prev = rows[-1]["mac"]
            if self._records_before(seq) % self.checkpoint_every == 0:
                seq += 1
                body = json.dumps({"upto": seq - 1, "head": prev, "time": utc_now()})
                rows.append(self._row(seq, "checkpoint", utc_now(), body, prev))
                prev = rows[-1]["mac"]
                anchors.append({"seq": seq, "mac": prev})
        return rows, anchors, seq, prev

    def _records_before(self, seq: int) -> int:
        # rows are records with a checkpoint after every `checkpoint_every`: seq counts both kinds
        return seq - (seq - 1) // (self.checkpoint_every + 1)

    def _row(self, seq: int, kind: str, time: str, body: str, prev: str) -> dict[str, Any]:
        mac = row_mac(self.key, seq, kind, time, prev, body)
        return {"seq": seq, "kind": kind, "time": time, "body": body, "prev": prev, "mac": mac}

    def _anchor(self, anchors: list[dict[str, Any]]) -> None:
        if not anchors or self.anchor_file is None:
            return
        self.anchor_file.parent.mkdir(parents=True, exist_ok=True)
        with self.anchor_file.open("a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(a) + "\n" for a in anchors))
            fh.flush()
            os.fsync(fh.fileno())

    def head(self) -> tuple[int, str]:
        """The head row: the seq and MAC the writer last committed."""
        with self.engine.connect() as conn:
            seq, mac = conn.execute(sa.select(head_table.c.seq, head_table.c.mac)).one()
        return int(seq), str(mac)

    def rows(self, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Every row in seq order (from the first with ``time >= since`` when given)."""
        query = sa.select(log_table).order_by(log_table.c.seq)
        if since is not None:
            query = query.where(log_table.c.time >= since)
        with self.engine.connect() as conn:
            for row in conn.execute(query.execution_options(yield_per=500)):
                yield dict(row._mapping)

    def export(self, since: str | None = None) -> Iterator[str]:
        """JSON lines for a SIEM: each record's fields plus ``seq``, ``prev`` and ``mac``."""
        for row in self.rows(since):
            if row["kind"] != "record":
                continue
            body = json.loads(row["body"])
            yield json.dumps({"seq": row["seq"], **body, "prev": row["prev"], "mac": row["mac"]})
