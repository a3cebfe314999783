"""The audit log: verifies clean, catches edits, deletions, reordering and truncation, survives kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from medsec.cli.gateway import audit_app
from medsec.gateway.audit import AuditLog, AuditRecord, head_table, log_table, utc_now
from medsec.gateway.verify import verify
from tests.gateway.conftest import AUDIT_KEY

KEY = AUDIT_KEY.encode()


def record(i: int) -> AuditRecord:
    return AuditRecord(
        request_id=f"r{i}",
        time=utc_now(),
        principal="nurse-app",
        policy="balanced",
        policy_version="abc",
        status=200,
        outcome="allowed",
    )


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    log = AuditLog(
        f"sqlite:///{tmp_path / 'a.db'}", KEY, checkpoint_every=4, anchor_file=tmp_path / "anchor.jsonl"
    )
    for i in range(10):
        log.append([record(i)])
    log.append([record(i) for i in range(10, 14)])
    return log


def sql(log: AuditLog, statement: sa.Executable) -> None:
    with log.engine.begin() as conn:
        conn.execute(statement)


def test_a_clean_log_verifies(log: AuditLog) -> None:
    result = verify(log)
    assert (
        result.ok
        and result.records == 14
        and result.checkpoints == 3
        and result.last_good == result.rows == 17
    )


def test_an_edit_is_found_where_it_is(log: AuditLog) -> None:
    sql(log, log_table.update().where(log_table.c.seq == 6).values(body=log_table.c.body.op("||")(" ")))
    result = verify(log)
    assert not result.ok and (result.problems[0].kind, result.problems[0].seq) == ("edited", 6)
    assert result.last_good == 5


def test_a_deletion_is_found(log: AuditLog) -> None:
    sql(log, log_table.delete().where(log_table.c.seq == 7))
    first = verify(log).problems[0]
    assert first.kind == "gap" and first.seq == 8 and "missing" in first.message


def test_reordering_is_found(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        a, b = (conn.execute(sa.select(log_table).where(log_table.c.seq == s)).one()._mapping for s in (2, 3))
        for src, dst in ((a, 3), (b, 2)):
            values = {k: src[k] for k in ("kind", "time", "body", "prev", "mac")}
            conn.execute(log_table.update().where(log_table.c.seq == dst).values(**values))
    first = verify(log).problems[0]
    assert first.seq == 2 and first.kind in ("edited", "chain")


def test_truncation_is_found_by_the_head(log: AuditLog) -> None:
    sql(log, log_table.delete().where(log_table.c.seq > 12))
    result = verify(log)
    assert not result.ok and result.problems[0].kind == "truncated" and result.last_good == 12


def test_truncation_with_a_rewritten_head_is_found_by_the_anchor(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(log_table.delete().where(log_table.c.seq > 9))
        mac = conn.execute(sa.select(log_table.c.mac).where(log_table.c.seq == 9)).scalar_one()
        conn.execute(head_table.update().values(seq=9, mac=mac))
    result = verify(log)
    assert [p.kind for p in result.problems] == ["truncated"] and "anchor" in result.problems[0].message


def test_a_torn_anchor_line_is_a_note_not_a_failure(log: AuditLog, tmp_path: Path) -> None:
    with (tmp_path / "anchor.jsonl").open("a") as fh:
        fh.write('{"seq": 99, "ma')
    result = verify(log)
    assert result.ok and "incomplete" in result.notes[0]


def test_a_wrong_key_fails_everywhere(log: AuditLog, tmp_path: Path) -> None:
    other = AuditLog(log.url, b"another-key-0123456789", anchor_file=tmp_path / "anchor.jsonl")
    assert verify(other).problems[0].seq == 1


def test_export_writes_records_since_a_time(log: AuditLog) -> None:
    lines = [json.loads(line) for line in log.export()]
    assert len(lines) == 14 and {"seq", "mac", "prev", "principal", "verdicts"} <= set(lines[0])
    assert list(log.export(since="2999-01-01")) == []


def test_cli_verify_and_export(log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSEC_AUDIT_KEY", AUDIT_KEY)
    runner = CliRunner()
    args = ["--url", log.url, "--anchor", str(tmp_path / "anchor.jsonl")]
    ok = runner.invoke(audit_app, ["verify", *args])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"]
    out = tmp_path / "export.jsonl"
    assert runner.invoke(audit_app, ["export", "--url", log.url, "-o", str(out)]).exit_code == 0
    assert len(out.read_text().splitlines()) == 14
    sql(log, log_table.update().where(log_table.c.seq == 3).values(time="2000-01-01T00:00:00Z"))
    bad = runner.invoke(audit_app, ["verify", *args])
    assert bad.exit_code == 1 and "seq 3" in bad.output


WRITER = """
import sys
from medsec.gateway.audit import AuditLog, AuditRecord, utc_now
from pathlib import Path
log = AuditLog(sys.argv[1], sys.argv[2].encode(), checkpoint_every=7, anchor_file=Path(sys.argv[3]))
print("ready", flush=True)
i = 0
while True:
    batch = [AuditRecord(request_id=f"r{i}-{j}", time=utc_now(), principal="p", policy="balanced",
                         policy_version="v", status=200, outcome="allowed") for j in range(1 + i % 5)]
    log.append(batch)
    i += 1
"""


def kill_writers(url: str, anchor: Path, delays: tuple[float, ...]) -> None:
    """Start a writer process per delay, let it append for that long, then SIGKILL it mid-write.

    Each writer continues the chain the one before it left.
    """
    for delay in delays:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, AUDIT_KEY, str(anchor)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()


def test_a_writer_killed_mid_write_leaves_a_log_that_verifies(tmp_path: Path) -> None:
    url, anchor = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k.jsonl"
    kill_writers(url, anchor, (0.3, 0.47, 0.64))  # three kills, each at a different point
    log = AuditLog(url, KEY, anchor_file=anchor)
    result = verify(log)
    assert result.ok, result.problems[:3]
    assert result.records > 20 and result.last_good == result.rows


BOUNDED_WRITER = """
import sys
from medsec.gateway.audit import AuditLog, AuditRecord, utc_now
log = AuditLog(sys.argv[1], sys.argv[2].encode(), checkpoint_every=5)
for i in range(300):
    log.append([AuditRecord(request_id=f"{sys.argv[3]}-{i}-{j}", time=utc_now(), principal="p",
                            policy="balanced", policy_version="v", status=200, outcome="allowed")
                for j in range(1 + i % 3)])
log.close()
"""


def test_writer_processes_share_one_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"  # as gateway worker processes would, each with its connection
    AuditLog(url, KEY).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", BOUNDED_WRITER, url, AUDIT_KEY, str(n)], env=env)
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    log = AuditLog(url, KEY)
    result = verify(log)
    log.close()
    assert result.ok, result.problems[:3]
    assert result.records == 3 * sum(1 + i % 3 for i in range(300))
