"""Benchmark the guard gateway: added latency (p50/p95/p99) and throughput, on loopback only.

One command: ``python benchmarks/gateway_load.py``. A mock upstream with a fixed 20 ms latency
(``_mock_openai.py``) runs in its own process; the gateway runs as a real ``serve`` process (uvicorn, one
worker) in front of it with the ``balanced`` policy (its per-user request budget lifted), an API key and
a SQLite audit log. At each concurrency the same client sends the same request straight to the mock and
through the gateway; the added latency is the difference of the percentiles. Bounded: at most
``REQUESTS`` requests and ``MAX_S`` seconds per run. Afterwards the audit log must hold one record per
gateway request and verify. Writes ``benchmarks/results/gateway_load.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _mock_openai  # noqa: E402
from medsec.gateway.audit import AuditLog  # noqa: E402
from medsec.gateway.auth import hash_key  # noqa: E402
from medsec.gateway.verify import verify  # noqa: E402
from medsec.guard.policy import policy_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gateway_load.json"
LATENCY_S = 0.02
CONCURRENCY = (1, 8, 32)
REQUESTS = 600
MAX_S = 20.0
KEY, AUDIT_KEY = "msk-bench-key", "bench-audit-key-0123456789abcdef"
PROMPT = (
    "Patient on ceftriaxone and azithromycin for pneumonia; creatinine rose from 1.1 to 1.9 mg/dL. "
    "What analgesic is appropriate now, and at what dose?"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, upstream_port: int) -> Path:
    policy = yaml.safe_load(policy_path("balanced").read_text())
    for step in policy["scanners"]:
        if step["scanner"] == "budget":
            step["args"]["requests_per_minute"] = 0  # the benchmark is one user sending fast
    (tmp / "policy.yaml").write_text(yaml.safe_dump(policy))
    config = {
        "upstream": {"url": f"http://127.0.0.1:{upstream_port}/v1", "retries": 0},
        "policy": str(tmp / "policy.yaml"),
        "keys": [{"id": "bench", "sha256": hash_key(KEY), "rate": {"per_minute": 1e9, "burst": 100000}}],
        "audit": {"url": f"sqlite:///{tmp / 'audit.db'}"},
        "log_level": "warning",
    }
    (tmp / "gateway.yaml").write_text(yaml.safe_dump(config))
    return tmp / "gateway.yaml"


def start_gateway(config: Path, port: int) -> subprocess.Popen[bytes]:
    code = "import typer; from medsec.cli.gateway import serve; typer.run(serve)"
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


async def drive(url: str, concurrency: int, headers: dict[str, str]) -> dict[str, Any]:
    body = {"model": "mock", "messages": [{"role": "user", "content": PROMPT}]}
    latencies: list[float] = []
    errors = 0
    finishes: dict[str, int] = {}
    deadline = time.perf_counter() + MAX_S
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:
        remaining = REQUESTS

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                start = time.perf_counter()
                r = await client.post("/chat/completions", json=body)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200
                if r.status_code == 200:
                    finish = r.json()["choices"][0]["finish_reason"]
                    finishes[finish] = finishes.get(finish, 0) + 1

        await client.post("/chat/completions", json=body)  # warm the connection and the guard
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "finish_reasons": finishes,
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


async def measure(mock_url: str, gateway_url: str) -> list[dict[str, Any]]:
    rows = []
    for c in CONCURRENCY:
        direct = await drive(mock_url, c, {})
        through = await drive(gateway_url, c, {"Authorization": f"Bearer {KEY}"})
        added = {
            f"added_{p}_ms": round(through[f"{p}_ms"] - direct[f"{p}_ms"], 2) for p in ("p50", "p95", "p99")
        }
        rows.append({"concurrency": c, "direct": direct, "gateway": through, **added})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    mock, mock_port = _mock_openai.start(latency_s=LATENCY_S, max_lifetime_s=600)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        port = free_port()
        gateway = start_gateway(write_config(tmp, mock_port), port)
        try:
            rows = asyncio.run(measure(f"http://127.0.0.1:{mock_port}/v1", f"http://127.0.0.1:{port}/v1"))
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            mock.kill()
        log = AuditLog(f"sqlite:///{tmp / 'audit.db'}", AUDIT_KEY.encode())
        check = verify(log)
        log.close()
    sent = sum(r["gateway"]["requests"] + 1 for r in rows)
    result = {
        "benchmark": "gateway",
        "upstream_latency_ms": LATENCY_S * 1000,
        "policy": "balanced (budget rate limit lifted)",
        "note": (
            "the shipped injection classifier flags the mock's fixed answer on the output channel, so "
            "gateway answers end content_filter after the full path: input scan, upstream call, output scan"
        ),
        "bounds": {"requests_per_run": REQUESTS, "max_s_per_run": MAX_S},
        "runs": rows,
        "audit": {"requests_sent": sent, "records": check.records, "verifies": check.ok},
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "gateway_workers": 1,
            "note": "driver, gateway and mock share the machine's cores",
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["audit"]))


if __name__ == "__main__":
    main()
