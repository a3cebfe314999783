"""Shifting dates by a number of days while keeping the format they were written in."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
"""Month names, lowercase, in calendar order: the one list every date matcher in medsec uses."""
_MONTHS = [m[:3] for m in MONTHS]
_FULL = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December"]  # fmt: skip
_WEEKDAY = re.compile(r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs?)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+", re.I)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_ISO = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})")
_NAMED = re.compile(
    r"(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?:of\s+)?)?(?P<mon>[A-Za-z]{3,9})\.?"
    r"(?:[\s-]+(?P<d2>\d{1,2})(?:st|nd|rd|th)?)?(?:,?[\s-]*(?P<y>\d{4}))?"
)


def _year(text: str) -> int:
    year = int(text)
    return year + (2000 if year < 50 else 1900) if len(text) == 2 else year


def _pad(value: int, like: str) -> str:
    return f"{value:0{len(like)}d}" if like.startswith("0") or len(like) == 2 else str(value)


def _numeric(text: str, days: int) -> str | None:
    m = _ISO.fullmatch(text)
    if m:
        d = date(int(m[1]), int(m[3]), int(m[4])) + timedelta(days=days)
        return f"{d.year}{m[2]}{_pad(d.month, m[3])}{m[2]}{_pad(d.day, m[4])}"
    m = _NUMERIC.fullmatch(text)
    if m:
        month, day = int(m[1]), int(m[3])
        if month > 12:  # written day first
            month, day = day, month
        d = date(_year(m[4]), month, day) + timedelta(days=days)
        year = str(d.year)[-len(m[4]) :]
        first, second = (d.month, d.day) if int(m[1]) <= 12 else (d.day, d.month)
        return f"{_pad(first, m[1])}{m[2]}{_pad(second, m[3])}{m[2]}{year}"
    return None


def _named(text: str, days: int) -> str | None:
    m = _NAMED.fullmatch(text.strip())
    if not m or m["mon"][:3].lower() not in _MONTHS:
        return None
    day_text = m["d1"] or m["d2"]
    if day_text is None:
        return None  # month and year only: nothing to shift precisely
    month = _MONTHS.index(m["mon"][:3].lower()) + 1
    d = date(int(m["y"]) if m["y"] else 2000, month, int(day_text)) + timedelta(days=days)
    name = _FULL[d.month - 1] if len(m["mon"]) > 3 or m["mon"].lower() == "may" else _FULL[d.month - 1][:3]
    out = f"{d.day} {name}" if m["d1"] else f"{name} {d.day}"
    return f"{out} {d.year}" if m["y"] and m["d1"] else f"{out}, {d.year}" if m["y"] else out


def shift_date(text: str, days: int) -> str | None:
    """Return ``text`` moved by ``days`` in the same format, or None when it cannot be read as a date.

    Args:
        text: A date as written, e.g. ``04/17/1951``, ``2024-11-21``, ``April 17, 1951``, ``17 Apr``.
        days: Days to add (negative to go back).

    Returns:
        The shifted date, or None.
    """
    text = _WEEKDAY.sub("", text.strip(), count=1)  # the weekday would no longer be true
    try:
        return _numeric(text, days) or _named(text, days)
    except (ValueError, OverflowError):
        return None
