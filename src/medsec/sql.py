"""Opening the SQL databases medsec keeps (the run store, the audit log): SQLite by default, any URL.

SQLite files get their folder created and run in WAL mode with ``synchronous=NORMAL`` (each commit
survives a killed process; a power cut may lose the last ones) and a busy timeout, so one writer and
many readers share a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from medsec.errors import MedsecError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def shown_url(url: str) -> str:
    """``url`` as errors and logs may show it: its password replaced by ``***``."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "<a malformed database URL>"


def open_engine(url: str, what: str) -> sa.Engine:
    """A SQLAlchemy engine for ``url``; ``what`` names the database in errors (``run store``).

    Raises:
        MedsecError: When the URL is malformed or its driver is not installed.
    """
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(url)
    except sa.exc.ArgumentError:  # its message quotes the URL, password and all
        raise MedsecError(
            f"cannot open {what}: {shown_url(url)!r} is not a database URL"
            " (sqlite:///path/to/file.db or postgresql+psycopg://user@host/db)"
        ) from None
    except ImportError as exc:
        raise MedsecError(f"cannot open {what} {shown_url(url)!r}: driver not installed ({exc})") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine
