"""A throwaway PostgreSQL server for the tests that need one (the audit log and run store by URL).

The fixture ``postgres_url`` starts a private cluster (``initdb`` into a temporary folder, ``pg_ctl``
on a free loopback port, trust authentication, ``fsync`` off) once per test session and drops it at the
end. It looks for the server binaries on ``PATH`` and under ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package). When they or the ``psycopg`` driver are missing the tests skip, unless
``MEDSEC_REQUIRE_POSTGRES=1`` (set by ``.ci/run`` where the server is installed), which turns the skip into
a failure so that CI cannot go green without running them. PostgreSQL refuses to run as root; as root the
server runs as the ``postgres`` user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("MEDSEC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"MEDSEC_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The base URL (no database name) of a private PostgreSQL server, started for this session."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (the `postgres` extra)")
    bindir = _bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb) found")
        raise AssertionError  # unreachable: both branches above raise
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="medsec-pg-"))
    if as_root:
        if shutil.which("runuser") is None:
            _unavailable("running as root and runuser is missing, so PostgreSQL cannot start")
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "medsec", "--auth=trust", "-E", "UTF8")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"PostgreSQL did not start: {type(exc).__name__}")
    try:
        yield f"postgresql+psycopg://medsec@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's server, for one test."""
    import psycopg
    from psycopg import sql

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{postgres_server}/{name}"
