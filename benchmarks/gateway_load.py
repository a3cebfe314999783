"""Benchmark the guard gateway: added latency (p50/p95/p99) and throughput, on loopback only.

One command: ``python benchmarks/gateway_load.py``. A mock upstream with a fixed 20 ms latency
(``_loadgen.py``: a bare asyncio protocol answering one pre-encoded completion) runs in its own process;
the gateway runs as a real ``serve`` process (uvicorn, one worker) in front of it with the ``balanced``
policy (its per-user request budget lifted), an API key and a SQLite audit log. The load driver is this
process: raw HTTP/1.1 keep-alive connections, one request in flight on each (on uvloop when installed);
prompts and the mock's answers vary, so no cache of recent texts in the guard answers for the gateway.
At each concurrency the driver sends the same request straight to the mock and through the gateway; the
added latency is the difference of the percentiles. Each run records the CPU seconds the driver, the
mock and the gateway spent (from ``/proc``), so the reader sees what the gateway had of the machine; the
target (issue 8: at least ``TARGET_RPS`` with added p99 under ``TARGET_ADDED_P99_MS``) is checked per
concurrency. Bounded: at most ``REQUESTS`` requests and ``MAX_S`` seconds per run. Afterwards the audit
log must hold one record per gateway request and verify. Then a fault run: a gateway in front of an
upstream that, by its request counter, answers, fails with 500, times out, resets the connection, or
resets it mid-answer or mid-stream (``FAULTS``); every request must have its audit record and the log
must verify. Writes ``benchmarks/results/gateway_load.json``. ``GATEWAY_PROFILE=path`` also writes a
cProfile of the gateway process there.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.util
import json
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _loadgen  # noqa: E402
from medsec.gateway.audit import AuditLog  # noqa: E402
from medsec.gateway.auth import hash_key  # noqa: E402
from medsec.gateway.verify import verify  # noqa: E402
from medsec.guard.policy import policy_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gateway_load.json"
LATENCY_S = 0.02
CONCURRENCY = (1, 8, 16, 32)
TARGET_RPS, TARGET_ADDED_P99_MS = 500, 20.0
REQUESTS = 2000
MAX_S = 20.0
KEY, AUDIT_KEY = "msk-bench-key", "bench-audit-key-0123456789abcdef"
FAULTS = ("ok", "http_500", "timeout", "reset", "reset_mid_answer")  # by the upstream's request counter
FAULT_REQUESTS, FAULT_CONCURRENCY, FAULT_TIMEOUT_S = 200, 8, 0.5
FAULT_ANSWER = "Acetaminophen is a reasonable choice here; avoid NSAIDs while the creatinine is rising."
PROMPT = (
    "Patient on ceftriaxone and azithromycin for pneumonia; creatinine rose from 1.1 to 1.9 mg/dL. "
    "What analgesic is appropriate now, and at what dose?"
)


BODIES = [
    json.dumps({"model": "mock", "messages": [{"role": "user", "content": f"{PROMPT} {case}"}]}).encode()
    for case in (f"Weight {45 + i % 80} kg, day {1 + i // 80} of therapy." for i in range(2400))
]
"""Requests in turn: a new text each time (the guard keeps a cache of recent texts; real prompts differ)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, upstream_port: int, name: str = "gateway", timeout_s: float = 60) -> Path:
    policy = yaml.safe_load(policy_path("balanced").read_text())
    for step in policy["scanners"]:
        if step["scanner"] == "budget":
            step["args"]["requests_per_minute"] = 0  # the benchmark is one user sending fast
    (tmp / "policy.yaml").write_text(yaml.safe_dump(policy))
    config: dict[str, Any] = {
        "upstream": {"url": f"http://127.0.0.1:{upstream_port}/v1", "retries": 0, "timeout_s": timeout_s},
        "policy": str(tmp / "policy.yaml"),
        "keys": [{"id": "bench", "sha256": hash_key(KEY), "rate": {"per_minute": 1e9, "burst": 100000}}],
        "audit": {"url": f"sqlite:///{tmp / f'{name}.db'}"},
        "log_level": "warning",
    }
    (tmp / f"{name}.yaml").write_text(yaml.safe_dump(config))
    return tmp / f"{name}.yaml"


