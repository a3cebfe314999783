"""Verifying the audit log: walk the chain, check every MAC, compare the tail with head and anchor.

What each problem means:

- ``edited``: a row's MAC does not match its content (a field was changed, or a row was moved);
- ``chain``: a row's ``prev`` is not the MAC of the row before it (a row was deleted, inserted or moved);
- ``gap``: sequence numbers jump (rows were deleted);
- ``checkpoint``: a checkpoint does not name the row before it;
- ``truncated``: the head row or the anchor file names rows the log no longer has;
- ``anchor``: the anchor names a row whose MAC differs (the database was rewritten).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from medsec.gateway.audit import GENESIS, AuditLog, row_mac
from medsec.types import Frozen

ProblemKind = Literal["edited", "chain", "gap", "checkpoint", "truncated", "anchor"]


class Problem(Frozen):
    """One thing verification found wrong, and where."""

    kind: ProblemKind
    seq: int
    message: str


class Verification(Frozen):
    """The result of :func:`verify`.

    Attributes:
        ok: Whether no problem was found.
        rows: Rows read.
        records: Request records read.
        checkpoints: Checkpoints read.
        last_good: The seq up to which the log verifies (0: none).
        problems: What was wrong, first problem first.
        notes: Things worth knowing that are not tampering (a torn last anchor line after a crash).
    """

    ok: bool
    rows: int = 0
    records: int = 0
    checkpoints: int = 0
    last_good: int = 0
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()


def _check_row(key: bytes, row: dict[str, Any], expected: int, prev: str) -> list[Problem]:
    seq, found = int(row["seq"]), []
    if seq != expected:
        missing = seq - expected
        what = f"{missing} row(s) missing before it" if missing > 0 else "out of order"
        found.append(Problem(kind="gap", seq=seq, message=f"seq {seq} where {expected} was due: {what}"))
    if row_mac(key, seq, row["kind"], row["time"], row["prev"], row["body"]) != row["mac"]:
        found.append(Problem(kind="edited", seq=seq, message=f"seq {seq}: MAC does not match the content"))
    if row["prev"] != prev:
        message = f"seq {seq}: does not follow the row before it (a row was deleted, inserted or moved)"
        found.append(Problem(kind="chain", seq=seq, message=message))
    if row["kind"] == "checkpoint":
        body = json.loads(row["body"])
        if body.get("upto") != seq - 1 or body.get("head") != row["prev"]:
            message = f"seq {seq}: checkpoint does not name the row before it"
            found.append(Problem(kind="checkpoint", seq=seq, message=message))
    return found


def _walk(log: AuditLog) -> tuple[dict[int, str], list[Problem], dict[str, int]]:
    """Check every row; return seq → MAC, the problems, and counts."""
    macs: dict[int, str] = {}
    problems: list[Problem] = []
    counts = {"rows": 0, "records": 0, "checkpoints": 0, "last_good": 0, "last": 0}
    expected, prev = 1, GENESIS
    for row in log.rows():
        found = _check_row(log.key, row, expected, prev)
        problems += found
        seq = int(row["seq"])
        macs[seq] = row["mac"]
        counts["rows"] += 1
        counts["records" if row["kind"] == "record" else "checkpoints"] += 1
        if not problems:
            counts["last_good"] = seq
        counts["last"] = seq
        expected, prev = seq + 1, row["mac"]  # resynchronise so later damage is reported too
    return macs, problems, counts


def _anchors(path: Path, notes: list[str]) -> Iterable[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            if i == len(lines) - 1:
                notes.append(f"{path.name}: last line incomplete (a crash mid-write); ignored")
            else:
                notes.append(f"{path.name}:{i + 1}: unreadable anchor line")


def _tail(
    log: AuditLog, macs: dict[int, str], last: int, anchor: Path | None, notes: list[str]
) -> list[Problem]:
    problems = []
    head_seq, head_mac = log.head()
    if head_seq > last:
        message = f"log ends at seq {last} but its head names seq {head_seq}: the tail was cut"
        problems.append(Problem(kind="truncated", seq=last + 1, message=message))
    elif head_seq and macs.get(head_seq) != head_mac:
        problems.append(
            Problem(kind="anchor", seq=head_seq, message=f"head names seq {head_seq} with another MAC")
        )
    for a in _anchors(anchor, notes) if anchor is not None else ():
        seq = int(a.get("seq", 0))
        if seq > last:
            message = f"anchor names checkpoint seq {seq} but the log ends at {last}: the tail was cut"
            problems.append(Problem(kind="truncated", seq=last + 1, message=message))
            break
        if macs.get(seq) != a.get("mac"):
            message = f"anchor names checkpoint seq {seq} with another MAC: the log was rewritten"
            problems.append(Problem(kind="anchor", seq=seq, message=message))
    return problems


def verify(log: AuditLog, anchor: Path | None = None) -> Verification:
    """Verify the whole log, and its tail against the head row and the anchor file.

    Args:
        log: The log, opened with the key it was written with.
        anchor: The anchor file (default: the log's own).

    Returns:
        What was checked and every problem, each with the seq where it was found.
    """
    notes: list[str] = []
    macs, problems, counts = _walk(log)
    problems += _tail(log, macs, counts["last"], anchor or log.anchor_file, notes)
    last_good = counts["last_good"] if problems else counts["last"]
    if problems and problems[0].kind in ("truncated", "anchor"):
        last_good = min(counts["last"], problems[0].seq - 1)
    return Verification(
        ok=not problems,
        rows=counts["rows"],
        records=counts["records"],
        checkpoints=counts["checkpoints"],
        last_good=last_good,
        problems=tuple(problems),
        notes=tuple(notes),
    )
