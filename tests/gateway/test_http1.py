"""The gateway's small HTTP/1.1 client against a scripted loopback server: framing, reuse and faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from medsec.gateway import http1
from medsec.gateway.config import UpstreamConfig
from medsec.gateway.upstream import Upstream, UpstreamError, _failure

Reply = Callable[[asyncio.StreamWriter, bytes], Any]


def sized(body: bytes, status: int = 200, extra: str = "") -> bytes:
    return f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode() + body


def chunked(*parts: bytes) -> bytes:
    body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + body


class Server:
    """Answers request ``i`` with ``replies[i]`` (bytes to write, or a coroutine function)."""

    def __init__(self, replies: list[bytes | Reply]) -> None:
        self.replies = replies
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                size = next(
                    (
                        int(h.split(b":")[1])
                        for h in head.lower().split(b"\r\n")
                        if h.startswith(b"content-length:")
                    ),
                    0,
                )
                self.requests.append(head + await reader.readexactly(size))
                reply = self.replies[len(self.requests) - 1]
                if isinstance(reply, bytes):
                    writer.write(reply)
                    await writer.drain()
                elif await reply(writer, head):
                    return
        writer.close()


@contextlib.asynccontextmanager
async def serve(replies: list[bytes | Reply]) -> AsyncIterator[tuple[Server, str]]:
    server = Server(replies)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    try:
        yield server, f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/v1"
    finally:
        listener.close()
        for writer in server.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await listener.wait_closed()


async def reset(writer: asyncio.StreamWriter, _head: bytes) -> bool:
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return True


async def close(writer: asyncio.StreamWriter, _head: bytes) -> bool:
    writer.close()
    return True


async def test_keep_alive_reuses_one_connection_and_sends_the_request_head() -> None:
    async with serve([sized(b'{"a": 1}'), sized(b'{"b": 2}')]) as (server, url):
        pool = http1.Pool(url, {"Authorization": "Bearer k"})
        first = await pool.request("POST", "chat/completions", b'{"x": 1}')
        second = await pool.request("POST", "chat/completions", b'{"x": 2}')
        pool.close()
    assert (first.status, first.body, second.body) == (200, b'{"a": 1}', b'{"b": 2}')
    assert server.connections == 1
    head = server.requests[0].decode()
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert "authorization: Bearer k\r\n" in head.lower().replace(
        "authorization: bearer", "authorization: Bearer"
    )
    assert "content-length: 8\r\n" in head and head.endswith('{"x": 1}')


async def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    until_close = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it"

    async def then_close(writer: asyncio.StreamWriter, _head: bytes) -> bool:
        writer.write(until_close)
        await writer.drain()
        writer.close()
        return True

    async with serve([chunked(b"hel", b"lo"), then_close, sized(b"again")]) as (server, url):
        pool = http1.Pool(url)
        assert (await pool.request("POST", "x", b"{}")).body == b"hello"
        assert (await pool.request("POST", "x", b"{}")).body == b"all of it"
        assert (await pool.request("POST", "x", b"{}")).body == b"again"
        pool.close()
    assert server.connections == 2  # the close-delimited answer ended its connection


async def test_lines_are_split_across_chunk_boundaries() -> None:
    async with serve([chunked(b'data: {"a"', b": 1}\n\nda", b"ta: [DONE]\n\n")]) as (_, url):
        pool = http1.Pool(url)
        response = await pool.open("POST", "x", b"{}")
        lines = [line async for line in response.iter_lines()]
        pool.close()
    assert lines == ['data: {"a": 1}', "", "data: [DONE]", ""]


async def test_an_idle_connection_closed_by_the_server_is_replaced() -> None:
    async def answer_then_close(writer: asyncio.StreamWriter, _head: bytes) -> bool:
        writer.write(sized(b"one"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        return True

    async with serve([answer_then_close, sized(b"two")]) as (server, url):
        pool = http1.Pool(url)
        assert (await pool.request("POST", "x", b"{}")).body == b"one"
        await asyncio.sleep(0.2)  # the server closes the kept connection meanwhile
        assert (await pool.request("POST", "x", b"{}")).body == b"two"
        pool.close()
    assert server.connections == 2


async def test_faults_raise_the_client_errors() -> None:
    async def never(writer: asyncio.StreamWriter, _head: bytes) -> bool:
        await asyncio.sleep(5)
        return True

    async def half(writer: asyncio.StreamWriter, head: bytes) -> bool:
        writer.write(sized(b"0123456789")[:-4])
        await writer.drain()
        return await reset(writer, head)

    async with serve([never, reset, half, b"NOT HTTP\r\n\r\n"]) as (_, url):
        pool = http1.Pool(url, timeout_s=1.0)
        with pytest.raises(http1.ReadTimeoutError):
            await pool.request("POST", "x", b"{}")
        for _ in range(3):
            with pytest.raises(http1.RemoteProtocolError):
                await pool.request("POST", "x", b"{}")
        pool.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(http1.ConnectError):
        await http1.Pool(f"http://127.0.0.1:{port}").request("GET", "x")


def _completion(text: str) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return sized(json.dumps({"id": "up", "choices": [choice]}).encode())


async def test_the_upstream_maps_client_failures_to_gateway_errors() -> None:
    async def slow(writer: asyncio.StreamWriter, _head: bytes) -> bool:
        await asyncio.sleep(5)
        return True

    error = b'{"error": {"type": "server_error", "message": "secret detail"}}'
    async with serve([_completion("hi"), slow, sized(error, 500), reset]) as (_, url):
        upstream = Upstream(UpstreamConfig(url=url, timeout_s=1.0, retries=0))
        assert upstream.raw
        assert (await upstream.complete({"messages": []}))["choices"][0]["message"]["content"] == "hi"
        failures = []
        for _ in range(3):
            with pytest.raises(UpstreamError) as caught:
                await upstream.complete({"messages": []})
            failures.append((caught.value.status, caught.value.code, str(caught.value)))
        await upstream.aclose()
    assert failures == [
        (504, "upstream_timeout", "the upstream timed out (ReadTimeoutError)"),
        (502, "upstream_error", "the upstream answered HTTP 500 (server_error)"),
        (502, "upstream_unreachable", "the upstream failed (RemoteProtocolError)"),
    ]


async def test_the_upstream_streams_events_until_done() -> None:
    sse = b'data: {"n": 1}\n\n: comment\n\ndata: {"n": 2}\n\ndata: [DONE]\n\n'
    async with serve([chunked(sse[:10], sse[10:])]) as (server, url):
        upstream = Upstream(UpstreamConfig(url=url, retries=0))
        events = [e async for e in upstream.events({"messages": []})]
        await upstream.aclose()
    assert events == [{"n": 1}, {"n": 2}]
    assert json.loads(server.requests[0].split(b"\r\n\r\n", 1)[1])["stream"] is True


def test_a_proxy_in_the_environment_sends_the_upstream_through_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert not Upstream(UpstreamConfig(url="https://api.example.com/v1")).raw
    assert Upstream(UpstreamConfig(url="https://internal.example/v1")).raw


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
async def test_https_verifies_the_certificate_and_sends_the_host(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server = Server([sized(b'{"ok": true}')])
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_tls)
    port = listener.sockets[0].getsockname()[1]
    try:
        trusted = http1.Pool(
            f"https://localhost:{port}/v1", ssl_context=ssl.create_default_context(cafile=cert)
        )
        assert (await trusted.request("POST", "chat/completions", b"{}")).body == b'{"ok": true}'
        trusted.close()
        with pytest.raises(http1.ConnectError):  # the system's trust store does not know this certificate
            await http1.Pool(f"https://localhost:{port}/v1").request("POST", "chat/completions", b"{}")
    finally:
        for writer in server.writers:
            writer.close()
        listener.close()
    assert f"host: localhost:{port}\r\n" in server.requests[0].decode()


async def test_an_answer_left_unread_closes_its_connection_at_once() -> None:
    async def unfinished(writer: asyncio.StreamWriter, _head: bytes) -> bool:
        writer.write(chunked(b"data: [DONE]\n\n")[:-5])  # the last chunk never comes
        await writer.drain()
        await asyncio.sleep(5)
        return True

    async with serve([unfinished, sized(b"next")]) as (server, url):
        pool = http1.Pool(url)
        response = await pool.open("POST", "x", b"{}")
        async for line in response.iter_lines():
            if line == "data: [DONE]":
                break
        response.close()
        assert not pool._idle and response._conn is None
        assert (await pool.request("POST", "x", b"{}")).body == b"next"
        pool.close()
    assert server.connections == 2


async def test_answers_over_the_size_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge (or endless) upstream answer cannot exhaust memory: sized, chunked and line limits."""
    big = b"x" * 64
    replies: list[bytes | Reply] = [sized(big), chunked(big[:40], big[40:]), sized(b"ok"), chunked(b"a" * 50)]
    async with serve(replies) as (_, url):
        pool = http1.Pool(url, max_body=32)
        for _ in range(2):
            with pytest.raises(http1.TooLargeError):
                await pool.request("POST", "x", b"{}")
        assert (await pool.request("POST", "x", b"{}")).body == b"ok"  # a fresh connection still works
        monkeypatch.setattr(http1, "MAX_LINE", 16)
        response = await http1.Pool(url).open("POST", "x", b"{}")
        with pytest.raises(http1.TooLargeError):
            _ = [line async for line in response.iter_lines()]  # one line, never ended
        pool.close()
    failure = _failure(http1.TooLargeError("an answer over 32 bytes"))
    assert (failure.status, failure.code) == (502, "upstream_bad_response")
