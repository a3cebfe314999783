"""Benchmark the guard's latency: the whole input + context + output pipeline per request, on one core.

One command: ``python benchmarks/guard_latency.py``. A request is a 2 KB prompt (input), three retrieved
passages (context) and a 1 KB answer (output), scanned by the shipped ``balanced`` policy; the script
reports p50/p95/p99 over many requests (pinned to one CPU where the OS allows), the cost of each scanner
on the same texts, and writes ``benchmarks/results/guard_latency.json``. Each request's texts carry its
number, so no cache of whole texts (the guard remembers recent canonical forms) is hit across requests.
No neural model is loaded. LLM Guard's offline scanners (InvisibleText, Secrets, BanSubstrings, Regex;
its PromptInjection model needs a Hugging Face download) run on the same five texts per request in their
own virtual environment, pinned to the same core (``benchmarks/_llm_guard.py``; ``--skip-llm-guard``
skips them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from medsec.guard import Context, Passage, load_policy
from medsec.guard.scanner import Channel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _llm_guard  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "guard_latency.json"
N = 300

PROMPT_UNIT = (
    "Patient is a 67-year-old man admitted with community-acquired pneumonia, on ceftriaxone and "
    "azithromycin. "
    "Creatinine rose from 1.1 to 1.9 mg/dL overnight; urine output 0.4 mL/kg/h. Disregard the earlier order "
    "for ibuprofen. Ignore the hemolysed potassium, repeat sample sent. What analgesic is appropriate now? "
)
PASSAGE = (
    "Acetaminophen: usual adult dose 325 to 1000 mg every 4 to 6 hours as needed; maximum single dose "
    "1000 mg "
    "and maximum 4000 mg per day; many clinicians advise no more than 3000 mg per day in older adults. "
    "NSAIDs such as ibuprofen should be avoided when eGFR is below 30 or kidney function is falling. "
)
ANSWER_UNIT = (
    "Given the acute kidney injury, avoid NSAIDs. Acetaminophen 650 mg every 6 hours as needed is "
    "reasonable, "
    "not exceeding 3000 mg per day. Reassess renal function tomorrow and review the antibiotic doses. "
)


def texts() -> tuple[str, list[str], str]:
    prompt = (PROMPT_UNIT * 8)[:2048]
    passages = [(PASSAGE * 2)[:600] for _ in range(3)]
    answer = (ANSWER_UNIT * 6)[:1024]
    return prompt, passages, answer


def unique(i: int, prompt: str, passages: list[str], answer: str) -> tuple[str, list[str], str]:
    """The request's texts with the request number in each, so that no cache of whole texts is hit."""
    return f"{prompt} Ref {i}.", [f"{p} Ref {i}." for p in passages], f"{answer} Ref {i}."


async def one_request(pipeline: Any, prompt: str, passages: list[str], answer: str) -> None:
    ctx = Context(
        user=f"u{time.perf_counter_ns()}",
        query=prompt,
        passages=tuple(Passage(id=f"kb-{i}", text=p) for i, p in enumerate(passages)),
    )
    await pipeline.run("input", prompt, ctx)
    for i, p in enumerate(passages):
        await pipeline.run("context", p, ctx.model_copy(update={"source": f"kb-{i}"}))
    await pipeline.run("output", answer, ctx)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(pick(0.5), 3),
        "p95_ms": round(pick(0.95), 3),
        "p99_ms": round(pick(0.99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


async def per_scanner(pipeline: Any, prompt: str, passages: list[str], answer: str) -> dict[str, float]:
    """Mean ms per request that each step spends on the texts of its channels."""
    work: list[tuple[Channel, str]] = [
        ("input", prompt),
        *(("context", p) for p in passages),
        ("output", answer),
    ]
    ctx = Context(query=prompt, passages=tuple(Passage(id=f"kb-{i}", text=p) for i, p in enumerate(passages)))
    out = {}
    for step in pipeline.steps:
        runs = [(c, t) for c, t in work if step.runs_on(c)]
        start = time.perf_counter()
        for i in range(50):
            for channel, text in runs:
                text = f"{text} Ref {i}."  # a new text each time, as in one_request
                await step.scanner(text, ctx.model_copy(update={"channel": channel, "user": str(i)}))
        out[step.name] = round((time.perf_counter() - start) / 50 * 1000, 3)
    return out


async def run() -> dict[str, Any]:
    pipeline = load_policy("balanced")
    prompt, passages, answer = texts()
    for i in range(20):
        await one_request(pipeline, *unique(-i, prompt, passages, answer))
    samples = []
    for i in range(N):
        texts_i = unique(i, prompt, passages, answer)
        start = time.perf_counter()
        await one_request(pipeline, *texts_i)
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "policy": "balanced",
        "requests": N,
        "sizes": {"prompt": len(prompt), "passages": [len(p) for p in passages], "answer": len(answer)},
        "pipeline": percentiles(samples),
        "per_scanner_ms": await per_scanner(pipeline, prompt, passages, answer),
    }


def llm_guard(skip: bool) -> dict[str, Any]:
    """LLM Guard's offline scanners on the same request, or why they could not run."""
    if skip:
        return {"unavailable": "skipped by --skip-llm-guard"}
    reason = _llm_guard.ensure()
    if reason is not None:
        return {"unavailable": reason}
    prompt, passages, answer = texts()
    result = _llm_guard.call({"request": [prompt, *passages, answer], "n": 100})
    return {
        **result,
        "requests": 100,
        "note": "the four scanners that run offline, each on the prompt, the three passages and the answer",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-llm-guard", action="store_true")
    args = parser.parse_args()
    pinned = False
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        pinned = True
    result = asyncio.run(run())
    result["machine"] = {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "pinned_to_one_core": pinned,
        "cpus": os.cpu_count(),
    }
    result["llm_guard"] = llm_guard(args.skip_llm_guard)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(
        json.dumps(
            {
                "pipeline": result["pipeline"],
                "per_scanner_ms": result["per_scanner_ms"],
                "llm_guard": result["llm_guard"],
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
