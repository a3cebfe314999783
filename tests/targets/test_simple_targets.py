from __future__ import annotations

import pytest

from medsec.errors import RegistryError, TargetError
from medsec.targets import TARGETS, FakeTarget, PythonTarget, Reply
from medsec.types import Message

USER = (Message(role="user", content="Tell me about warfarin"),)


async def test_fake_target_scripts_and_records() -> None:
    fake = FakeTarget(rules=(("warfarin", "INR 2-3"),), default="no")
    assert (await fake(USER, session="s")).text == "INR 2-3"
    assert (await fake((Message(role="user", content="hello"),))).text == "no"
    assert [session for _, session in fake.calls] == ["s", None]


async def test_fake_target_can_fail() -> None:
    with pytest.raises(TargetError, match="down"):
        await FakeTarget(fail_with="down")(USER)


def sync_app(messages: list[dict[str, str]]) -> str:
    return f"{len(messages)} message(s)"


async def async_app(messages: list[dict[str, str]]) -> Reply:
    return Reply(text=messages[-1]["content"].upper())


def broken_app(messages: list[dict[str, str]]) -> int:
    return 3


def crashing_app(messages: list[dict[str, str]]) -> str:
    raise RuntimeError("patient Jane Roe")


async def test_python_target_calls_sync_and_async_functions() -> None:
    assert (await PythonTarget(function=f"{__name__}:sync_app")(USER)).text == "1 message(s)"
    assert (await PythonTarget(function=f"{__name__}:async_app")(USER)).text == "TELL ME ABOUT WARFARIN"
    assert (await PythonTarget()(USER)).text == USER[0].content


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("nocolon", "needs 'module:function'"),
        ("no_such_module_x:f", "cannot import"),
        (f"{__name__}:absent", "has no attribute"),
        (f"{__name__}:broken_app", "returned int"),
        (f"{__name__}:crashing_app", "raised RuntimeError"),
    ],
)
async def test_python_target_errors_are_clear(ref: str, error: str) -> None:
    with pytest.raises(TargetError, match=error) as info:
        await PythonTarget(function=ref)(USER)
    assert "Jane" not in str(info.value)


def test_registry_builds_targets_from_compact_specs() -> None:
    target = TARGETS.create("openai:base_url=http://127.0.0.1:9/v1,model=m,max_retries=0")
    assert target == TARGETS.create(TARGETS.spec_of(target))
    with pytest.raises(RegistryError, match="did you mean openai"):
        TARGETS.create("opena1")
