from __future__ import annotations

from medsec.phi import PhiType, detect
from medsec.phi.normalize import normalize


def test_plain_ascii_is_not_copied() -> None:
    text = "nothing to do here 123"
    norm, offsets = normalize(text)
    assert norm is text
    assert offsets.segments == ()


def test_zero_width_and_full_width() -> None:
    text = "Jo\u200bhn Sm\u200bith ４１０-５５５-０１９９"
    kinds = {text[s.start : s.end]: s.type for s in detect(text)}
    assert kinds["Jo\u200bhn Sm\u200bith"] is PhiType.NAME
    assert kinds["４１０-５５５-０１９９"] is PhiType.PHONE


def test_spaced_and_spelled_digits() -> None:
    text = "call 4 1 0 5 5 5 0 1 9 9 or four one zero five five five zero one nine nine"
    covered = [text[s.start : s.end] for s in detect(text)]
    assert "4 1 0 5 5 5 0 1 9 9" in covered
    assert "four one zero five five five zero one nine nine" in covered


def test_confusables() -> None:
    text = "Jоhn Smith"  # Cyrillic o
    assert [(s.start, s.end) for s in detect(text)] == [(0, 10)]
