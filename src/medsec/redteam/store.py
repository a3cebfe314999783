"""The run store: every attempt committed as it finishes, so a killed scan loses only what was in flight.

SQLite by default (WAL journal), any SQLAlchemy URL otherwise (``postgresql+psycopg://…`` for teams).
Attempts are stored as versioned JSON records; reports are pure functions of what is stored here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from typing import Literal

import sqlalchemy as sa
from pydantic import Field, JsonValue

from medsec.config import medsec_home
from medsec.errors import MedsecError
from medsec.redteam.case import Attempt, Outcome
from medsec.sql import open_engine, shown_url
from medsec.types import Frozen

RunStatus = Literal["running", "finished", "interrupted"]

_meta = sa.MetaData()
runs_table = sa.Table(
    "runs",
    _meta,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("finished_at", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("info", sa.Text, nullable=False),
)
attempts_table = sa.Table(
    "attempts",
    _meta,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("probe", sa.String(128), nullable=False),
    sa.Column("attack", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.Index("attempts_run_seq", "run_id", "seq"),
)


class RunNotFoundError(MedsecError, LookupError):
    """No stored run has the requested id."""


class RunInfo(Frozen):
    """What a run was: its id, when, the specs it ran with, and where its code came from.

    Attributes:
        id: The run id (``YYYYMMDD-HHMMSS-xxxx``).
        created_at: ISO-8601 UTC start time.
        finished_at: ISO-8601 UTC end time, once finished.
        status: ``running``, ``finished`` or ``interrupted``.
        target: The target's Spec, as recorded.
        probes: Probe name → Spec, as recorded.
        detectors: Detector names used.
        seed: The scan's seed.
        versions: medsec, Python and key package versions.
        git_revision: The medsec checkout's revision, when known.
        settings: Other scan settings (suite, concurrency, repeats …).
    """

    schema_version: Literal[1] = 1
    id: str
    created_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    target: dict[str, JsonValue] = Field(default_factory=dict)
    probes: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    detectors: tuple[str, ...] = ()
    seed: int = 0
    versions: dict[str, str] = Field(default_factory=dict)
    git_revision: str | None = None
    settings: dict[str, JsonValue] = Field(default_factory=dict)


def now() -> str:
    """The current UTC time, ISO-8601, to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """A sortable, unique run id."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def default_url() -> str:
    """``sqlite:///$MEDSEC_HOME/runs.db``."""
    return f"sqlite:///{medsec_home() / 'runs.db'}"


class Store:
    """Runs and their attempts in a SQL database.

    Args:
        url: A SQLAlchemy URL; None for the default SQLite file under ``$MEDSEC_HOME``.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self._seq_lock = threading.Lock()
        self._next_seq: dict[str, int] = {}
        self.engine = open_engine(self.url, "run store")
        try:
            _meta.create_all(self.engine)
        except sa.exc.OperationalError as exc:
            raise MedsecError(f"cannot open run store {shown_url(self.url)!r}: {exc.orig}") from None

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def create_run(self, info: RunInfo) -> None:
        """Record a new run."""
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    id=info.id, created_at=info.created_at, status=info.status, info=info.model_dump_json()
                )
            )

    def set_status(self, run_id: str, status: RunStatus) -> None:
        """Mark a run running, finished or interrupted."""
        finished = None if status == "running" else now()
        info = self.run(run_id).model_copy(update={"status": status, "finished_at": finished})
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.id == run_id)
                .values(status=status, finished_at=info.finished_at, info=info.model_dump_json())
            )

    def note_skips(self, run_id: str, skipped: dict[str, str]) -> RunInfo:
        """Record probes that could not run against the target, with their reasons."""
        info = self.run(run_id)
        info = info.model_copy(update={"settings": {**info.settings, "skipped": dict(skipped)}})
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update().where(runs_table.c.id == run_id).values(info=info.model_dump_json())
            )
        return info

    def append(self, run_id: str, attempt: Attempt, *, replace: bool = False) -> None:
        """Store one attempt and commit. Thread-safe; callers may write from worker threads.

        Args:
            run_id: The run.
            attempt: The attempt.
            replace: Delete a stored attempt with the same key first (a retried error).
        """
        with self._seq_lock:
            if run_id not in self._next_seq:
                with self.engine.connect() as conn:
                    last = conn.execute(
                        sa.select(sa.func.max(attempts_table.c.seq)).where(attempts_table.c.run_id == run_id)
                    ).scalar_one()
                self._next_seq[run_id] = -1 if last is None else int(last)
            self._next_seq[run_id] += 1
            seq = self._next_seq[run_id]
        with self.engine.begin() as conn:
            if replace:
                conn.execute(
                    attempts_table.delete().where(
                        (attempts_table.c.run_id == run_id) & (attempts_table.c.key == attempt.key)
                    )
                )
            conn.execute(
                attempts_table.insert().values(
                    run_id=run_id,
                    key=attempt.key,
                    seq=seq,
                    probe=attempt.probe,
                    attack=attempt.attack,
                    outcome=attempt.outcome,
                    record=attempt.model_dump_json(),
                )
            )

    def outcomes(self, run_id: str) -> dict[str, Outcome]:
        """Key → outcome of every stored attempt of a run (what resuming skips)."""
        query = sa.select(attempts_table.c.key, attempts_table.c.outcome).where(
            attempts_table.c.run_id == run_id
        )
        with self.engine.connect() as conn:
            return {key: outcome for key, outcome in conn.execute(query)}

    def attempts(self, run_id: str) -> Iterator[Attempt]:
        """The run's attempts in the order they were stored."""
        self.run(run_id)
        query = (
            sa.select(attempts_table.c.record)
            .where(attempts_table.c.run_id == run_id)
            .order_by(attempts_table.c.seq)
        )
        with self.engine.connect() as conn:
            for (record,) in conn.execute(query):
                yield Attempt.model_validate_json(record)

    def run(self, run_id: str) -> RunInfo:
        """A run's info; ``latest`` names the newest run.

        Raises:
            RunNotFoundError: When there is no such run.
        """
        query = sa.select(runs_table.c.info)
        query = (
            query.order_by(runs_table.c.created_at.desc(), runs_table.c.id.desc()).limit(1)
            if run_id == "latest"
            else query.where(runs_table.c.id == run_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            hint = "no runs stored yet" if run_id == "latest" else "list them with `medsec runs`"
            raise RunNotFoundError(f"no run {run_id!r} in {shown_url(self.url)} ({hint})")
        return RunInfo.model_validate_json(row[0])

    def runs(self) -> list[RunInfo]:
        """Every run, newest first."""
        query = sa.select(runs_table.c.info).order_by(runs_table.c.created_at.desc(), runs_table.c.id.desc())
        with self.engine.connect() as conn:
            return [RunInfo.model_validate_json(info) for (info,) in conn.execute(query)]
