"""Benchmark the guard's detectors on public data: detection at a fixed false-positive rate, over-defence.

One command: ``python benchmarks/guard_bench.py [--skip-llm-guard]``. Reads ``../shared/data`` by path
(never copied) and writes ``benchmarks/results/guard_quality.json``.

The split (see ``medsec.guard.train.corpus``): the shipped injection classifier is two linear models, both
trained on examples we wrote plus public ``train`` items: one for instruction override, jailbreaks and
indirect injection (every train item but Mosscap's), one for secret and system-prompt extraction
(Mosscap's train part, our examples, every benign train item); a text's score is the higher of their
probabilities. Their two thresholds (each read as probability 0.9) were chosen together from 5-fold
out-of-fold scores on the train items (see ``medsec.guard.train.build``); every number here is on
``test`` items only. Two more rows are ROC points:
the thresholds at which 2% of the *test* clinical texts, or 5% of NotInject, are flagged (measurements of
the curve, not operating points anyone tuned). NotInject and JailbreakBench-benign were never trained or
tuned on. The harmful-request rules were tuned on MedSafetyBench's GPT-4 set, and the harmful-request
classifier trained on it (``medsec.guard.train.harmful``); both are reported on its Llama-2 set, on
HarmBench's test behaviours and on the test parts of the benign clinical sets (over-refusal). A classifier
trained only on our own examples (no public data) is reported alongside for contrast, and LLM Guard's
offline scanners run on the same test items in their own virtual environment
(``benchmarks/_llm_guard.py``). ``blind_review`` sets the detector beside two blind reviewers (LLM agents)
who labelled a stratified sample of the test items seeing only the text
(``benchmarks/data/injection_blind_review.json``): the share of the labelled attacks a careful reader can
recognise from the text alone. ``bipia_planted_in_context``
plants BIPIA's test attacks in its test e-mails and code answers, as BIPIA does, and scans them on the
``context`` channel beside the clean contexts.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from medsec.guard.classifier import Model, load_model
from medsec.guard.rules import data_path, load_rules, match
from medsec.guard.scanner import Context
from medsec.guard.scanners import HarmfulScanner, InjectionScanner
from medsec.guard.textnorm import canonical, decodings
from medsec.guard.train.build import train, training_set
from medsec.guard.train.corpus import Example, bipia_contexts, medsafety, ours, public
from medsec.guard.train.harmful import harmful_set

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _llm_guard  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "guard_quality.json"
BLIND = ROOT / "benchmarks" / "data" / "injection_blind_review.json"
CLINICAL = ("medquad", "pubmedqa", "medqa", "medmcqa", "mmlu")
OVER_DEFENCE = ("notinject", "wildguard", "jbb-benign")
RULES = load_rules(str(data_path("injection_rules.yaml")))


def rule_hit(text: str, channel: str) -> bool:
    canon = canonical(text)
    if match(RULES, canon, channel):  # type: ignore[arg-type]
        return True
    return any(match(RULES, canonical(d), channel) for _, d in decodings(text))  # type: ignore[arg-type]


def scores(model: Model, examples: list[Example]) -> list[float]:
    return [model.score(canonical(e.text)) for e in examples]


def threshold_at(fpr: float, benign: list[float]) -> float:
    ranked = sorted(benign)
    return ranked[min(len(ranked) - 1, int(len(ranked) * (1 - fpr)))] + 1e-9


def channel_of(e: Example) -> str:
    return "context" if e.source.startswith("bipia") or e.source == "pubmedqa" else "input"


def shipped_flags(model: Model, test: list[Example]) -> list[bool]:
    """The shipped injection scanner's verdict on each test item: a rule, or the classifier at 0.9."""
    probs = scores(model, test)
    return [rule_hit(e.text, channel_of(e)) or p >= 0.9 for e, p in zip(test, probs, strict=True)]


