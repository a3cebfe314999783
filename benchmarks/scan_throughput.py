"""Scan throughput against a 50 ms loopback mock: medsec's engine versus garak, at 1, 16 and 64 in flight.

One command: ``python benchmarks/scan_throughput.py`` (``--quick`` skips garak). It starts a mock
OpenAI-compatible server in its own process (``benchmarks/_mock_openai.py``: 127.0.0.1 only, HTTP/1.1
keep-alive, TCP_NODELAY, every chat completion answered after 50 ms), then at each concurrency:

- **limit**: what the target allows, concurrency ÷ latency;
- **plain clients**: the same requests sent by a bare asyncio-streams client and by a bare
  ``httpx.AsyncClient`` (what this machine can reach with no scanner around the HTTP call);
- **medsec**: ``run_scan`` through the library API with an ``OpenAITarget`` (no retries), the
  ``phi-extraction`` probe over 30 synthetic subjects (333 cases; repeated at higher concurrency so each
  run lasts about 3 s at the limit), the canary detector bound to 330 planted values, and a fresh SQLite
  store per run — so every attempt's commit is inside the measured time. attempts/s = attempts ÷ wall
  time of ``run_scan`` (planning, judging, storing and closing included);
- **garak** 0.17.1 in its own virtual environment (created under ``$MEDSEC_BENCH_CACHE``, default
  ``~/.cache/medsec-bench``, with the CPU torch wheel on disk): ``openai.OpenAICompatible`` pointed at the
  same mock, ``encoding.InjectBase64``, one generation per prompt, ``--parallel_attempts N``.
  attempts/s = completions the mock served ÷ the mock's window from garak's first request to its last
  response (garak's start-up and report writing are left out, which favours garak).

Writes ``benchmarks/results/scan_throughput.json`` and prints a table. When garak cannot install or run,
its entries say why and medsec's numbers are still written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _mock_openai  # noqa: E402 - a sibling module, found through the line above
from medsec._version import __version__  # noqa: E402
from medsec.redteam.case import Canary  # noqa: E402
from medsec.redteam.probe import ScanContext, Subject  # noqa: E402
from medsec.redteam.probes import PROBES  # noqa: E402
from medsec.redteam.scan import ScanConfig, run_scan  # noqa: E402
from medsec.redteam.store import Store  # noqa: E402
from medsec.targets.openai import OpenAITarget  # noqa: E402
from medsec.types import Spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scan_throughput.json"
CACHE = Path(os.environ.get("MEDSEC_BENCH_CACHE", Path.home() / ".cache" / "medsec-bench"))
LATENCY_S = 0.05
CONCURRENCY = (1, 16, 64)
SUBJECTS = 30
PROBE = Spec(name="phi-extraction", args={"subjects": SUBJECTS})
TARGET_SECONDS = 3.0
GARAK_VERSION = "0.17.1"
GARAK_PROBE = "encoding.InjectBase64"
GARAK_PROMPTS = 256  # garak's own default cap on prompts per probe (a quarter with 5 generations at 1)
TORCH_WHEELS = Path("/opt/wheels")
BODY = {
    "model": "mock",
    "messages": [{"role": "user", "content": "What is Jane Doe's date of birth?"}],
    "temperature": 0.0,
    "max_tokens": 512,
}

FIRST = ("Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Emerson", "Sawyer")
LAST = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Castillo", "Brennan", "Novak", "Adeyemi", "Haddad")


# ---------------------------------------------------------------- the scan context (synthetic canaries)


def synthetic_context(count: int = SUBJECTS) -> ScanContext:
    """``count`` protected patients with the eleven identifiers the reference EHR plants for each."""
    subjects, canaries = [], []
    for i in range(count):
        mrn = f"MRN{4_100_000 + i * 7919:07d}"
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}-{chr(65 + i % 26)}"
        values = {
            "name": name,
            "dob": f"{1940 + i}-{1 + i % 12:02d}-{1 + (i * 3) % 28:02d}",
            "address": f"{100 + i * 37} Harbor View Road, Apt {i + 1}",
            "zip": f"{2100 + i * 13:05d}",
            "phone": f"(617) 555-{1000 + i * 97:04d}",
            "email": f"{name.split()[0].lower()}.{i}@example.org",
            "ssn": f"9{i:02d}-{40 + i:02d}-{3000 + i * 61:04d}",
            "mrn": mrn,
            "member_id": f"MBR{880_000_000 + i * 104_729}",
            "nok_name": f"{FIRST[(i + 3) % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}-{chr(65 + i % 26)}",
            "nok_phone": f"(508) 555-{2000 + i * 89:04d}",
        }
        subjects.append(Subject(owner=mrn, name=name, unit="4 West"))
        canaries.extend(Canary(kind=kind, value=value, owner=mrn) for kind, value in values.items())
    return ScanContext(canaries=tuple(canaries), subjects=tuple(subjects))


def write_context(directory: Path) -> Path:
    """Write the synthetic context as the YAML file ``ScanConfig.context`` names."""
    path = directory / "context.yaml"
    data = synthetic_context().model_dump(mode="json", exclude={"seed"})
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the mock's control endpoints


def mock_call(port: int, method: str, path: str) -> dict[str, Any]:
    response = httpx.request(method, f"http://127.0.0.1:{port}{path}", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def repeats_for(concurrency: int, cases: int) -> int:
    """Repeats so a run lasts about ``TARGET_SECONDS`` at the limit (at least one pass)."""
    return max(1, round(TARGET_SECONDS * concurrency / (cases * LATENCY_S)))


# ---------------------------------------------------------------- plain clients (what the machine allows)


async def _raw_asyncio(port: int, concurrency: int, total: int) -> float:
    body = json.dumps(BODY).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


async def _raw_httpx(port: int, concurrency: int, total: int) -> float:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=256)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/v1/", limits=limits, timeout=60
    ) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                response = await client.post("chat/completions", json=BODY)
                response.raise_for_status()
                response.json()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        return total / (time.perf_counter() - start)


# ---------------------------------------------------------------- medsec


async def _medsec_once(port: int, context: Path, db: Path, concurrency: int, repeats: int) -> dict[str, Any]:
    base_url = f"http://127.0.0.1:{port}/v1"
    config = ScanConfig(
        target=Spec(name="openai", args={"base_url": base_url, "model": "mock", "max_retries": 0}),
        probes=(PROBE,),
        concurrency=concurrency,
        repeats=repeats,
        context=str(context),
    )
    store = Store(f"sqlite:///{db}")
    target = OpenAITarget(base_url=base_url, model="mock", max_retries=0)
    try:
        start = time.perf_counter()
        info = await run_scan(config, store, target=target)
        seconds = time.perf_counter() - start
        outcomes = store.outcomes(info.id)
    finally:
        store.close()
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return {"attempts": len(outcomes), "seconds": seconds, "outcomes": counts, "status": info.status}


def run_medsec(port: int, workdir: Path, concurrency: int, repeats: int) -> dict[str, Any]:
    context = workdir / "context.yaml"
    db = workdir / f"runs-{concurrency}.db"
    mock_call(port, "POST", "/_reset")
    done = asyncio.run(_medsec_once(port, context, db, concurrency, repeats))
    served = mock_call(port, "GET", "/_stats")
    return {
        "attempts": done["attempts"],
        "repeats": repeats,
        "seconds": round(done["seconds"], 3),
        "attempts_per_s": round(done["attempts"] / done["seconds"], 1),
        "outcomes": done["outcomes"],
        "max_in_flight_seen_by_mock": served["max_in_flight"],
    }


# ---------------------------------------------------------------- garak


def _torch_wheel() -> Path | None:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheels = sorted(TORCH_WHEELS.glob(f"torch-*+cpu-{tag}-*.whl"))
    return wheels[-1] if wheels else None


def ensure_garak(cache: Path) -> Path:
    """Create garak's own virtual environment under ``cache`` once (CPU torch first); return its python.

    Raises:
        RuntimeError: With the reason garak cannot be installed.
    """
    venv = cache / "garak"
    python = venv / "bin" / "python"
    stamp = venv / ".medsec-installed"
    if stamp.exists():
        return python
    wheel = _torch_wheel()
    if wheel is None:
        raise RuntimeError(f"no CPU torch wheel for this Python under {TORCH_WHEELS} (garak pulls torch)")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    version = wheel.name.split("-")[1]
    constraints = venv / "constraints.txt"
    constraints.write_text(f"torch=={version}\n", encoding="utf-8")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for args in ([str(wheel)], ["-c", str(constraints), f"garak=={GARAK_VERSION}"]):
        done = subprocess.run([*pip, *args], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            errors = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR")] or ["pip failed"]
            raise RuntimeError(f"pip install {args[-1]}: {errors[-1][:300]}")
    stamp.touch()
    return python


def run_garak(python: Path, port: int, workdir: Path, parallel: int, generations: int) -> dict[str, Any]:
    """One garak scan of the mock; rates from the mock's own count and window.

    Args:
        python: garak's interpreter.
        port: The mock's port.
        workdir: Where garak's config, option file and reports go.
        parallel: ``--parallel_attempts``.
        generations: Responses asked per prompt (garak sends them one request each, in turn).
    """
    prompts = GARAK_PROMPTS if parallel > 1 or generations == 1 else GARAK_PROMPTS // 4
    settings = workdir / "garak-config.yaml"
    settings.write_text(yaml.safe_dump({"run": {"soft_probe_prompt_cap": prompts}}), encoding="utf-8")
    options = workdir / "garak-options.json"
    uri = f"http://127.0.0.1:{port}/v1"
    generator = {"uri": uri, "model": "mock", "api_key": "mock", "retry_json": False}
    options.write_text(json.dumps({"openai": {"OpenAICompatible": generator}}), encoding="utf-8")
    home = workdir / "garak-home"
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [
        str(python),
        "-m",
        "garak",
        "--target_type",
        "openai.OpenAICompatible",
        "--target_name",
        "mock",
    ]
    command += ["--config", str(settings), "--generator_option_file", str(options), "--probes", GARAK_PROBE]
    command += ["--generations", str(generations), "--report_prefix", f"bench-{parallel}-{generations}"]
    if parallel > 1:
        command += ["--parallel_attempts", str(parallel)]
    mock_call(port, "POST", "/_reset")
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, cwd=workdir)
    except subprocess.TimeoutExpired:
        return {"unavailable": "garak did not finish within 900 s"}
    wall = time.perf_counter() - start
    served = mock_call(port, "GET", "/_stats")
    requests = served["completions"]
    if done.returncode != 0 or requests != prompts * generations:
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        return {"unavailable": f"garak exited {done.returncode} after {requests} requests: {tail[:300]}"}
    window = served["window_s"]
    return {
        "generations": generations,
        "attempts": prompts,
        "requests": requests,
        "seconds_scanning": round(window, 3),
        "seconds_process": round(wall, 3),
        "attempts_per_s": round(prompts / window, 1),
        "requests_per_s": round(requests / window, 1),
        "max_in_flight_seen_by_mock": served["max_in_flight"],
    }


def garak_level(garak: Path | str | None, port: int, workdir: Path, concurrency: int) -> dict[str, Any]:
    """Run garak at one ``--parallel_attempts``: one generation per prompt, and its default of five."""
    if garak is None:
        return {"unavailable": "skipped (--quick)"}
    if isinstance(garak, str):
        return {"unavailable": garak}
    one = run_garak(garak, port, workdir, concurrency, 1)
    if "unavailable" in one:
        return one
    five = run_garak(garak, port, workdir, concurrency, 5)
    one["efficiency"] = round(one["attempts_per_s"] / (concurrency / LATENCY_S), 3)
    one["default_5_generations"] = five
    return one


# ---------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip garak")
    args = parser.parse_args(argv)

    cases = len(list(PROBES.create(PROBE).cases(synthetic_context())))
    results: dict[str, Any] = {
        "latency_s": LATENCY_S,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "medsec_version": __version__,
        "method": __doc__.split("\n\n", 1)[1].strip(),
        "levels": {},
    }
    process, port = _mock_openai.start(LATENCY_S)
    workdir = Path(tempfile.mkdtemp(prefix="medsec-scan-bench-"))
    try:
        write_context(workdir)
        garak: Path | str | None = None
        if not args.quick:
            try:
                garak = ensure_garak(CACHE)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                garak = f"install failed: {exc}"
        run_medsec(port, workdir, 4, 1)  # warm-up: imports, regex caches, the first connections
        for concurrency in CONCURRENCY:
            repeats = repeats_for(concurrency, cases)
            total = cases * repeats
            limit = concurrency / LATENCY_S
            level: dict[str, Any] = {"limit_attempts_per_s": limit}
            level["plain_asyncio_req_per_s"] = round(asyncio.run(_raw_asyncio(port, concurrency, total)), 1)
            level["plain_httpx_req_per_s"] = round(asyncio.run(_raw_httpx(port, concurrency, total)), 1)
            medsec = run_medsec(port, workdir, concurrency, repeats)
            medsec["efficiency"] = round(medsec["attempts_per_s"] / limit, 3)
            level["medsec"] = medsec
            level["garak"] = garak_level(garak, port, workdir, concurrency)
            garak_rates = level["garak"]
            if "attempts_per_s" in garak_rates:
                level["medsec_over_garak"] = round(
                    medsec["attempts_per_s"] / garak_rates["attempts_per_s"], 2
                )
                five = garak_rates["default_5_generations"]
                if "requests_per_s" in five:
                    ratio = medsec["attempts_per_s"] / five["requests_per_s"]
                    level["medsec_over_garak_requests_5_generations"] = round(ratio, 2)
            results["levels"][str(concurrency)] = level
            _print_row(concurrency, level)
        if isinstance(garak, Path):
            results["garak"] = {"version": GARAK_VERSION, "probe": GARAK_PROBE, "prompts": GARAK_PROMPTS}
    finally:
        with contextlib.suppress(httpx.HTTPError):
            mock_call(port, "POST", "/_shutdown")
        process.join(5)
        if process.is_alive():
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


def _print_row(concurrency: int, level: dict[str, Any]) -> None:
    if concurrency == CONCURRENCY[0]:
        header = (
            f"{'in flight':>9} {'limit':>7} {'asyncio':>8} {'httpx':>8} {'medsec':>8} {'eff':>5} "
            f"{'garak':>8} {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))
    garak = level["garak"].get("attempts_per_s")
    ratio = level.get("medsec_over_garak")
    print(
        f"{concurrency:>9} {level['limit_attempts_per_s']:>7.0f} {level['plain_asyncio_req_per_s']:>8.1f} "
        f"{level['plain_httpx_req_per_s']:>8.1f} {level['medsec']['attempts_per_s']:>8.1f} "
        f"{level['medsec']['efficiency']:>5.2f} {garak if garak is not None else '—':>8} "
        f"{ratio if ratio is not None else '—':>6}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
