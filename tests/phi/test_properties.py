from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medsec.phi import deidentify, detect

PIECES = st.sampled_from(
    [
        "John Smith",
        " ",
        "\n",
        "04/17/1951",
        "MRN 12345678",
        "\u200b",
        "４",
        "Dr. ",
        "410-555-0100",
        "é",
        "Ｊ",
        "a",
    ]
)
TEXTS = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=30).map("".join))


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_never_raises_and_offsets_are_valid(text: str) -> None:
    spans = detect(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_redaction_is_idempotent(text: str) -> None:
    once = deidentify(text).text
    assert deidentify(once).text == once


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXTS, max_size=8))
def test_batch_equals_one_by_one(texts: list[str]) -> None:
    from medsec.phi import detect_batch

    assert detect_batch(texts, block=64) == [detect(text) for text in texts]