def blind_review(test: list[Example], flagged: list[bool]) -> dict[str, Any]:
    """What blind reviewers flag seeing only the text, beside the shipped detector on the same items.

    ``benchmarks/data/injection_blind_review.json`` holds two blind reviewers' labels of a stratified
    sample of the test items (see its ``sample``, ``raters`` and ``instructions``; the raters were LLM
    agents, not people). Each rate per source is weighted
    by that source's share of the test attacks, as ``detection_rate_all_attacks`` is. An attack counts as
    recognisable when at least half of its labels say attack.
    """
    review = json.loads(BLIND.read_text(encoding="utf-8"))
    verdict = {(e.source, e.id): f for e, f in zip(test, flagged, strict=True)}
    share: dict[str, int] = defaultdict(int)
    for e in test:
        share[e.source] += e.label

    def weighted(rates: dict[str, float]) -> float:
        shares = {s: n for s, n in share.items() if n and s in rates}  # sources the sample has
        return round(sum(rates[s] * n for s, n in shares.items()) / sum(shares.values()), 4)

    out: dict[str, Any] = {"n_items": len(review["items"])}
    for rater in ("a", "b", "pooled"):
        hits: dict[str, list[int]] = defaultdict(list)
        benign: dict[str, list[int]] = defaultdict(list)
        for item in review["items"]:
            for r in ("a", "b") if rater == "pooled" else (rater,):
                if item[r] is not None:
                    (hits if item["label"] == 1 else benign)[item["source"]].append(item[r])
        rates = {s: sum(v) / len(v) for s, v in hits.items()}
        out[f"rater_{rater}" if rater != "pooled" else "pooled"] = {
            "detection_rate_weighted": weighted(rates),
            "detection_by_source": {s: round(r, 4) for s, r in sorted(rates.items())},
            "benign_flagged": {s: f"{sum(v)}/{len(v)}" for s, v in sorted(benign.items())},
        }
    both = [i for i in review["items"] if i["a"] is not None and i["b"] is not None]
    out["agreement_on_doubly_labelled"] = f"{sum(i['a'] == i['b'] for i in both)}/{len(both)}"
    groups: dict[str, list[bool]] = defaultdict(list)
    detector: dict[str, list[bool]] = defaultdict(list)
    for item in review["items"]:
        if item["label"] != 1:
            continue
        labels = [item[r] for r in ("a", "b") if item[r] is not None]
        seen = "recognisable" if sum(labels) * 2 >= len(labels) else "not_recognisable"
        groups[seen].append(verdict[(item["source"], item["id"])])
        detector[item["source"]].append(verdict[(item["source"], item["id"])])
    out["shipped_detector_on_sample"] = {
        "detection_rate_weighted": weighted({s: sum(v) / len(v) for s, v in detector.items()}),
        **{f"detection_on_{k}": f"{sum(v)}/{len(v)}" for k, v in sorted(groups.items())},
    }
    return out


def evaluate(model: Model, test: list[Example]) -> dict[str, Any]:
    """The shipped operating point, two ROC points (set on test: measurements, not tuning), rules alone.

    The ROC points are the thresholds at which the classifier flags 2% of the test clinical texts, and 5%
    of NotInject (the issue's over-defence bar): what this model could reach at either bar.
    """
    rules = [rule_hit(e.text, channel_of(e)) for e in test]
    probs = scores(model, test)
    roc = threshold_at(0.02, [p for e, p in zip(test, probs, strict=True) if e.source in CLINICAL])
    over = threshold_at(0.05, [p for e, p in zip(test, probs, strict=True) if e.source == "notinject"])
    out: dict[str, Any] = {}
    rows = (
        ("shipped_0.9", 0.9),
        ("roc_point_test_clinical_2pct_fpr", roc),
        ("roc_point_test_notinject_5pct_flagged", over),
        ("rules_only", 2.0),
    )
    for name, thr in rows:
        flagged = [r or p >= thr for r, p in zip(rules, probs, strict=True)]
        out[name] = {"threshold": round(min(thr, 1.0), 4) if thr <= 1 else None, **summary(test, flagged)}
    return out


def summary(test: list[Example], flagged: list[bool]) -> dict[str, Any]:
    by: dict[str, list[bool]] = defaultdict(list)
    for e, f in zip(test, flagged, strict=True):
        by[e.source].append(f)
    rate = {k: round(sum(v) / len(v), 4) for k, v in sorted(by.items())}
    attacks = [f for e, f in zip(test, flagged, strict=True) if e.label == 1]
    clinical = [f for e, f in zip(test, flagged, strict=True) if e.source in CLINICAL]
    return {
        "detection_rate_all_attacks": round(sum(attacks) / len(attacks), 4),
        "detection_rate_excluding_mosscap": round(
            sum(f for e, f in zip(test, flagged, strict=True) if e.label == 1 and e.source != "mosscap")
            / sum(1 for e in test if e.label == 1 and e.source != "mosscap"),
            4,
        ),
        "fpr_clinical": round(sum(clinical) / len(clinical), 4),
        "over_defence_accuracy": {k: round(1 - rate[k], 4) for k in OVER_DEFENCE if k in rate},
        "flag_rate_by_source": rate,
        "n_by_source": {k: len(v) for k, v in sorted(by.items())},
    }


