"""LLM Guard's offline scanners, run side by side with medsec's guard (helper for the guard benchmarks).

LLM Guard (``llm-guard==0.3.16``) is never a dependency of medsec: :func:`ensure` creates its own virtual
environment under ``~/.cache/medsec-bench/llm-guard-venv`` (``$MEDSEC_BENCH_CACHE`` overrides the folder),
installing the CPU build of torch first (from the wheel the machine keeps on disk when there is one, so
pip does not pull the CUDA build) and then llm-guard with ``torch`` pinned by a constraints file.

Only the scanners that work without a Hugging Face download run: ``InvisibleText``, ``Secrets``,
``BanSubstrings`` and ``Regex``. Those last two ship no injection lists, so they get the textbook phrases
and patterns below (written by the medsec developers); ``PromptInjection`` (a DeBERTa model) cannot load
offline. This file is also the worker: the LLM Guard interpreter runs it as a script, reading a JSON
request on stdin and writing a JSON answer on stdout (LLM Guard's own logs go to stderr).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VERSION = "0.3.16"
TORCH_WHEEL = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
SCANNERS = ("InvisibleText", "Secrets", "BanSubstrings", "Regex")
PHRASES = [
    "ignore previous instructions",
    "ignore all previous instructions",
    "ignore the above",
    "disregard previous instructions",
    "forget your instructions",
    "you are now",
    "developer mode",
    "do anything now",
    "jailbreak",
    "system prompt",
    "reveal the password",
    "new instructions",
]
PATTERNS = [
    r"(?i)\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|rules|prompt)\b",
    r"(?i)\b(?:password|secret word|system prompt)\b",
    r"(?i)<\|im_start\|>|\[/?INST\]|<</?SYS>>",
]


def cache_dir() -> Path:
    return Path(os.environ.get("MEDSEC_BENCH_CACHE", Path.home() / ".cache" / "medsec-bench"))


def python() -> Path:
    return cache_dir() / "llm-guard-venv" / "bin" / "python"


def ensure() -> str | None:
    """Create LLM Guard's virtual environment if needed; None when ready, else why it is unavailable."""
    exe = python()
    check = [str(exe), "-c", "import llm_guard.input_scanners"]
    if exe.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    venv = exe.parents[1]
    log = cache_dir() / "llm-guard-install.log"
    cache_dir().mkdir(parents=True, exist_ok=True)
    constraints = cache_dir() / "constraints.txt"
    constraints.write_text("torch==2.13.0+cpu\n" if TORCH_WHEEL.exists() else "", encoding="utf-8")
    steps = [[sys.executable, "-m", "venv", str(venv)]]
    if TORCH_WHEEL.exists():
        steps.append([str(exe), "-m", "pip", "install", "-q", str(TORCH_WHEEL)])
    steps.append([str(exe), "-m", "pip", "install", "-q", "-c", str(constraints), f"llm-guard=={VERSION}"])
    with log.open("w", encoding="utf-8") as out:
        for step in steps:
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                tail = log.read_text(encoding="utf-8").strip().splitlines()[-3:]
                return f"install failed ({' '.join(step[-3:])}): {' | '.join(tail)}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return "llm-guard installed but does not import"
    return None


def call(request: dict[str, Any]) -> dict[str, Any]:
    """Run the worker in LLM Guard's interpreter on one request (see :func:`worker`)."""
    done = subprocess.run(
        [str(python()), __file__],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TRANSFORMERS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"},
    )
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _scanners() -> dict[str, Any]:
    from llm_guard.input_scanners import BanSubstrings, InvisibleText, Regex, Secrets

    return {
        "InvisibleText": InvisibleText(),
        "Secrets": Secrets(),
        "BanSubstrings": BanSubstrings(substrings=PHRASES, match_type="str", case_sensitive=False),
        "Regex": Regex(patterns=PATTERNS, is_blocked=True),
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def worker() -> None:
    """``{"texts": [...]}`` → flags per scanner; ``{"request": [...], "n": N}`` → latency per request."""
    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.ERROR, force=True)
    real_stdout, sys.stdout = sys.stdout, sys.stderr  # LLM Guard logs to stdout: keep it for the answer
    try:
        import structlog

        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    except ImportError:
        pass
    request = json.loads(sys.stdin.read())
    scanners = _scanners()
    answer: dict[str, Any] = {"version": VERSION, "scanners": list(scanners)}
    if "texts" in request:
        flags = {name: [not s.scan(t)[1] for t in request["texts"]] for name, s in scanners.items()}
        answer["flags"] = flags
    else:
        texts, samples = request["request"], []
        per = dict.fromkeys(scanners, 0.0)
        for i in range(request["n"] + 20):
            start = time.perf_counter()
            for name, scanner in scanners.items():
                t0 = time.perf_counter()
                for text in texts:
                    scanner.scan(text)
                per[name] += (time.perf_counter() - t0) * 1000 if i >= 20 else 0.0
            if i >= 20:
                samples.append((time.perf_counter() - start) * 1000)
        answer["pipeline"] = _percentiles(samples)
        answer["per_scanner_ms"] = {k: round(v / request["n"], 3) for k, v in per.items()}
    real_stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    worker()
