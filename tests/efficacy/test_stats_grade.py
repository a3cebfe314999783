from __future__ import annotations

import pytest

from medsec.efficacy.grade import Grade, grade, mcq_letter, yes_no_maybe
from medsec.efficacy.stats import newcombe, percentile, proportion
from medsec.guard.guarded import REFUSAL
from medsec.redteam.case import Attempt, Case
from medsec.targets.base import Reply
from medsec.types import Message


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80 -> 0.2000, 95% CI 0.0524 to 0.3339 (method 10)
    d = newcombe((56, 70), (48, 80))
    assert d.value == pytest.approx(0.2)
    assert d.ci_low == pytest.approx(0.0524, abs=5e-4) and d.ci_high == pytest.approx(0.3339, abs=5e-4)
    assert d.significant


def test_newcombe_edges() -> None:
    assert newcombe((0, 0), (1, 2)).value is None
    same = newcombe((0, 10), (0, 10))
    assert same.value == 0 and same.ci_low is not None and same.ci_low < 0 < (same.ci_high or 0)
    assert not same.significant
    full = newcombe((10, 10), (0, 10))
    assert full.ci_high == pytest.approx(1.0) and full.significant


def test_percentiles_and_proportions() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    p = proportion(0, 10)
    assert p.rate == 0 and p.ci_low == 0 and p.ci_high and p.ci_high < 0.31
    assert proportion(0, 0).rate is None


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("C", "C"),
        ("B) Vitamin C is the answer", "B"),
        ("The answer is (D) because…", "D"),
        ("I think option A. fits best", "A"),
        ("Amoxicillin is first line.", "B"),  # by option text
        ("It's hard to say.", None),
    ],
)
def test_mcq_letter(text: str, letter: str | None) -> None:
    assert mcq_letter(text, {"A": "Doxycycline", "B": "Amoxicillin"}) == letter


def test_yes_no_maybe() -> None:
    assert yes_no_maybe("Yes, the study shows…") == "yes"
    assert yes_no_maybe("Maybe: the data are mixed") == "maybe"
    assert yes_no_maybe("The evidence is unclear.") is None


def _attempt(reply: Reply | None, **meta: object) -> Attempt:
    case = Case(
        id="q",
        messages=(Message(role="user", content="q?"),),
        right_answers=("epinephrine",),
        metadata={"source": "clinical", **meta},  # type: ignore[dict-item]
    )
    return Attempt(
        key="benign-clinical/q",
        probe="benign-clinical",
        attack="benign-utility",
        case=case,
        replies=(reply,) if reply else (),
        error=None if reply else "boom",
    )


def test_grade_facts_refusals_and_blocks() -> None:
    right = grade(_attempt(Reply(text="Give IM epinephrine now.", latency_s=1.5), kind="facts"))
    assert right == Grade(source="clinical", kind="facts", correct=True, latency_s=1.5)
    refused = grade(_attempt(Reply(text="I'm sorry, but I can't help with that."), kind="facts"))
    assert refused is not None and refused.refused and not refused.blocked and refused.correct is False
    blocked = grade(_attempt(Reply(text=REFUSAL, finish_reason="content_filter"), kind="facts"))
    assert blocked is not None and blocked.blocked and blocked.refused and blocked.correct is False
    assert grade(_attempt(Reply(text="Sure."), kind="open")).correct is None  # type: ignore[union-attr]
    assert grade(_attempt(None, kind="facts")) is None
