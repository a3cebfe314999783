"""``medsec guard check``: run a guard policy over one text or over JSON lines.

JSON lines contract (stable): each input line is ``{"id", "channel", "text"}``; each output line is
``{"id", "action", "findings": [{"scanner", "label", "score", "start", "end"}], "text"}``, where ``text``
is the text to forward (null when blocked).
"""

from __future__ import annotations

import asyncio
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TextIO, cast

import typer

from medsec.cli._common import jsonl_record, print_json
from medsec.errors import MedsecError

if TYPE_CHECKING:
    from medsec.guard.scanner import Channel

app = typer.Typer(help="Guard: check texts against a guard policy.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Guard: check texts against a guard policy."""


class CheckFormat(StrEnum):
    """Input and output formats of ``medsec guard check``."""

    json = "json"
    jsonl = "jsonl"


def _record(outcome: Any, record_id: Any = None) -> dict[str, Any]:
    findings = [
        {"scanner": f.scanner, "label": f.label, "score": f.score, "start": f.start, "end": f.end}
        for f in outcome.findings
    ]
    return {"id": record_id, "action": outcome.action, "findings": findings, "text": outcome.text}


def _line(line: str, number: int) -> tuple[Any, Channel, str]:
    """Parse one JSONL line; errors name the line, never its content."""
    from medsec.guard.scanner import CHANNELS

    data = jsonl_record(line, number)
    channel = data.get("channel", "input")
    if channel not in CHANNELS:
        raise MedsecError(f"line {number}: channel must be one of {', '.join(CHANNELS)}")
    return data.get("id"), cast("Channel", channel), data["text"]


async def _jsonl(handle: TextIO, policy: str) -> None:
    from medsec.guard.policy import load_policy

    pipeline = load_policy(policy)
    for number, line in enumerate(handle, start=1):
        if line.strip():
            record_id, channel, text = _line(line, number)
            outcome = await pipeline.run(channel, text)
            sys.stdout.write(json.dumps(_record(outcome, record_id), ensure_ascii=False) + "\n")


@app.command()
def check(
    text: Annotated[str, typer.Argument(metavar="[TEXT|-]", help="The text to check; - reads stdin.")] = "-",
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="strict, balanced, or a policy file.")
    ] = "balanced",
    channel: Annotated[
        str, typer.Option("--channel", "-c", help="input, context, tool_call or output.")
    ] = "input",
    fmt: Annotated[
        CheckFormat,
        typer.Option(
            "--format", "-f", help='json (one verdict), or jsonl: lines {"id","channel","text"} in.'
        ),
    ] = CheckFormat.json,
) -> None:
    """Check a text against a guard policy and print the verdict as JSON."""
    from medsec.guard.policy import load_policy
    from medsec.guard.scanner import CHANNELS

    if fmt is CheckFormat.jsonl:
        if text != "-":
            raise MedsecError("--format jsonl reads JSON lines from stdin; pass - or no text")
        asyncio.run(_jsonl(sys.stdin, policy))
        return
    if channel not in CHANNELS:
        raise MedsecError(f"--channel must be one of {', '.join(CHANNELS)}")
    body = sys.stdin.read() if text == "-" else text
    outcome = asyncio.run(load_policy(policy).run(channel, body))
    print_json(_record(outcome) | {"channel": channel, "policy": policy})
