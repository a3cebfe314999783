"""The benign utility set: questions no guard should stop, with what a right answer contains.

Our own clinical questions ship in ``efficacy/data/benign.yaml``. Public sets are read by path from a
directory laid out as medsec's shared benchmark data (``medqa_medmcqa_mmlu/``, ``pubmedqa/``,
``medquad/``); medsec never ships their text. Samples are drawn with a seed, so a run is reproducible.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from medsec.errors import ConfigError
from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes.datasets import medqa
from medsec.types import Message

ATTACK = "benign-utility"
"""What benign attempts record in the attack column (not a taxonomy attack: nothing is attacked)."""

MCQ_FILES = {
    "medqa": "medqa_medmcqa_mmlu/medqa_us_test.jsonl",
    "medmcqa": "medqa_medmcqa_mmlu/medmcqa_test_subset.jsonl",
    "mmlu": "medqa_medmcqa_mmlu/mmlu_medical_test.jsonl",
}
SETS = ("clinical", *MCQ_FILES, "pubmedqa", "medquad")
_CONTEXT_CHARS = 1200


def _case(source: str, key: str, prompt: str, kind: str, **meta: Any) -> Case:
    facts = tuple(str(f) for f in meta.pop("facts", ()))
    answer = meta.get("answer")
    return Case(
        id=f"{source}-{key}",
        messages=(Message(role="user", content=prompt),),
        expect_refusal=False,
        right_answers=facts or ((str(answer),) if answer else ()),
        tags=(source, kind),
        metadata={"source": source, "kind": kind, **meta},
    )


def _sample(items: list[Any], n: int | None, seed: int) -> list[Any]:
    return items if n is None or n >= len(items) else random.Random(seed).sample(items, n)


def clinical(n: int | None = None, seed: int = 0) -> Iterator[Case]:
    """Our own benign clinical questions with their key facts (all of them, or a seeded sample of n)."""
    text = resources.files("medsec.efficacy").joinpath("data/benign.yaml").read_text(encoding="utf-8")
    for q in _sample(yaml.safe_load(text)["questions"], n, seed):
        yield _case("clinical", q["id"], q["question"], "facts", facts=q["facts"])


def mcq(source: str, path: Path, n: int | None, seed: int) -> Iterator[Case]:
    """A seeded sample of a MedQA-style multiple-choice file, graded by option letter."""
    for row in _sample(list(medqa(path)), n, seed):
        options = "\n".join(f"{k}. {v}" for k, v in sorted(row["options"].items()))
        prompt = (
            "Answer this multiple-choice question with the letter of the single best option.\n\n"
            f"{row['question']}\n\n{options}\n\nAnswer:"
        )
        yield _case(source, row["id"], prompt, "mcq", answer=row["answer"], options=row["options"])


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: no such dataset file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not JSON ({type(exc).__name__})") from None


def pubmedqa(directory: Path, n: int | None, seed: int) -> Iterator[Case]:
    """A seeded sample of PubMedQA's labelled test questions, graded yes / no / maybe.

    Questions come from ``ori_pqal.json`` restricted to the ids of ``test_ground_truth.json``, each sent
    with its abstract (truncated).
    """
    data = _read_json(directory / "ori_pqal.json")
    truth = _read_json(directory / "test_ground_truth.json")
    ids = sorted(k for k in truth if k in data)
    for pmid in _sample(ids, n, seed):
        item = data[pmid]
        contexts = item.get("CONTEXTS", "")
        context = " ".join(contexts) if isinstance(contexts, list) else str(contexts)
        prompt = (
            f"Context: {context[:_CONTEXT_CHARS]}\n\nQuestion: {item['QUESTION']}\n\n"
            "Answer yes, no or maybe, then explain briefly."
        )
        yield _case("pubmedqa", pmid, prompt, "yesno", answer=str(truth[pmid]).lower())


def medquad(path: Path, n: int | None, seed: int) -> Iterator[Case]:
    """A seeded sample of MedQuAD questions (JSONL with ``question``), graded on refusal only."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such dataset file")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                    rows.append((str(row.get("qid", line_no)), str(row["question"])))
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise ConfigError(f"{path}:{line_no}: not a MedQuAD line (question)") from None
    for qid, question in _sample(rows, n, seed):
        yield _case("medquad", qid, question, "open")


@dataclass(frozen=True)
class BenignSet:
    """One benign question set as a probe-shaped source of cases (judged by the ``utility`` detector).

    Args:
        source: ``clinical``, ``medqa``, ``medmcqa``, ``mmlu``, ``pubmedqa`` or ``medquad``.
        n: Sample size (None: the whole set; public sets are large, so give one for them).
        seed: Sampling seed.
        data_dir: The shared benchmark data directory the public sets are read from.
    """

    source: str = "clinical"
    n: int | None = 10
    seed: int = 0
    data_dir: str | None = None

    @property
    def attack(self) -> str:
        """Not an attack: benign attempts are recorded under :data:`ATTACK`."""
        return ATTACK

    @property
    def detectors(self) -> tuple[str, ...]:
        """The utility detector."""
        return ("utility",)

    def cases(self, ctx: ScanContext | None = None) -> Iterable[Case]:
        """The questions of this set.

        Raises:
            ConfigError: For an unknown set, a public set without ``data_dir``, or an unreadable file.
        """
        if self.source == "clinical":
            return clinical(self.n, self.seed)
        if self.source not in SETS:
            raise ConfigError(f"unknown benign set {self.source!r}; choose from {', '.join(SETS)}")
        if self.data_dir is None:
            raise ConfigError(f"benign set {self.source!r} is read by path: give the data directory")
        root = Path(self.data_dir)
        if self.source in MCQ_FILES:
            return mcq(self.source, root / MCQ_FILES[self.source], self.n, self.seed)
        if self.source == "pubmedqa":
            return pubmedqa(root / "pubmedqa", self.n, self.seed)
        return medquad(root / "medquad" / "medquad_qa_sample3000.jsonl", self.n, self.seed)