def start_gateway(config: Path, port: int) -> subprocess.Popen[bytes]:
    code = "import typer; from medsec.cli.gateway import serve; typer.run(serve)"
    if os.environ.get("GATEWAY_PROFILE"):  # a cProfile of the gateway process, written when it stops
        out = os.environ["GATEWAY_PROFILE"]  # uvicorn re-raises SIGTERM after its shutdown: exit cleanly
        exit_on_term = "signal.signal(15, lambda *a: sys.exit(0))"
        code = f"import cProfile, signal, sys; {exit_on_term}; cProfile.run({code!r}, {out!r})"
    cmd = [sys.executable, "-c", code, "--config", str(config), "--port", str(port)]
    proc = subprocess.Popen(cmd, env={**os.environ, "MEDSEC_AUDIT_KEY": AUDIT_KEY}, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the gateway did not start")


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Throughput and latency percentiles of one :func:`_loadgen.drive` run."""
    latencies = run["latencies"]
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": run["errors"],
        "finish_reasons": run["labels"],
        "throughput_rps": round(len(latencies) / run["wall_s"], 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


def _cpu(pids: dict[str, int | None]) -> dict[str, float | None]:
    return {name: _loadgen.cpu_seconds(pid) if pid else None for name, pid in pids.items()}


async def one_run(port: int, path: str, headers: dict[str, str], concurrency: int,
                  pids: dict[str, int | None]) -> dict[str, Any]:  # fmt: skip
    """One bounded run, with the CPU each process spent: seconds, share of the machine, ms per request."""
    raws = [_loadgen.request_bytes(port, path, body, headers) for body in BODIES]
    before, busy = _cpu(pids), _loadgen.machine_busy_seconds()
    run = await _loadgen.drive(port, raws, concurrency, REQUESTS, MAX_S, _loadgen.finish_reason)
    after, busy_after = _cpu(pids), _loadgen.machine_busy_seconds()
    row = summary(run) | {"sent": run["sent"]}
    capacity, n = run["wall_s"] * (os.cpu_count() or 1), max(1, row["requests"])
    spent = {"driver": run["cpu_s"]} | {
        k: (after[k] - b if b is not None and after[k] is not None else None) for k, b in before.items()
    }
    if busy is not None and busy_after is not None:  # whatever else ran on the machine meanwhile
        spent["other_processes"] = max(0.0, busy_after - busy - sum(v for v in spent.values() if v))
    row["cpu"] = {
        name: {"seconds": round(s, 3), "machine_share": round(s / capacity, 3),
               "ms_per_request": round(s / n * 1000, 3)}
        for name, s in spent.items() if s is not None
    }  # fmt: skip
    return row


async def measure(mock_port: int, gateway_port: int, pids: dict[str, int | None]) -> list[dict[str, Any]]:
    rows = []
    auth = {"Authorization": f"Bearer {KEY}"}
    for c in CONCURRENCY:
        direct = await one_run(mock_port, "/v1/chat/completions", {}, c, {"mock": pids["mock"]})
        through = await one_run(gateway_port, "/v1/chat/completions", auth, c, pids)
        added = {
            f"added_{p}_ms": round(through[f"{p}_ms"] - direct[f"{p}_ms"], 2) for p in ("p50", "p95", "p99")
        }
        rows.append({"concurrency": c, "direct": direct, "gateway": through, **added})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _http(status: int, body: bytes, kind: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {len(body)}\r\nconnection: close"
    return head.encode() + b"\r\n\r\n" + body


def _answer(stream: bool) -> bytes:
    if not stream:
        message = {"role": "assistant", "content": FAULT_ANSWER}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return _http(200, json.dumps({"id": "up", "object": "chat.completion", "choices": [choice]}).encode())
    words = FAULT_ANSWER.split(" ")
    deltas = [{"content": " ".join(words[i : i + 3]) + " "} for i in range(0, len(words), 3)]
    events: list[Any] = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return _http(200, sse.encode(), "text/event-stream")


def _reset(writer: asyncio.StreamWriter) -> None:  # a TCP reset (SO_LINGER 0), not a clean close
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def faulty_upstream(served: collections.Counter[str]) -> asyncio.Server:
    """A loopback upstream failing by its request counter (``FAULTS``); one request per connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            head = (await reader.readuntil(b"\r\n\r\n")).lower().split(b"\r\n")
            size = next((int(h.split(b":")[1]) for h in head if h.startswith(b"content-length:")), 0)
            stream = bool(json.loads(await reader.readexactly(size) or b"{}").get("stream"))
            fault = FAULTS[sum(served.values()) % len(FAULTS)]
            served[fault] += 1
            await asyncio.sleep(LATENCY_S)
            if fault == "timeout":
                await asyncio.wait_for(reader.read(), FAULT_TIMEOUT_S * 4)  # until the gateway gives up
            elif fault == "reset":
                _reset(writer)
            elif fault == "http_500":
                writer.write(_http(500, b'{"error": {"type": "server_error", "message": "boom"}}'))
            elif fault == "reset_mid_answer":  # the head and two thirds of the body or stream, then a reset
                writer.write(_answer(stream)[: len(_answer(stream)) * 2 // 3])
                await writer.drain()
                _reset(writer)
            else:
                writer.write(_answer(stream))
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def fault_request(client: httpx.AsyncClient, stream: bool) -> tuple[str, str | None]:
    """Send one request; return its outcome as the client saw it and the completion id, if any."""
    body = {"model": "mock", "messages": [{"role": "user", "content": PROMPT}], "stream": stream}
    async with client.stream("POST", "/chat/completions", json=body) as r:
        raw = (await r.aread()).decode()
    if r.status_code != 200:
        return f"{r.status_code} {json.loads(raw)['error'].get('code')}", None
    if not stream:
        data = json.loads(raw)
        return f"200 {data['choices'][0]['finish_reason']}", data["id"]
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]
    finish = [c["finish_reason"] for e in events for c in e.get("choices", []) if c.get("finish_reason")]
    codes = [e.get("error", {}).get("code") or e.get("medsec", {}).get("reason") for e in events]
    done = "" if raw.rstrip().endswith("data: [DONE]") else " (no [DONE])"
    reason = next((c for c in codes if c), "")
    return f"200 stream {finish[-1] if finish else None} {reason}".rstrip() + done, events[0].get("id")


async def drive_faults(tmp: Path) -> dict[str, Any]:
    """``FAULT_REQUESTS`` requests, every other one streamed, via a gateway before the faulty upstream."""
    served: collections.Counter[str] = collections.Counter()
    upstream = await faulty_upstream(served)
    port = free_port()
    config = write_config(tmp, upstream.sockets[0].getsockname()[1], "faults", FAULT_TIMEOUT_S)
    gateway = await asyncio.to_thread(start_gateway, config, port)
    seen: list[tuple[str, str | None]] = []
    gate = asyncio.Semaphore(FAULT_CONCURRENCY)
    headers, url = {"Authorization": f"Bearer {KEY}"}, f"http://127.0.0.1:{port}/v1"
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def one(i: int) -> None:
            async with gate:
                seen.append(await fault_request(client, stream=i % 2 == 1))

        start = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(FAULT_REQUESTS))), MAX_S)
        finally:
            elapsed = time.perf_counter() - start
            gateway.terminate()
            await asyncio.to_thread(gateway.wait, 30)
            upstream.close()
    saw = collections.Counter(outcome for outcome, _ in seen)
    return {"requests": len(seen), "concurrency": FAULT_CONCURRENCY, "upstream_timeout_s": FAULT_TIMEOUT_S,
            "seconds": round(elapsed, 2), "upstream_served": dict(served),
            "client_saw": dict(sorted(saw.items())), "ids": [i for _, i in seen if i]}  # fmt: skip


