"""``medsec deid``: de-identify plain text or JSON lines with the PHI engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from medsec.cli._common import jsonl_record
from medsec.errors import MedsecError
from medsec.phi.model import Mode


class DeidFormat(StrEnum):
    """Input and output formats of ``medsec deid``."""

    text = "text"
    jsonl = "jsonl"


@contextmanager
def _open(file: str) -> Iterator[TextIO]:
    if file == "-":
        yield sys.stdin
        return
    try:
        with Path(file).open(encoding="utf-8", newline="") as handle:
            yield handle
    except FileNotFoundError:
        raise MedsecError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise MedsecError(f"{file}: is a directory") from None


def _record(line: str, number: int) -> tuple[Any, str]:
    """Parse one JSONL line into its id and text; errors name the line, never its content."""
    data = jsonl_record(line, number)
    return data.get("id"), data["text"]


def _jsonl(handle: TextIO, mode: Mode) -> None:
    from medsec.phi.transform import Surrogates, deidentify

    session = Surrogates()
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        record_id, text = _record(line, number)
        result = deidentify(text, mode, surrogates=session)
        spans = [{"start": s.start, "end": s.end, "type": s.type.value} for s in result.spans]
        out = {"id": record_id, "text": result.text, "spans": spans}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


def deid(
    file: Annotated[
        str, typer.Argument(metavar="[FILE|-]", help="Text to de-identify; - reads stdin.")
    ] = "-",
    mode: Annotated[Mode, typer.Option("--mode", "-m", help="What to write in place of PHI.")] = Mode.REDACT,
    fmt: Annotated[
        DeidFormat,
        typer.Option(
            "--format",
            "-f",
            help='text, or jsonl: lines {"id", "text"} in, {"id", "text", "spans"} out, '
            "span offsets into the input text.",
        ),
    ] = DeidFormat.text,
) -> None:
    """De-identify clinical text: find the 18 HIPAA identifiers and redact, mask or replace them."""
    with _open(file) as handle:
        if fmt is DeidFormat.jsonl:
            _jsonl(handle, mode)
            return
        from medsec.phi.transform import deidentify_stream

        for block in deidentify_stream(handle, mode):
            sys.stdout.write(block)
