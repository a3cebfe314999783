"""Benchmark what the defenses of the reference assistant buy and cost, on the embedded SmolLM2.

One command: ``python benchmarks/efficacy.py``. It evaluates the reference clinical assistant three ways
— ``naive`` (the typical unprotected build), ``hardened`` (authorisation in tools, minimum-necessary
context) and ``hardened`` behind the ``balanced`` guard policy — on the same attack suite and the same
benign questions (medsec's own clinical questions plus seeded samples of MedQA, PubMedQA and MedQuAD read
from ``../shared/data/benign``), then writes ``benchmarks/results/efficacy.json`` and
``docs/results.md``.

Bounded by default (smoke suite, 12 of the 34 clinical questions and 4 per public set: about 20 minutes
on a busy 2-core machine where the model takes 1-10 s per call). Bigger: ``--suite standard
--clinical-n 0 --benign-n 50 --layers`` (each layer of
the policy alone as well; hours on CPU). Every configuration is a stored run; ``--resume`` reuses or
finishes the runs of an interrupted invocation instead of starting anew.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from medsec.config import medsec_home
from medsec.efficacy import EfficacyConfig, EfficacyResult, assess, evaluate_defenses
from medsec.efficacy.assess import Arm
from medsec.efficacy.layers import Layer
from medsec.efficacy.render import render_markdown
from medsec.redteam.store import Store, now
from medsec.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "efficacy.json"
GUARD_LATENCY = ROOT / "benchmarks" / "results" / "guard_latency.json"
DOC = ROOT / "docs" / "results.md"
DATA = ROOT.parent / "shared" / "data" / "benign"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="smoke", help="attack suite (smoke, standard, full)")
    parser.add_argument("--benign-n", type=int, default=4, help="questions per public benign set")
    parser.add_argument("--clinical-n", type=int, default=12, help="medsec clinical questions (0: all)")
    parser.add_argument("--benign-data", default=str(DATA), help="the shared benign data directory")
    parser.add_argument("--policy", default="balanced", help="guard policy in front of the hardened app")
    parser.add_argument("--layers", action="store_true", help="also evaluate each policy layer alone")
    parser.add_argument("--model", default="local:max_tokens=160", help="model behind the app")
    parser.add_argument("--store", default=None, help="run store URL (default: $MEDSEC_HOME/efficacy.db)")
    parser.add_argument("--resume", action="store_true", help="reuse or finish stored runs")
    return parser.parse_args()


def progress(layer: Layer, i: int, n: int) -> None:
    print(
        f"[{time.strftime('%H:%M:%S')}] configuration {i + 1}/{n}: {layer.name}", file=sys.stderr, flush=True
    )


async def measure(args: argparse.Namespace, store: Store) -> tuple[EfficacyResult, EfficacyResult]:
    data = args.benign_data if Path(args.benign_data).is_dir() else None
    common = {
        "suite": args.suite,
        "benign_n": args.benign_n,
        "clinical_n": args.clinical_n or None,
        "benign_data": data,
        "reuse": args.resume,
        "concurrency": 1,  # the local model runs one call at a time; latencies stay free of queueing
    }
    naive = EfficacyConfig(target=f"clinic:mode=naive,model={args.model}", policies=(), **common)
    hardened = EfficacyConfig(
        target=f"clinic:mode=hardened,model={args.model}",
        policies=(args.policy,),
        layers=args.layers,
        **common,
    )
    first = await evaluate_defenses(naive, store, on_configuration=progress)
    second = await evaluate_defenses(hardened, store, on_configuration=progress)
    return first, second


def combine(naive: EfficacyResult, hardened: EfficacyResult, store: Store) -> EfficacyResult:
    """One assessment with the naive build as the baseline: naive, hardened, hardened + guard (+ layers)."""
    base = naive.layers[0]
    arms = [
        Arm(
            layer=Layer(name="naive", kind="baseline"), attack_run=base.attack_run, benign_run=base.benign_run
        )
    ]
    for r in hardened.layers:
        layer = r.layer
        if layer.kind == "baseline":
            layer = Layer(name="hardened", kind="layer", defends=("access-control",))
        elif layer.kind == "all":
            layer = layer.model_copy(update={"name": f"hardened + {layer.name.removeprefix('all:')}"})
        else:
            layer = layer.model_copy(update={"name": f"hardened + {layer.name} only"})
        arms.append(Arm(layer=layer, attack_run=r.attack_run, benign_run=r.benign_run))
    runs = {r: list(store.attempts(r)) for a in arms for r in (a.attack_run, a.benign_run) if r}
    return assess(arms, runs, load_taxonomy(), created_at=now(), notes=naive.notes)


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "accelerator": "none",
    }


def run_seconds(result: EfficacyResult, store: Store) -> float:
    """Time spent in the stored runs (start to finish), so a resumed invocation still reports it."""
    total = 0.0
    for r in result.layers:
        for run_id in (r.attack_run, r.benign_run):
            info = store.run(run_id) if run_id else None
            if info is not None and info.finished_at:
                start, end = (
                    dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
                    for t in (info.created_at, info.finished_at)
                )
                total += (end - start).total_seconds()
    return total


def revision() -> str:
    """The source revision: git's, or ``MEDSEC_REVISION`` when run from an exported snapshot."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        out = None
    found = out.stdout.strip() if out is not None and out.returncode == 0 else ""
    return found or os.environ.get("MEDSEC_REVISION", "unknown")


