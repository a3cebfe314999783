"""Labelled texts for training and measuring the injection classifier, with one explicit split.

Two sources:

- **ours**: ``examples.yaml`` next to this module, written by the medsec developers;
- **public**: the sets in ``../shared/data`` (read by path, never copied into the package), each item
  assigned to ``train`` or ``test`` by a fixed rule: where the set ships its own split (BIPIA attacks
  and clean emails, PubMedQA's 500-id test list) that split is used; otherwise the item's id is hashed
  (SHA-256, even → train). Over-defence sets (NotInject, JailbreakBench benign) are ``test`` only;
  WildGuard's benign prompts are split by hash like the rest, so that the model sees general
  (non-clinical) benign text.

Training reads ``ours`` and public ``train`` items; benchmarks report on public ``test`` items only.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from medsec.config import read_yaml
from medsec.types import Frozen

Split = Literal["train", "test"]
Kind = Literal["injection", "harmful", "benign", "benign-clinical", "over-defence"]
MAX_PER_TEMPLATE = 60


class Example(Frozen):
    """One labelled text.

    Attributes:
        id: Stable id within its set.
        text: The text.
        label: 1 for an injection or jailbreak, 0 for benign.
        source: The set it comes from (``ours``, ``deepset``, ``notinject`` …).
        kind: What the item tests.
        split: ``train`` or ``test``.
    """

    id: str
    text: str
    label: int
    source: str
    kind: Kind
    split: Split


def hashed_split(key: str) -> Split:
    """The fixed split of an item of a set that ships none: SHA-256 of its id, even → train."""
    return "train" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _expand(template: str, slots: dict[str, list[str]]) -> Iterator[str]:
    names = [n for n in slots if "{" + n + "}" in template]
    combos = list(itertools.product(*(slots[n] for n in names)))
    # a fixed stride through the product keeps variety without taking every combination
    step = max(1, len(combos) // MAX_PER_TEMPLATE)
    for combo in combos[::step][:MAX_PER_TEMPLATE]:
        yield template.format(**dict(zip(names, combo, strict=True)))


def ours(name: str = "examples.yaml", positive: Kind = "injection") -> list[Example]:
    """The examples the medsec developers wrote (``examples.yaml``, or ``name`` beside it), expanded.

    Args:
        name: The example file beside this module.
        positive: The kind of its label-1 examples.
    """
    path = Path(str(resources.files("medsec.guard.train") / name))
    data: dict[str, Any] = read_yaml(path).data
    slots: dict[str, list[str]] = data["slots"]
    out: list[Example] = []
    for t, item in enumerate(data["templates"]):
        texts = list(_expand(item["text"], slots))
        kind: Kind = positive if item["label"] else "benign-clinical"
        out += [
            Example(id=f"t{t}-{i}", text=x, label=item["label"], source="ours", kind=kind, split="train")
            for i, x in enumerate(texts)
        ]
    for i, item in enumerate(data["plain"]):
        kind = positive if item["label"] else "benign-clinical"
        out.append(
            Example(
                id=f"p{i}", text=item["text"], label=item["label"], source="ours", kind=kind, split="train"
            )
        )
    return out


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def bipia_contexts(root: Path, task: str, split: Split) -> list[str]:
    """BIPIA's clean contexts of ``task`` (``email``, ``code`` …) for ``split``; none when it ships no file.

    A code answer is stored as a list of lines; it comes back joined.
    """
    path = root / "injection" / "bipia" / task / f"{split}.jsonl"
    if not path.exists():
        return []
    contexts = (row["context"] for row in _jsonl(path))
    return ["\n".join(c) if isinstance(c, list) else c for c in contexts]


def _injection(root: Path) -> Iterator[Example]:
    mirror = root / "injection" / "public_mirror"
    for name in (
        "deepset_prompt_injections_train",
        "lakera_gandalf_ignore_instructions",
        "lakera_mosscap_sample",
    ):
        for row in _jsonl(mirror / f"{name}.jsonl"):
            source = row["id"].rsplit("-", 1)[0]
            kind: Kind = "injection" if row["label"] else "benign"
            yield Example(
                id=row["id"],
                text=row["text"],
                label=int(row["label"]),
                source=source,
                kind=kind,
                split=hashed_split(row["id"]),
            )
    wild = json.loads(
        (root / "injection" / "jailbreaks_inthewild" / "inthewild_jailbreak_llms.json").read_text()
    )
    for i, text in enumerate(wild):
        yield Example(
            id=f"wild-{i}",
            text=text,
            label=1,
            source="inthewild",
            kind="injection",
            split=hashed_split(f"wild-{i}"),
        )
    splits: tuple[Split, ...] = ("train", "test")
    for split in splits:  # BIPIA's clean emails, by its own split: ordinary context the model must pass
        for i, text in enumerate(bipia_contexts(root, "email", split)):
            yield Example(
                id=f"bipia-email-{split}-{i}",
                text=text,
                label=0,
                source="bipia-email",
                kind="benign",
                split=split,
            )
    for part in ("text", "code"):
        for split in splits:
            attacks = json.loads((root / "injection" / "bipia" / f"{part}_attack_{split}.json").read_text())
            for category, texts in attacks.items():
                for i, text in enumerate(texts):
                    yield Example(
                        id=f"bipia-{part}-{category}-{i}",
                        text=text,
                        label=1,
                        source=f"bipia-{part}",
                        kind="injection",
                        split=split,
                    )


def _over_defence(root: Path) -> Iterator[Example]:
    notinject = root / "injection" / "notinject"
    for n in ("one", "two", "three"):
        for i, row in enumerate(json.loads((notinject / f"NotInject_{n}.json").read_text())):
            yield Example(
                id=f"notinject-{n}-{i}",
                text=row["prompt"],
                label=0,
                source="notinject",
                kind="over-defence",
                split="test",
            )
    for i, row in enumerate(json.loads((notinject / "wildguard.json").read_text())):
        if row["label"] == 0:  # half of WildGuard's benign prompts train the model: see the module docstring
            yield Example(
                id=f"wildguard-{i}",
                text=row["prompt"],
                label=0,
                source="wildguard",
                kind="over-defence",
                split=hashed_split(f"wildguard-{i}"),
            )
    for row in _jsonl(root / "injection" / "public_mirror" / "jailbreakbench_jbb_behaviors.jsonl"):
        if row["label"] == 0:
            yield Example(
                id=row["id"],
                text=row["text"],
                label=0,
                source="jbb-benign",
                kind="over-defence",
                split="test",
            )


def _clinical(root: Path) -> Iterator[Example]:
    benign = root / "benign"
    for row in _jsonl(benign / "medquad" / "medquad_qa_sample3000.jsonl"):
        key = f"medquad-{row['qid']}"
        yield Example(
            id=key,
            text=row["question"],
            label=0,
            source="medquad",
            kind="benign-clinical",
            split=hashed_split(key),
        )
    test_ids = set(json.loads((benign / "pubmedqa" / "test_ground_truth.json").read_text()))
    for pmid, row in json.loads((benign / "pubmedqa" / "ori_pqal.json").read_text()).items():
        yield Example(
            id=f"pubmedqa-{pmid}",
            text=" ".join(row["CONTEXTS"]),
            label=0,
            source="pubmedqa",
            kind="benign-clinical",
            split="test" if pmid in test_ids else "train",
        )
    for name in ("medqa_us_test", "medmcqa_test_subset", "mmlu_medical_test"):
        for row in _jsonl(benign / "medqa_medmcqa_mmlu" / f"{name}.jsonl"):
            key = f"{name}-{row['realidx']}"
            yield Example(
                id=key,
                text=row["question"],
                label=0,
                source=name.split("_")[0],
                kind="benign-clinical",
                split=hashed_split(key),
            )


def public(root: str | Path) -> list[Example]:
    """Every public example under ``root`` (the shared data folder), with its split."""
    base = Path(root)
    return [*_injection(base), *_over_defence(base), *_clinical(base)]


def medsafety(root: str | Path) -> Iterator[tuple[str, int, str]]:
    """MedSafetyBench harmful requests as ``(text, category, split)``: GPT-4 set tunes, Llama-2 set tests."""
    base = Path(root) / "safety" / "medsafetybench" / "test"
    for model, split in (("gpt4", "train"), ("llama2", "test")):
        for category in range(1, 10):
            with (base / model / f"med_safety_demonstrations_category_{category}.csv").open(
                encoding="utf-8"
            ) as f:
                for row in csv.DictReader(f):
                    yield row["harmful_medical_request"], category, split
