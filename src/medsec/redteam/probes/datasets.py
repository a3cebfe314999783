"""Loaders for public benchmark formats, read by path (medsec never ships their text).

Each loader raises a ConfigError naming the file and the line or entry at fault, never echoing content.
"""

from __future__ import annotations

import ast
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medsec.errors import ConfigError

MAX_BYTES = 256 * 1024 * 1024


def _open(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such dataset file")
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES} bytes")
    return path


def poisonedrag(path: str | Path) -> Iterator[dict[str, Any]]:
    """PoisonedRAG's target files: ``{id: {question, "correct answer", "incorrect answer", adv_texts}}``."""
    p = _open(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{p}: not PoisonedRAG JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected an object of target questions")
    for key, item in data.items():
        fields = ("question", "correct answer", "incorrect answer", "adv_texts")
        if not isinstance(item, dict) or any(f not in item for f in fields):
            raise ConfigError(f"{p}: entry {key!r} lacks one of {', '.join(fields)}")
        yield {"id": str(item.get("id", key)), **{f: item[f] for f in fields}}


def rabbits_pairs(path: str | Path) -> Iterator[tuple[str, str]]:
    """RABBITS' ``generic_to_brand.csv``: (generic, first brand) pairs."""
    p = _open(path)
    with p.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                brands = ast.literal_eval(row["brand"])
                brand = brands[0][0] if isinstance(brands[0], list) else brands[0]
            except (KeyError, ValueError, SyntaxError, IndexError, TypeError):
                raise ConfigError(
                    f"{p}:{line}: expected columns generic,brand with a list of brands"
                ) from None
            yield str(row["generic"]), str(brand)


def medqa(path: str | Path) -> Iterator[dict[str, Any]]:
    """MedQA-style JSONL: lines with ``question``, ``options`` (a dict, or its repr) and ``answer_idx``."""
    p = _open(path)
    with p.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                options = row["options"]
                options = ast.literal_eval(options) if isinstance(options, str) else options
                yield {
                    "id": str(row.get("realidx", line_no)),
                    "question": str(row["question"]),
                    "options": {str(k): str(v) for k, v in dict(options).items()},
                    "answer": str(row["answer_idx"]).strip().upper(),
                }
            except (json.JSONDecodeError, KeyError, ValueError, SyntaxError, TypeError):
                raise ConfigError(
                    f"{p}:{line_no}: not a MedQA-style line (question, options, answer_idx)"
                ) from None
