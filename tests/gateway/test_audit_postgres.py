"""The audit log on PostgreSQL: the same chain, the same checks, concurrent writers, kill -9, the gateway.

A private server is started for the session (``tests/postgres.py``); without one the tests skip, or fail
under ``MEDSEC_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from medsec.errors import MedsecError
from medsec.gateway.app import create_gateway
from medsec.gateway.audit import AuditLog, AuditRecord, log_table, utc_now
from medsec.gateway.verify import verify
from tests.gateway.conftest import AUDIT_KEY, NURSE_KEY, FakeUpstream, config, user
from tests.gateway.test_audit import kill_writers

KEY = AUDIT_KEY.encode()


def record(i: int, principal: str = "nurse-app") -> AuditRecord:
    return AuditRecord(
        request_id=f"r{i}",
        time=utc_now(),
        principal=principal,
        policy="balanced",
        policy_version="abc",
        status=200,
        outcome="allowed",
    )


def test_the_chain_verifies_and_catches_edits_deletions_and_truncation(
    postgres_url: str, tmp_path: Path
) -> None:
    log = AuditLog(postgres_url, KEY, checkpoint_every=4, anchor_file=tmp_path / "anchor.jsonl")
    for i in range(10):
        log.append([record(i)])
    log.append([record(i) for i in range(10, 14)])
    clean = verify(log)
    assert clean.ok and clean.records == 14 and clean.checkpoints == 3 and clean.rows == 17
    assert len(list(log.export())) == 14
    with log.engine.begin() as conn:
        conn.execute(log_table.update().where(log_table.c.seq == 6).values(body=log_table.c.body + " "))
    edited = verify(log)
    assert (edited.problems[0].kind, edited.problems[0].seq, edited.last_good) == ("edited", 6, 5)
    with log.engine.begin() as conn:
        conn.execute(log_table.delete().where(log_table.c.seq >= 6))
    truncated = verify(log)
    assert [p.kind for p in truncated.problems][0] == "truncated"
    log.close()


def test_concurrent_writers_share_one_chain(postgres_url: str) -> None:
    """Two writers (two engines, as two gateway processes would have) never fork the chain."""
    logs = [AuditLog(postgres_url, KEY, checkpoint_every=10) for _ in range(2)]
    errors: list[BaseException] = []

    def write(log: AuditLog, who: str) -> None:
        try:
            for i in range(40):
                log.append([record(i, who) for _ in range(1 + i % 3)])
        except BaseException as exc:  # reported below, with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(log, f"p{n}")) for n, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    result = verify(logs[0])
    assert result.ok, result.problems[:3]
    assert result.records == 2 * sum(1 + i % 3 for i in range(40))
    bodies = [json.loads(r["body"]) for r in logs[0].rows() if r["kind"] == "record"]
    assert {b["principal"] for b in bodies} == {"p0", "p1"}
    for log in logs:
        log.close()


def test_a_writer_killed_mid_write_leaves_a_log_that_verifies(postgres_url: str, tmp_path: Path) -> None:
    anchor = tmp_path / "k.jsonl"
    kill_writers(postgres_url, anchor, (0.4, 0.6))
    log = AuditLog(postgres_url, KEY, anchor_file=anchor)
    result = verify(log)
    assert result.ok, result.problems[:3]
    assert result.records > 10 and result.last_good == result.rows
    log.close()


async def test_the_gateway_audits_to_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSEC_AUDIT_KEY", AUDIT_KEY)
    cfg = config(tmp_path, audit={"url": postgres_url, "checkpoint_every": 3})
    upstream = FakeUpstream(answer="Acetaminophen 650 mg every 6 hours is reasonable.")
    app = create_gateway(cfg, transport=httpx.MockTransport(upstream.handle))
    headers = {"Authorization": f"Bearer {NURSE_KEY}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw/v1", headers=headers
    ) as client:
        for _ in range(4):
            r = await client.post("/chat/completions", json=user("What is a safe analgesic dose?"))
            assert r.status_code == 200
        refused = await client.post(
            "/chat/completions", json=user("hi"), headers={"Authorization": "Bearer x"}
        )
        assert refused.status_code == 401
    await app.state.gateway.aclose()
    log = AuditLog(postgres_url, KEY)
    result = verify(log)
    assert result.ok and result.records == 5 and result.checkpoints == 1
    outcomes = [json.loads(r["body"])["outcome"] for r in log.rows() if r["kind"] == "record"]
    assert outcomes.count("allowed") == 4 and outcomes.count("rejected") == 1
    log.close()


def test_an_unreachable_server_is_a_clear_error_that_hides_the_password() -> None:
    url = "postgresql+psycopg://medsec:s3cret-pw@127.0.0.1:1/audit?connect_timeout=2"
    with pytest.raises(MedsecError, match="cannot open audit log") as caught:
        AuditLog(url, KEY)
    assert "s3cret-pw" not in str(caught.value)


def test_rows_are_typed_for_postgres(postgres_url: str) -> None:
    log = AuditLog(postgres_url, KEY)
    log.append([record(1)])
    with log.engine.connect() as conn:
        kinds = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name = 'audit_log'"
                )
            ).all()
        )
    assert kinds["seq"] == "bigint" and kinds["body"] == "text"
    log.close()
