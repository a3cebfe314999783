"""A target that calls a Python function: for applications that are not behind HTTP."""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from medsec.errors import TargetError
from medsec.targets.base import Reply
from medsec.types import Message


def resolve(ref: str) -> Callable[..., Any]:
    """Import ``module:function`` (dotted attributes allowed after the colon).

    Raises:
        TargetError: When the reference is malformed, the module is missing or the attribute is not callable.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"python target needs 'module:function', got {ref!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import module {module_name!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise TargetError(f"{ref!r} is not callable")
    return obj  # type: ignore[no-any-return]


def _as_reply(value: Any, ref: str, latency: float) -> Reply:
    if isinstance(value, Reply):
        return value.model_copy(update={"latency_s": value.latency_s or latency})
    if isinstance(value, str):
        return Reply(text=value, finish_reason="stop", latency_s=latency)
    raise TargetError(f"{ref} returned {type(value).__name__}; expected str or medsec.targets.Reply")


@dataclass(frozen=True)
class PythonTarget:
    """Call a user's function ``module:function`` with the messages; it returns a str or a Reply.

    The function may be sync (run in a worker thread) or async. It receives a list of
    ``{"role", "content"}`` dicts unless ``pass_messages`` is true, then the Message objects themselves.

    Args:
        function: ``module:function`` to call.
        pass_messages: Pass Message objects instead of plain dicts.
    """

    function: str = "medsec.targets.python:echo"
    pass_messages: bool = False

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Call the function and wrap what it returns."""
        fn = resolve(self.function)
        payload: Any = (
            list(messages) if self.pass_messages else [m.model_dump(exclude_defaults=True) for m in messages]
        )
        start = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(fn):
                value = await fn(payload)
            else:
                value = await anyio.to_thread.run_sync(fn, payload)
        except TargetError:
            raise
        except Exception as exc:
            raise TargetError(f"{self.function} raised {type(exc).__name__}") from exc
        return _as_reply(value, self.function, time.perf_counter() - start)


def echo(messages: list[dict[str, Any]]) -> str:
    """Return the last user message: the default function, for trying the python target out."""
    return next((str(m["content"]) for m in reversed(messages) if m.get("role") == "user"), "")
