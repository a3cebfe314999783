from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from medsec.types import Finding, Message, Spec


def test_message_is_frozen_and_strict() -> None:
    message = Message(role="user", content="hello")
    with pytest.raises(ValidationError):
        message.content = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Message(role="doctor", content="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Message(role="user", content="x", extra="no")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("start", "end"),
    [(1, None), (None, 3), (5, 2), (-1, 2)],
)
def test_finding_rejects_broken_spans(start: int | None, end: int | None) -> None:
    with pytest.raises(ValidationError):
        Finding(label="phi.name", score=0.9, start=start, end=end)


def test_finding_rejects_scores_outside_unit_interval() -> None:
    with pytest.raises(ValidationError):
        Finding(label="x", score=1.5)
    assert Finding(label="x", score=1.0, start=0, end=0).end == 0


def test_spec_parse_reads_json_values_and_keeps_strings() -> None:
    spec = Spec.parse("openai: model=gpt-4o-mini, timeout=30, retries=3, stream=false, tags=[1,2]")
    assert spec == Spec(
        name="openai",
        args={"model": "gpt-4o-mini", "timeout": 30, "retries": 3, "stream": False, "tags": [1, 2]},
    )
    assert Spec.parse("fake") == Spec(name="fake")


@pytest.mark.parametrize("text", ["", ":a=1", "x:novalue", "x:=3"])
def test_spec_parse_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError):
        Spec.parse(text)


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.integers() | st.booleans()))
def test_spec_round_trips_through_json(args: dict[str, int | bool]) -> None:
    spec = Spec(name="p", args=dict(args))
    assert Spec.model_validate_json(spec.model_dump_json()) == spec