def write(result: EfficacyResult, args: argparse.Namespace, wall_s: float) -> None:
    date = dt.date.today().isoformat()
    box = machine()
    payload = {
        "date": date,
        "machine": box,
        "wall_s": round(wall_s, 1),
        "revision": revision(),
        "settings": {k: v for k, v in vars(args).items() if k != "store"},
        "result": json.loads(result.model_dump_json()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    head = [
        "# Measured results: what the defenses of the reference assistant buy and cost",
        "",
        f"Regenerated by `python benchmarks/efficacy.py` on {date}; machine: {box['cpus']} CPU cores "
        f"({box['processor']}), no accelerator, Python {box['python']}; medsec revision {revision()}; "
        f"{wall_s / 60:.1f} min of model time in the stored runs. "
        f"Model: the embedded SmolLM2-135M-Instruct (`{args.model}`), temperature 0. Attack suite: "
        f"`{args.suite}`; benign questions: {args.clinical_n or 'all'} of medsec's own clinical questions "
        f"plus {args.benign_n} seeded samples each of MedQA, PubMedQA and MedQuAD. Raw numbers: "
        "`benchmarks/results/efficacy.json`.",
        "",
        "The baseline is the naive build; `hardened` adds authorisation in tools and minimum-necessary "
        f"context; `hardened + {args.policy}` puts the {args.policy} guard policy in front. Samples are "
        "small (a bounded run on CPU), so read the intervals, not just the point estimates; a SmolLM2-135M "
        "model "
        "answers multiple-choice questions near chance, so accuracy changes mainly show whether the guard "
        "gets in the way. Run bigger with `--suite standard --clinical-n 0 --benign-n 50 --layers`; see "
        "docs/efficacy.md.",
        "",
        "Added latency is against the naive build, whose prompts carry the unit census and are longer; the "
        "guard's own cost is the step from `hardened` to the guarded row. The machine was shared with other "
        "jobs during the run, so single calls varied several-fold; the guard pipeline alone costs "
        f"{_guard_p95()} per request (`benchmarks/results/guard_latency.json`).",
        "",
        "",
    ]
    body = render_markdown(result, title="").split("\n", 2)[2]
    DOC.write_text("\n".join(head) + body, encoding="utf-8")


def _guard_p95() -> str:
    """The guard pipeline's p95 per request as the latency benchmark last measured it."""
    try:
        return f"{json.loads(GUARD_LATENCY.read_text())['pipeline']['p95_ms']:.1f} ms at p95"
    except (OSError, ValueError, KeyError, TypeError):
        return "a few milliseconds (run `benchmarks/guard_latency.py`)"


def main() -> None:
    args = parse()
    store = Store(args.store or f"sqlite:///{medsec_home() / 'efficacy.db'}")
    start = time.perf_counter()
    naive, hardened = asyncio.run(measure(args, store))
    result = combine(naive, hardened, store)
    write(result, args, run_seconds(result, store))
    print(f"invocation took {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(f"wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