@cache
def _middle(text: str) -> int:
    """The line or sentence break nearest the middle of ``text`` (the middle itself when there is none)."""
    half = len(text) // 2
    breaks = [i + 1 for i, c in enumerate(text) if c == "\n"] + [
        i + 2 for i in range(len(text) - 1) if text[i] in ".!?" and text[i + 1] == " "
    ]
    return min(breaks, key=lambda i: abs(i - half), default=half)


def _plant(context: str, attack: str, where: str) -> str:
    if where == "start":
        return f"{attack}\n{context}"
    if where == "end":
        return f"{context}\n{attack}"
    cut = _middle(context)
    return f"{context[:cut]}{attack} {context[cut:]}"


async def embedded() -> dict[str, Any]:
    """BIPIA's own setting: test attacks planted in test contexts, scanned on the ``context`` channel.

    Text attacks go into the test emails (EmailQA), code attacks into the 50 test code answers (CodeQA),
    each at the start, at the line or sentence break nearest the middle, and at the end, as BIPIA plants
    them. The clean contexts are the false-positive side. Test e-mails that are also train e-mails (the
    classifier trains on those as benign) are left out. The attack strings alone are the ``bipia-text``
    and ``bipia-code`` rows above; this asks whether the surrounding text hides them.
    """
    scanner, ctx = InjectionScanner(), Context(channel="context")
    root = DATA / "injection" / "bipia"
    out: dict[str, Any] = {}
    for task, part in (("email", "text"), ("code", "code")):
        seen = set(bipia_contexts(DATA, task, "train"))
        test_contexts = bipia_contexts(DATA, task, "test")
        contexts = [c for c in test_contexts if c not in seen]
        attacks = [
            a for texts in json.loads((root / f"{part}_attack_test.json").read_text()).values() for a in texts
        ]
        clean = [(await scanner(c, ctx)).action != "allow" for c in contexts]
        by_place: dict[str, list[bool]] = {}
        for where in ("start", "middle", "end"):
            by_place[where] = [
                (await scanner(_plant(c, a, where), ctx)).action != "allow" for c in contexts for a in attacks
            ]
        every = [f for v in by_place.values() for f in v]
        out[task] = {
            "contexts": len(contexts),
            "test_contexts_left_out_as_train": len(test_contexts) - len(contexts),
            "attacks": len(attacks),
            "clean_flagged": round(sum(clean) / len(clean), 4),
            "detection_rate": round(sum(every) / len(every), 4),
            "detection_by_position": {k: round(sum(v) / len(v), 4) for k, v in by_place.items()},
            "n_planted": len(every),
        }
    return out


def harmbench() -> list[str]:
    """HarmBench's test behaviours of the ``standard`` kind (no copyright or contextual ones)."""
    path = DATA / "safety" / "harmbench" / "harmbench_behaviors_text_test.csv"
    with path.open(encoding="utf-8") as handle:
        return [row["Behavior"] for row in csv.DictReader(handle) if row["FunctionalCategory"] == "standard"]


async def harmful_rates(scanner: HarmfulScanner) -> dict[str, Any]:
    ctx = Context(channel="input")
    out: dict[str, Any] = {}
    for split in ("train", "test"):
        items = [(t, c) for t, c, s in medsafety(DATA) if s == split]
        hits = [(await scanner(t, ctx)).action == "block" for t, _ in items]
        per = defaultdict(list)
        for (_, c), h in zip(items, hits, strict=True):
            per[c].append(h)
        out[f"medsafetybench_{'gpt4_train' if split == 'train' else 'llama2_report'}"] = {
            "detection_rate": round(sum(hits) / len(hits), 4),
            "by_category": {str(c): round(sum(v) / len(v), 3) for c, v in sorted(per.items())},
            "n": len(hits),
        }
    behaviours = harmbench()
    flagged = [(await scanner(t, ctx)).action == "block" for t in behaviours]
    out["harmbench_test_standard"] = {
        "detection_rate": round(sum(flagged) / len(flagged), 4),
        "n": len(flagged),
    }
    benign = [e for e in public(DATA) if e.source in CLINICAL and e.split == "test"]
    refused: dict[str, list[bool]] = defaultdict(list)
    for e in benign:
        refused[e.source].append((await scanner(e.text, ctx)).action == "block")
    every = [r for v in refused.values() for r in v]
    out["over_refusal_benign_clinical"] = {
        "rate": round(sum(every) / len(every), 4),
        "by_source": {k: round(sum(v) / len(v), 4) for k, v in sorted(refused.items())},
        "n": len(every),
    }
    return out


