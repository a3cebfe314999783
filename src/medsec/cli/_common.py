"""What every command module shares: output formats and the two ways of printing results."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    """Output formats of listing commands."""

    table = "table"
    json = "json"
    markdown = "markdown"


def print_json(data: Any) -> None:
    """Print JSON data, indented, with non-ASCII kept as is."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """A Rich table in a terminal; aligned plain text (no box drawing, no colour) when piped."""
    if stdout.is_terminal:
        table = Table(title=title, show_lines=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        stdout.print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def jsonl_record(line: str, number: int) -> dict[str, Any]:
    """One line of a JSONL input: an object with a string ``text``. Errors name the line, never its content.

    Raises:
        MedsecError: When the line is not JSON or lacks a string ``text`` field.
    """
    from medsec.errors import MedsecError

    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise MedsecError(f"line {number}: not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise MedsecError(f'line {number}: expected an object with a string "text" field')
    return data
