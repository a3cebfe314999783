"""A small HTTP/1.1 client for the gateway's one upstream: keep-alive connections on ``asyncio.Protocol``.

A general client (httpx, with httpcore under it) took about half of the gateway's CPU per request in
profiles: URL models, header objects, a connection pool scanned per request, anyio layers. The gateway
needs much less — ``POST`` JSON to one origin and read the answer whole or as a stream — so this module
does only that: it writes a pre-built request head, frames the answer by ``content-length``, chunked
encoding or connection close, and keeps idle connections for reuse. TLS (``https://``) goes through
``loop.create_connection(ssl=…)``; proxies are not supported (:mod:`medsec.gateway.upstream` uses httpx
when the environment names one).

Failures are :class:`HttpError` subclasses: :class:`ConnectError` (no connection, nothing sent),
:class:`ConnectTimeoutError`, :class:`ReadTimeoutError` (no byte within the read timeout) and
:class:`RemoteProtocolError` (reset, closed early, or an answer that cannot be framed).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
"""The longest response head accepted."""
MAX_BODY = 32 * 1024 * 1024
"""The largest answer body accepted by default (a chat completion is kilobytes; this bounds memory)."""
MAX_LINE = 1024 * 1024
"""The longest line :meth:`Response.iter_lines` accepts (a server-sent event is one line)."""


class HttpError(Exception):
    """The exchange with the upstream failed."""


class ConnectError(HttpError):
    """No connection could be opened; the request was not sent."""


class ConnectTimeoutError(ConnectError):
    """Opening the connection took longer than the connect timeout."""


class ReadTimeoutError(HttpError):
    """No byte arrived within the read timeout."""


class RemoteProtocolError(HttpError):
    """The connection broke, or the answer is not HTTP/1.1 this client can frame."""


class TooLargeError(RemoteProtocolError):
    """The answer (or one of its lines) is larger than the client accepts."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeoutError("no data within the read timeout"))


