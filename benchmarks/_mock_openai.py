"""A loopback mock of an OpenAI-compatible chat-completions server with a fixed latency, for benchmarks.

Plain asyncio streams, HTTP/1.1 keep-alive, ``TCP_NODELAY`` on every connection (without it Nagle's
algorithm adds about 40 ms to each response). It answers ``POST …/chat/completions`` after sleeping
``latency_s`` with a valid ``chat.completion`` body and ``GET …/models`` at once. Bound to 127.0.0.1 only.

Control endpoints for the benchmark that drives it: ``GET /_stats`` (completions served, the time of
the first request and the last response since the last reset, the most requests seen in flight at
once), ``POST /_reset`` and ``POST /_shutdown``. The server also stops on its own when its parent
process exits or after ``max_lifetime_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

ANSWER = (
    "I'm sorry, but I can't share identifying details about patients you are not caring for. "
    "I can help with general clinical questions or with your own patients' care."
)
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required"}


@dataclass
class _Stats:
    completions: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    first_request: float | None = None
    last_response: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "completions": self.completions,
            "max_in_flight": self.max_in_flight,
            "first_request": self.first_request,
            "last_response": self.last_response,
            "window_s": (
                self.last_response - self.first_request
                if self.first_request is not None and self.last_response is not None
                else None
            ),
        }


def _completion(request: dict[str, Any]) -> dict[str, Any]:
    n = request.get("n") or 1
    n = n if isinstance(n, int) and 1 <= n <= 128 else 1
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or "mock"),
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": ANSWER},
                "logprobs": None,
                "finish_reason": "stop",
            }
            for i in range(n)
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 32 * n, "total_tokens": 40 + 32 * n},
    }


def _response(status: int, payload: Any, keep_alive: bool) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        f"connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("ascii") + body


class MockServer:
    """The server's state and its connection handler.

    Args:
        latency_s: Seconds each chat completion takes.
    """

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.stats = _Stats()
        self.stop = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection until the client closes it."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while not await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return True when the connection should close."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close"
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0].rstrip("/")
        if method == "POST" and path.endswith("/chat/completions"):
            status, payload = await self._chat(body)
        elif method == "GET" and path.endswith("/models"):
            status, payload = 200, {"object": "list", "data": [{"id": "mock", "object": "model"}]}
        elif path == "/_stats":
            status, payload = 200, self.stats.as_dict()
        elif method == "POST" and path == "/_reset":
            self.stats = _Stats()
            status, payload = 200, {"reset": True}
        elif method == "POST" and path == "/_shutdown":
            self.stop.set()
            status, payload, keep_alive = 200, {"stopping": True}, False
        else:
            status, payload = 404, {"error": {"type": "not_found", "message": "unknown route"}}
        writer.write(_response(status, payload, keep_alive))
        await writer.drain()
        return not keep_alive

    async def _chat(self, body: bytes) -> tuple[int, Any]:
        stats = self.stats
        if stats.first_request is None:
            stats.first_request = time.time()
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            stats.in_flight -= 1
            return 400, {"error": {"type": "invalid_request_error", "message": "body is not JSON"}}
        await asyncio.sleep(self.latency_s)
        stats.in_flight -= 1
        stats.completions += 1
        stats.last_response = time.time()
        return 200, _completion(request if isinstance(request, dict) else {})


async def _serve(latency_s: float, ready: Connection, max_lifetime_s: float) -> None:
    mock = MockServer(latency_s)
    server = await asyncio.start_server(mock.handle, "127.0.0.1", 0, backlog=1024, reuse_address=True)
    ready.send(server.sockets[0].getsockname()[1])
    ready.close()
    parent = os.getppid()
    deadline = time.monotonic() + max_lifetime_s
    async with server:
        while not mock.stop.is_set() and os.getppid() == parent and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mock.stop.wait(), timeout=1.0)


def _main(latency_s: float, ready: Connection, max_lifetime_s: float) -> None:
    asyncio.run(_serve(latency_s, ready, max_lifetime_s))


def spawn(
    main: Callable[[float, Connection, float], None], latency_s: float, max_lifetime_s: float, what: str
) -> tuple[mp.process.BaseProcess, int]:
    """Run ``main(latency_s, ready, max_lifetime_s)`` in a spawned process; it sends its port on ``ready``.

    Returns the process and the port it listens on (127.0.0.1).
    """
    ctx = mp.get_context("spawn")
    parent_end, child_end = ctx.Pipe(duplex=False)
    process = ctx.Process(target=main, args=(latency_s, child_end, max_lifetime_s), daemon=True)
    process.start()
    child_end.close()
    if not parent_end.poll(30):
        process.kill()
        raise RuntimeError(f"{what} did not start within 30 s")
    port: int = parent_end.recv()
    return process, port


def start(latency_s: float = 0.05, max_lifetime_s: float = 3600.0) -> tuple[mp.process.BaseProcess, int]:
    """Start the mock in its own process; return the process and the port it listens on."""
    return spawn(_main, latency_s, max_lifetime_s, "the mock server")
