from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from medsec.guard import Context, Pipeline, Step, Verdict
from medsec.guard.scanner import Channel
from medsec.types import Finding


@dataclass(frozen=True)
class Toy:
    """A scripted scanner."""

    result: Verdict = Verdict()
    fail: bool = False
    channels: frozenset[Channel] = field(default=frozenset({"input", "output"}), init=False)
    defends: str = field(default="injection-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        if self.fail:
            raise RuntimeError("boom")
        if self.result.text == "UPPER":
            return Verdict(action="redact", text=text.upper(), findings=self.result.findings)
        return self.result


def _f(label: str, score: float = 1.0, start: int | None = None, end: int | None = None) -> Finding:
    return Finding(label=label, score=score, start=start, end=end)


async def test_block_wins_and_stops() -> None:
    later = Toy(Verdict(action="flag", findings=(_f("later"),)))
    p = Pipeline((Step("a", Toy(Verdict(action="block", findings=(_f("x"),)))), Step("b", later)))
    out = await p.run("input", "hello")
    assert out.blocked and out.text is None
    assert [(f.scanner, f.label) for f in out.findings] == [("a", "x")]


async def test_redact_hands_text_to_next_and_most_severe_wins() -> None:
    seen: list[str] = []

    @dataclass(frozen=True)
    class Spy:
        """Records what it sees."""

        channels: frozenset[Channel] = frozenset({"input"})
        defends: str = "injection-detection"

        async def __call__(self, text: str, ctx: Context) -> Verdict:
            seen.append(text)
            return Verdict(action="flag", findings=(_f("spy"),))

    p = Pipeline((Step("up", Toy(Verdict(text="UPPER", findings=(_f("u"),)))), Step("spy", Spy())))
    out = await p.run("input", "abc")
    assert seen == ["ABC"] and out.text == "ABC" and out.action == "flag"


async def test_fail_closed_by_default_and_open_on_request() -> None:
    closed = await Pipeline((Step("bad", Toy(fail=True)),)).run("input", "x")
    assert closed.blocked and closed.findings[0].label == "guard.error"
    opened = await Pipeline((Step("bad", Toy(fail=True), fail_open=True),)).run("input", "x")
    assert opened.action == "allow" and opened.text == "x" and opened.findings[0].label == "guard.error"


async def test_threshold_and_action_map() -> None:
    low = Step("t", Toy(Verdict(action="block", findings=(_f("a.b", 0.3),))), threshold=0.5)
    assert (await Pipeline((low,)).run("input", "x")).action == "allow"
    mapped = Step(
        "m", Toy(Verdict(action="block", findings=(_f("a.b", 0.9, 0, 1),))), actions=(("a.*", "redact"),)
    )
    out = await Pipeline((mapped,)).run("input", "xyz")
    assert out.action == "redact" and out.text == "[REDACTED]yz"


@pytest.mark.parametrize("channel", ["context", "tool_call"])
async def test_only_subscribed_channels_run(channel: Channel) -> None:
    p = Pipeline((Step("a", Toy(Verdict(action="block", findings=(_f("x"),)))),))
    assert (await p.run(channel, "x")).action == "allow"
    restricted = Pipeline(
        (Step("a", Toy(Verdict(action="block", findings=(_f("x"),))), channels=frozenset({"output"})),)
    )
    assert (await restricted.run("input", "x")).action == "allow"
