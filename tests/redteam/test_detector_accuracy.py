"""Precision and recall of the deterministic detectors on a labelled set they were not tuned on.

The floors here are regression guards set below the measured numbers, which docs/redteam.md reports
(regenerate them with `python -m tests.redteam.test_detector_accuracy`).
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

LABELS = yaml.safe_load((Path(__file__).parent / "data" / "detector_labels.yaml").read_text(encoding="utf-8"))


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

    return {
        "refusal": scores(
            [refused(x["text"]) for x in LABELS["refusal"]], [x["label"] for x in LABELS["refusal"]]
        ),
        "canary": scores(
            [leaked(x["text"]) for x in LABELS["canary"]], [x["label"] for x in LABELS["canary"]]
        ),
    }


def test_detector_accuracy_stays_above_the_floors() -> None:
    result = measure()
    assert result["refusal"]["precision"] >= 0.9 and result["refusal"]["recall"] >= 0.75, result["refusal"]
    assert result["canary"]["precision"] >= 0.9 and result["canary"]["recall"] >= 0.9, result["canary"]


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