def read_audit(db: Path) -> tuple[Any, list[dict[str, Any]]]:
    """The verification result of an audit log and its records (checkpoints left out)."""
    log = AuditLog(f"sqlite:///{db}", AUDIT_KEY.encode())
    try:
        return verify(log), [json.loads(r["body"]) for r in log.rows() if r["kind"] == "record"]
    finally:
        log.close()


def fault_run(tmp: Path) -> dict[str, Any]:
    """Run the faults, then check that every request has its audit record and that the log verifies."""
    run = asyncio.run(drive_faults(tmp))
    check, records = read_audit(tmp / "faults.db")
    audited, ids = {r["request_id"] for r in records}, run.pop("ids")
    by_status = collections.Counter(f"{r['status']} {r['reason'] or r['outcome']}" for r in records)
    matched = sum(i in audited for i in ids)
    run["audit"] = {"records": check.records, "by_status_and_reason": dict(sorted(by_status.items())),
                    "every_request_audited": check.records == run["requests"] and matched == len(ids),
                    "completion_ids_matched": matched, "verifies": check.ok}  # fmt: skip
    return run


def main() -> None:
    load_before = os.getloadavg()
    mock, mock_port = _loadgen.start_mock(LATENCY_S, max_lifetime_s=600)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        port = free_port()
        gateway = start_gateway(write_config(tmp, mock_port), port)
        try:
            pids = {"gateway": gateway.pid, "mock": mock.pid}
            rows = _loadgen.run(measure(mock_port, port, pids))
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            mock.kill()
        check = read_audit(tmp / "gateway.db")[0]
        load_after = os.getloadavg()
        faults = fault_run(tmp)
    sent = sum(r["gateway"]["sent"] for r in rows)
    for r in rows:
        r["direct"].pop("sent"), r["gateway"].pop("sent")
    result = {
        "benchmark": "gateway",
        "upstream_latency_ms": LATENCY_S * 1000,
        "policy": "balanced (budget rate limit lifted)",
        "note": (
            "gateway finish_reasons show whether the guard let the mock's fixed answer through; cpu: "
            "seconds each process spent during the run, its share of the machine (all cores) and ms per "
            "request, for the load driver (this process), the mock upstream, the gateway and all other "
            "processes together (from /proc/stat: the machine is shared)"
        ),
        "bounds": {"requests_per_run": REQUESTS, "max_s_per_run": MAX_S},
        "target": {
            "throughput_rps": TARGET_RPS,
            "added_p99_ms_below": TARGET_ADDED_P99_MS,
            "met_at_concurrency": [
                r["concurrency"]
                for r in rows
                if r["gateway"]["throughput_rps"] >= TARGET_RPS
                and r["added_p99_ms"] < TARGET_ADDED_P99_MS
                and not r["gateway"]["errors"]
            ],
        },  # fmt: skip
        "runs": rows,
        "audit": {"requests_sent": sent, "records": check.records, "verifies": check.ok},
        "fault_run": faults,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "gateway_workers": 1,
            "event_loop": _loadgen.loop_name(),  # the driver's; uvicorn picks uvloop and httptools too
            "gateway_http_parser": "httptools" if importlib.util.find_spec("httptools") else "h11",
            "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "note": "driver, gateway and mock share the machine's cores (see each run's cpu)",
        },  # fmt: skip
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"audit": result["audit"], "fault_run": faults}))


if __name__ == "__main__":
    main()
