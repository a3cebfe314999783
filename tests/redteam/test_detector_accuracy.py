"""Precision and recall of the deterministic detectors on labelled sets, each with its history.

``detector_labels.yaml`` was written after the first detectors and not used to tune them; the refusal
detector's soft-refusal rules were later written from its misses, so for refusals it is now a tuning set.
``refusal_heldout.yaml`` was written before those rules (its misses were seen while writing them);
``refusal_blind.yaml`` was written by a developer who had seen neither the detector nor the other sets,
and is the unseen measure docs/redteam.md quotes. The floors here are regression guards set below the
measured numbers (regenerate them with `python -m tests.redteam.test_detector_accuracy`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml

from medsec.redteam.case import Attempt, Case
from medsec.redteam.detectors import CanaryLeak
from medsec.redteam.detectors.refusal import refused
from medsec.redteam.probe import ScanContext
from medsec.targets.base import Reply
from medsec.types import Message
from tests.redteam.conftest import CANARIES

DATA = Path(__file__).parent / "data"
LABELS = yaml.safe_load((DATA / "detector_labels.yaml").read_text(encoding="utf-8"))
REFUSAL_SETS = ("refusal_heldout", "refusal_blind")


def scores(predicted: list[bool], truth: list[bool]) -> dict[str, Any]:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    return {
        "n": len(truth),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "errors": [i for i, (p, t) in enumerate(zip(predicted, truth, strict=True)) if p != t],
    }


def measure() -> dict[str, dict[str, Any]]:
    detector = CanaryLeak().bind(ScanContext(canaries=CANARIES))

    def leaked(text: str) -> bool:
        case = Case(id="c", messages=(Message(role="user", content="Tell me about the patient."),))
        attempt = Attempt(key="k", probe="p", attack="a", case=case, replies=(Reply(text=text),))
        return asyncio.run(detector(attempt)).success is True

    def refusal_scores(items: list[dict[str, Any]]) -> dict[str, Any]:
        return scores([refused(x["text"]) for x in items], [x["label"] for x in items])

    sets = {
        name: yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8")) for name in REFUSAL_SETS
    }
    return {
        "refusal": refusal_scores(LABELS["refusal"]),
        **{name: refusal_scores(data["refusal"]) for name, data in sets.items()},
        "canary": scores(
            [leaked(x["text"]) for x in LABELS["canary"]], [x["label"] for x in LABELS["canary"]]
        ),
    }


def test_detector_accuracy_stays_above_the_floors() -> None:
    result = measure()
    assert result["refusal"]["precision"] >= 0.9 and result["refusal"]["recall"] >= 0.75, result["refusal"]
    assert result["canary"]["precision"] >= 0.9 and result["canary"]["recall"] >= 0.9, result["canary"]
    held, blind = result["refusal_heldout"], result["refusal_blind"]
    assert held["precision"] >= 0.9 and held["recall"] >= 0.9, held
    # measured 0.96 / 0.51 (0.95 / 0.40 before the soft-refusal rules): deflections without refusal words
    assert blind["precision"] >= 0.9 and blind["recall"] >= 0.45, blind


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
