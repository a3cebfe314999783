"""Cheap loopback load for the gateway benchmark: a raw HTTP/1.1 keep-alive client and a mock upstream.

Both sit on bare ``asyncio.Protocol`` objects (on uvloop when it is installed) and do as little as an
HTTP exchange allows, so that on a small machine most of the CPU is left to the process being measured:
the client sends pre-encoded requests, one per connection at a time, and reads ``content-length`` framed
answers; the mock answers ``POST …/chat/completions`` with pre-encoded ``chat.completion`` bodies (101
texts in turn) after a fixed latency (``loop.call_later``, no task per request) and ``GET …/healthz`` at
once. Texts vary so that no cache of recent texts in the guard answers for the benchmark. Loopback only.

:func:`cpu_seconds` reads a process's CPU time from ``/proc`` (None elsewhere), so a benchmark can say how
much of the machine the driver and the mock took.
"""

from __future__ import annotations

import asyncio
import collections
import json
import multiprocessing as mp
import os
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar, cast

from _mock_openai import spawn

T = TypeVar("T")

ANSWER = (
    "I'm sorry, but I can't share identifying details about patients you are not caring for. "
    "I can help with general clinical questions or with your own patients' care."
)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed, else on the standard event loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def loop_name() -> str:
    """The event loop :func:`run` uses."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def cpu_seconds(pid: int | None = None) -> float | None:
    """User plus system CPU seconds of a process, all its threads (this one when None); None off Linux."""
    if pid is None:
        return time.process_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores spent busy since boot (``/proc/stat``: everything but idle and iowait)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ProtocolError(Exception):
    """An answer the client cannot frame (no ``content-length``) or a closed connection."""


class _Client(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for its ``content-length`` framed answer."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _nodelay(transport)
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            waiter.set_exception(ProtocolError("an answer without content-length"))
            return
        stop = head.find(b"\r\n", at + 2)
        total = end + 4 + int(head[at + 17 : stop if stop > 0 else None])
        if len(self.buf) >= total:
            body = bytes(self.buf[end + 4 : total])
            del self.buf[:total]
            waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ProtocolError("connection closed"))

    def send(self, raw: bytes) -> Awaitable[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter


def request_bytes(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A pre-encoded ``POST`` with a JSON body."""
    lines = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}", "content-type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def drive(
    port: int,
    raws: Sequence[bytes],
    concurrency: int,
    requests: int,
    max_s: float,
    check: Callable[[int, bytes], str] | None = None,
) -> dict[str, Any]:
    """Send ``requests`` requests, ``raws`` in turn, over ``concurrency`` connections (or until ``max_s``).

    Each connection is warmed by one request first (not counted). Returns the latencies in seconds, the
    wall seconds, the requests sent (warm-ups included), the errors, a count of ``check(status, body)``
    labels, and this process's CPU seconds.
    """
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(concurrency):
        _, proto = await loop.create_connection(_Client, "127.0.0.1", port)
        conns.append(proto)
    await asyncio.gather(*(c.send(raws[i % len(raws)]) for i, c in enumerate(conns)))
    sent = concurrency
    latencies: list[float] = []
    labels: dict[str, int] = {}
    errors = 0
    remaining = requests
    deadline = time.perf_counter() + max_s

    async def worker(conn: _Client) -> None:
        nonlocal remaining, errors, sent
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            sent += 1
            raw = raws[sent % len(raws)]
            start = time.perf_counter()
            try:
                status, body = await conn.send(raw)
            except ProtocolError:
                errors += 1
                return
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors += 1
            if check is not None:
                label = check(status, body)
                labels[label] = labels.get(label, 0) + 1

    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    return {"latencies": latencies, "wall_s": wall, "errors": errors, "labels": labels, "cpu_s": cpu,
            "sent": sent}  # fmt: skip


def finish_reason(status: int, body: bytes) -> str:
    """A ``check`` for :func:`drive`: the completion's finish reason, or the status of a failure."""
    if status != 200:
        return f"http_{status}"
    try:
        return str(json.loads(body)["choices"][0]["finish_reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "unparsed"


def _answer(status: int, payload: Any) -> bytes:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _completion(text: str) -> bytes:
    message = {"role": "assistant", "content": text}
    return _answer(
        200,
        {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 0,
            "model": "mock",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 32, "total_tokens": 72},
        },
    )


COMPLETIONS = tuple(_completion(f"{ANSWER} Review again in {h} hours.") for h in range(2, 103))
"""The mock's answers, in turn: more distinct texts than a scanner's cache of recent texts holds."""
HEALTHY = _answer(200, {"status": "ok"})
MISSING = _answer(404, {"error": {"type": "not_found", "message": "unknown route"}})


class _Mock(asyncio.Protocol):
    """One upstream connection: answers in request order, each completion after the fixed latency."""

    served = 0  # across connections: which of COMPLETIONS comes next

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[list[bytes]] = collections.deque()  # [] until its answer is ready

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _nodelay(transport)
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buf[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            stop = head.find(b"\r\n", at + 2) if at >= 0 else -1
            size = int(head[at + 17 : stop if stop > 0 else None]) if at >= 0 else 0
            if len(self.buf) < end + 4 + size:
                return
            del self.buf[: end + 4 + size]
            target = head.split(b" ", 2)[1].split(b"?")[0].rstrip(b"/")
            slot: list[bytes] = []
            self.queue.append(slot)
            if head.startswith(b"post ") and target.endswith(b"/chat/completions"):
                answer = COMPLETIONS[_Mock.served % len(COMPLETIONS)]
                _Mock.served += 1
                asyncio.get_running_loop().call_later(self.latency_s, self._ready, slot, answer)
            else:
                self._ready(slot, HEALTHY if target.endswith(b"/healthz") else MISSING)

    def _ready(self, slot: list[bytes], answer: bytes) -> None:
        slot.append(answer)
        while self.queue and self.queue[0]:
            ready = self.queue.popleft()[0]
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(ready)

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.clear()


async def _serve(latency_s: float, ready: Connection, max_lifetime_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Mock(latency_s), "127.0.0.1", 0, backlog=1024)
    ready.send(server.sockets[0].getsockname()[1])
    ready.close()
    parent, deadline = os.getppid(), time.monotonic() + max_lifetime_s
    async with server:
        while os.getppid() == parent and time.monotonic() < deadline:
            await asyncio.sleep(0.5)


def _main(latency_s: float, ready: Connection, max_lifetime_s: float) -> None:
    run(_serve(latency_s, ready, max_lifetime_s))


def start_mock(latency_s: float, max_lifetime_s: float = 600.0) -> tuple[mp.process.BaseProcess, int]:
    """Start the mock upstream in its own process (it ends with its parent or after ``max_lifetime_s``).

    Returns the process and the port it listens on (127.0.0.1).
    """
    return spawn(_main, latency_s, max_lifetime_s, "the mock upstream")