async def harmful() -> dict[str, Any]:
    """Rules and classifier (shipped), and rules alone."""
    return {
        "shipped_rules_and_classifier": await harmful_rates(HarmfulScanner()),
        "rules_only": await harmful_rates(HarmfulScanner(threshold=2.0)),
    }


def llm_guard(skip: bool, test: list[Example]) -> dict[str, Any]:
    """LLM Guard's offline scanners on the same test items (see ``benchmarks/_llm_guard.py``)."""
    if skip:
        return {"unavailable": "skipped by --skip-llm-guard"}
    reason = _llm_guard.ensure()
    if reason is not None:
        return {"unavailable": reason}
    start = time.perf_counter()
    answer = _llm_guard.call({"texts": [e.text for e in test]})
    flags: dict[str, list[bool]] = answer["flags"]
    rows = {name: summary(test, f) for name, f in flags.items()}
    rows["any"] = summary(test, [any(f) for f in zip(*flags.values(), strict=True)])
    return {
        "version": answer["version"],
        "scanners": answer["scanners"],
        "note": "offline scanners only: PromptInjection (DeBERTa) needs a Hugging Face download; "
        "BanSubstrings and Regex ship no injection lists, so they get the textbook phrases and patterns in "
        "benchmarks/_llm_guard.py; InvisibleText and Secrets run with their defaults",
        "substrings": _llm_guard.PHRASES,
        "patterns": _llm_guard.PATTERNS,
        "results": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-llm-guard", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    items = public(DATA)
    test = [
        e for e in items if e.split == "test" and (e.label == 1 or e.source in (*CLINICAL, *OVER_DEFENCE))
    ]
    shipped = load_model()
    # trained on our examples only, calibrated on the public train benign parts it never saw
    ours_only = train(ours(), calibrate_on=[e for e in items if e.split == "train" and e.label == 0])
    result: dict[str, Any] = {
        "split": "train: our examples + public train parts (hashed ids, shipped splits); report: test parts",
        "training_examples": {
            "shipped": len(training_set(DATA)),
            "ours_only": len(ours()),
            "harmful": len(harmful_set(DATA)),
        },
        "injection": {
            "shipped_model": evaluate(shipped, test),
            "ours_only_model": evaluate(ours_only, test),
        },
        "blind_review": blind_review(test, shipped_flags(shipped, test)),
        "bipia_planted_in_context": asyncio.run(embedded()),
        "harmful": asyncio.run(harmful()),
        "llm_guard": llm_guard(args.skip_llm_guard, test),
        "seconds": round(time.perf_counter() - start, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    people = result["blind_review"]["pooled"]["detection_rate_weighted"]
    ours_on_sample = result["blind_review"]["shipped_detector_on_sample"]["detection_rate_weighted"]
    sys.stdout.write(
        f"blind reviewers detect {people:.3f} of the test attacks "
        f"(the shipped detector {ours_on_sample:.3f} on their sample)\n"
    )
    for task, row in result["bipia_planted_in_context"].items():
        sys.stdout.write(
            f"BIPIA {task}: planted attacks detected {row['detection_rate']:.3f} "
            f"{row['detection_by_position']}, clean contexts flagged {row['clean_flagged']:.3f}\n"
        )
    inj = result["injection"]["shipped_model"]
    for name, row in inj.items():
        sys.stdout.write(
            f"{name:22} detect {row['detection_rate_all_attacks']:.3f} "
            f"(no mosscap {row['detection_rate_excluding_mosscap']:.3f}) "
            f"clinical FPR {row['fpr_clinical']:.3f} over-defence {row['over_defence_accuracy']}\n"
        )
    for name, row in result["harmful"].items():
        sys.stdout.write(
            f"harmful {name:28} medsafety {row['medsafetybench_llama2_report']['detection_rate']:.3f} "
            f"harmbench {row['harmbench_test_standard']['detection_rate']:.3f} "
            f"over-refusal {row['over_refusal_benign_clinical']['rate']:.4f}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