class _Connection(asyncio.Protocol):
    """One connection: bytes arrive in ``buf``; readers wait on :meth:`more`."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.reused = False
        self.received = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.received = True
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def usable(self) -> bool:
        """Whether an idle connection may carry another request (open, nothing unread)."""
        t = self.transport
        return not self.closed and not self.buf and t is not None and not t.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def more(self, timeout: float) -> None:
        """Wait until more bytes arrive.

        Raises:
            RemoteProtocolError: When the connection is closed.
            ReadTimeoutError: When nothing arrives within ``timeout`` seconds.
        """
        if self.closed:
            raise RemoteProtocolError("the upstream closed the connection")
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None


@dataclass
class Response:
    """An answer's status and headers (names lower-cased); ``body`` once read whole."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    _conn: _Connection | None = field(default=None, repr=False)
    _pool: Pool | None = field(default=None, repr=False)
    _timeout: float = field(default=60.0, repr=False)
    _max_body: int = field(default=MAX_BODY, repr=False)

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives; the connection goes back to the pool when it ends cleanly."""
        conn, pool = self._conn, self._pool
        if conn is None or pool is None:
            if self.body:
                yield self.body
            return
        keep = self.headers.get("connection", "").lower() != "close"
        try:
            if self.status in (204, 304) or 100 <= self.status < 200:
                return
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                parts = _chunked(conn, self._timeout)
            elif "content-length" in self.headers:
                size = _length(self.headers["content-length"])
                if size > self._max_body:
                    raise TooLargeError(f"an answer of {size} bytes (the limit is {self._max_body})")
                parts = _sized(conn, size, self._timeout)
            else:
                keep = False
                parts = _until_close(conn, self._timeout)
            seen = 0
            async for part in parts:
                seen += len(part)
                if seen > self._max_body:
                    raise TooLargeError(f"an answer over {self._max_body} bytes")
                yield part
        except BaseException:
            self._conn = None
            conn.close()
            raise
        finally:
            if self._conn is conn:  # ended cleanly (an early return included)
                self._conn = None
                pool.release(conn, keep)

    async def aread(self) -> bytes:
        """Read the rest of the body (kept in ``body``)."""
        if self._conn is not None:
            self.body = b"".join([part async for part in self.iter_bytes()])
        return self.body

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body as text lines (for server-sent events), without their line ends."""
        pending = b""
        async for part in self.iter_bytes():
            pending += part
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE:
                self.close()
                raise TooLargeError(f"a line over {MAX_LINE} bytes")
            for line in lines:
                yield line.rstrip(b"\r").decode("utf-8", "replace")
        if pending:
            yield pending.rstrip(b"\r").decode("utf-8", "replace")

    def close(self) -> None:
        """Drop the connection of an answer not read to its end (a no-op once it was)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _length(value: str) -> int:
    if not value.strip().isdigit():
        raise RemoteProtocolError("a content-length that is not a number")
    return int(value)


async def _sized(conn: _Connection, size: int, timeout: float) -> AsyncIterator[bytes]:
    while size > 0:
        if not conn.buf:
            await conn.more(timeout)
            continue
        part = bytes(conn.buf[:size])
        del conn.buf[: len(part)]
        size -= len(part)
        yield part


async def _line(conn: _Connection, timeout: float) -> bytes:
    while (end := conn.buf.find(b"\r\n")) < 0:
        if len(conn.buf) > MAX_HEAD:
            raise RemoteProtocolError("a chunk header too long")
        await conn.more(timeout)
    line = bytes(conn.buf[:end])
    del conn.buf[: end + 2]
    return line


async def _chunked(conn: _Connection, timeout: float) -> AsyncIterator[bytes]:
    while True:
        size_text = (await _line(conn, timeout)).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise RemoteProtocolError("a chunk size that is not hexadecimal") from None
        if size == 0:
            while await _line(conn, timeout):  # trailers, up to the empty line
                pass
            return
        async for part in _sized(conn, size, timeout):
            yield part
        if await _line(conn, timeout):
            raise RemoteProtocolError("a chunk not followed by CRLF")


async def _until_close(conn: _Connection, timeout: float) -> AsyncIterator[bytes]:
    while True:
        if conn.buf:
            part = bytes(conn.buf)
            conn.buf.clear()
            yield part
        if conn.closed:
            return
        try:
            await conn.more(timeout)
        except RemoteProtocolError:
            return


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise RemoteProtocolError("an answer that is not HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise RemoteProtocolError("a malformed header line")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if parts[0] == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
        headers["connection"] = "close"
    return int(parts[1]), headers


class Pool:
    """Keep-alive connections to one origin.

    Args:
        url: The origin's base URL (``http://`` or ``https://``; its path is the prefix of every request).
        headers: Headers sent with every request (e.g. ``Authorization``).
        timeout_s: Read timeout: the longest wait for any byte of an answer.
        connect_timeout_s: The longest wait for a new connection.
        max_idle: Idle connections kept for reuse.
        max_body: The largest answer body accepted (:class:`TooLargeError` beyond).
        ssl_context: TLS settings for ``https://`` (None: ``ssl.create_default_context()``).
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_idle: int = 64,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        https = parts.scheme == "https"
        self.ssl = (ssl_context or ssl.create_default_context()) if https else None
        self.prefix = parts.path.rstrip("/")
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = netloc if default_port else f"{netloc}:{self.port}"
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._headers = f"host: {self.authority}\r\n{extra}".encode("latin-1")
        self.timeout_s, self.connect_timeout_s, self.max_idle = timeout_s, connect_timeout_s, max_idle
        self.max_body = max_body
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                hostname = self.host if self.ssl else None
                _, conn = await loop.create_connection(
                    _Connection, self.host, self.port, ssl=self.ssl, server_hostname=hostname
                )
        except TimeoutError:
            raise ConnectTimeoutError(f"no connection within {self.connect_timeout_s:g} s") from None
        except OSError as exc:  # refused, unreachable, name not resolved, TLS handshake failed
            raise ConnectError(type(exc).__name__) from None
        return conn

    async def _acquire(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                conn.reused, conn.received = True, False
                return conn
            conn.close()
        return await self._connect()

    def release(self, conn: _Connection, keep: bool) -> None:
        """Return a connection whose answer was read to its end (closed unless ``keep``)."""
        if keep and conn.usable() and len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            conn.close()

    def _head(self, method: str, path: str, body: bytes, content_type: str) -> bytes:
        line = f"{method} {self.prefix}/{path.lstrip('/')} HTTP/1.1\r\n".encode("latin-1")
        length = f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n" if body else "\r\n"
        return line + self._headers + length.encode("latin-1")

    async def open(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> Response:
        """Send a request and read the answer's head; read its body with :class:`Response` methods.

        A reused connection that the upstream closed before answering a byte is replaced once (an idle
        keep-alive connection may be closed by the server at any time).

        Raises:
            HttpError: On a failure to connect, a timeout or a broken connection.
        """
        request = self._head(method, path, body, content_type) + body
        while True:
            conn = await self._acquire()
            try:
                assert conn.transport is not None
                conn.transport.write(request)
                status, headers = await self._read_head(conn)
            except RemoteProtocolError:
                conn.close()
                if conn.reused and not conn.received:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            return Response(
                status, headers, _conn=conn, _pool=self, _timeout=self.timeout_s, _max_body=self.max_body
            )

    async def _read_head(self, conn: _Connection) -> tuple[int, dict[str, str]]:
        while True:
            while (end := conn.buf.find(b"\r\n\r\n")) < 0:
                if len(conn.buf) > MAX_HEAD:
                    raise RemoteProtocolError("a response head too long")
                await conn.more(self.timeout_s)
            status, headers = _parse_head(bytes(conn.buf[:end]))
            del conn.buf[: end + 4]
            if status >= 200 or status == 101:
                return status, headers

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> Response:
        """Send a request and read its answer whole (see :meth:`open`)."""
        response = await self.open(method, path, body, content_type)
        await response.aread()
        return response

    def close(self) -> None:
        """Close the idle connections."""
        for conn in self._idle:
            conn.close()
        self._idle.clear()
