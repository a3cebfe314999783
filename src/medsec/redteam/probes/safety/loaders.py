"""Harmful-request sets: our own (package YAML) and public ones read by path (MedSafetyBench, HarmBench CSV).

Public files are never copied into the package: users point a probe at them, and errors name the file and
line (never the row's text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import Field, field_validator

from medsec.config import read_text, read_yaml, validate_document
from medsec.errors import ConfigError
from medsec.types import Frozen

DATA = Path(__file__).parent / "data"
MAX_CSV_BYTES = 64 * 1024 * 1024
"""Dataset files larger than this are refused rather than read."""

CATEGORIES: dict[str, str] = {
    "competence-dignity": "I. Competent care, with compassion and respect for human dignity and rights",
    "professionalism-honesty": "II. Professionalism and honesty; reporting fraud and deficient colleagues",
    "law-society": "III. Respect for the law; responsibility to society",
    "patient-rights": "IV. Rights of patients; confidentiality and privacy",
    "knowledge-sharing": "V. Continued study; sharing information; consultation",
    "freedom-of-choice": "VI. Freedom to choose whom to serve, except in emergencies",
    "public-health": "VII. Improvement of the community and public health",
    "patient-first": "VIII. Responsibility to the patient as paramount",
    "care-for-all": "IX. Access to medical care for all people",
}
"""The nine AMA Principles of Medical Ethics, in order: MedSafetyBench's ``category_1`` … ``category_9``."""


class HarmfulRequest(Frozen):
    """One harmful request a safe assistant refuses.

    Attributes:
        id: Stable within its set.
        category: One of :data:`CATEGORIES` for medical sets; a dataset's own label otherwise.
        text: The request.
    """

    id: str = Field(min_length=1)
    category: str = Field(min_length=1)
    text: str = Field(min_length=1)


class OwnHarmful(HarmfulRequest):
    """A request of our own set, whose category must be one of the nine principles."""

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category; expected one of {', '.join(CATEGORIES)}")
        return value


class BenignRequest(Frozen):
    """A legitimate clinical request that looks dangerous; refusing it is the failure.

    Attributes:
        id: Stable within the set.
        topic: What makes it look dangerous (``lethal-dose``, ``harm-reduction`` …).
        text: The request.
        pair: The id of the harmful request whose surface it shares, if any.
    """

    id: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    text: str = Field(min_length=1)
    pair: str | None = None


class _HarmfulFile(Frozen):
    requests: tuple[OwnHarmful, ...] = Field(min_length=1)


class _BenignFile(Frozen):
    requests: tuple[BenignRequest, ...] = Field(min_length=1)


@cache
def own_harmful() -> tuple[HarmfulRequest, ...]:
    """Our own harmful requests (``data/harmful.yaml``), ten per AMA principle."""
    return validate_document(_HarmfulFile, read_yaml(DATA / "harmful.yaml")).requests


@cache
def own_benign() -> tuple[BenignRequest, ...]:
    """Our own benign look-alike requests (``data/benign.yaml``)."""
    return validate_document(_BenignFile, read_yaml(DATA / "benign.yaml")).requests


R = TypeVar("R", HarmfulRequest, BenignRequest)


def interleave(items: Iterable[R], key: str = "category") -> list[R]:
    """Round-robin over groups (categories, topics) so the first N items span as many groups as possible."""
    groups: dict[str, list[R]] = {}
    for item in items:
        groups.setdefault(str(getattr(item, key)), []).append(item)
    out: list[R] = []
    for i in range(max((len(g) for g in groups.values()), default=0)):
        out += [g[i] for g in groups.values() if i < len(g)]
    return out


def _rows(path: Path, required: Sequence[str]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and (line, row) pairs of a CSV file that must have the ``required`` columns.

    Raises:
        ConfigError: Naming the file (and line) when it is missing, unreadable, too large or malformed.
    """
    text = read_text(path, limit=MAX_CSV_BYTES, expected="a CSV file", encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))  # str.splitlines would split on U+2028 inside cells
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise ConfigError(f"{path}:1: missing column(s) {', '.join(missing)} in the header")
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                where = f"{path}:{reader.line_num}"
                raise ConfigError(f"{where}: {len(row)} fields where the header has {len(header)}")
            rows.append((reader.line_num, dict(zip(header, row, strict=True))))
    except csv.Error as exc:
        raise ConfigError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return header, rows


def _required(path: Path, line: int, row: dict[str, str], column: str) -> str:
    value = row.get(column, "").strip()
    if not value:
        raise ConfigError(f"{path}:{line}: empty {column!r}")
    return value


_CATEGORY_FILE = re.compile(r"category_(\d)\b")


def read_medsafetybench(path: str | Path) -> list[HarmfulRequest]:
    """Read MedSafetyBench CSVs (``,harmful_medical_request,safe_response``): one file, or a folder of them.

    The category comes from the file name (``…category_4.csv`` is principle IV); ids are the file's path
    under the folder and the row's index.

    Raises:
        ConfigError: When the path is missing, holds no CSV, or a file is malformed (file and line named).
    """
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"{root}: no such file or folder")
    files = sorted(root.rglob("*.csv")) if root.is_dir() else [root]
    if not files:
        raise ConfigError(f"{root}: no .csv files in the folder")
    out = []
    for file in files:
        found = _CATEGORY_FILE.search(file.name)
        number = int(found.group(1)) if found else 0
        category = list(CATEGORIES)[number - 1] if 1 <= number <= len(CATEGORIES) else "uncategorised"
        stem = file.relative_to(root).with_suffix("").as_posix() if root.is_dir() else file.stem
        header, rows = _rows(file, ("harmful_medical_request",))
        index = header[0] if header and header[0] == "" else None
        for line, row in rows:
            text = _required(file, line, row, "harmful_medical_request")
            row_id = row[index].strip() if index is not None and row[index].strip() else str(line)
            out.append(HarmfulRequest(id=f"{stem}/{row_id}", category=category, text=text))
    return out


def read_harmbench(path: str | Path) -> list[HarmfulRequest]:
    """Read a HarmBench-style behaviours CSV; AdvBench's file has the same shape.

    ``Behavior`` is required; ``BehaviorID``, ``SemanticCategory`` (or ``Category``) and ``ContextString``
    are used when present.

    A contextual behaviour is sent as its context, a separator and the behaviour, as HarmBench does.

    Raises:
        ConfigError: When the file is missing or malformed (file and line named), or ids repeat.
    """
    file = Path(path)
    _, rows = _rows(file, ("Behavior",))
    out, seen = [], set()
    for line, row in rows:
        behaviour = _required(file, line, row, "Behavior")
        context = row.get("ContextString", "").strip()
        row_id = row.get("BehaviorID", "").strip() or str(line)
        if row_id in seen:
            raise ConfigError(f"{file}:{line}: BehaviorID repeats an earlier row's")
        seen.add(row_id)
        category = (row.get("SemanticCategory") or row.get("Category") or "").strip() or "uncategorised"
        text = f"{context}\n\n---\n\n{behaviour}" if context else behaviour
        out.append(HarmfulRequest(id=row_id, category=category, text=text))
    return out
