"""The upstream: the OpenAI-compatible endpoint the gateway forwards guarded requests to.

The gateway forwards the client's own request body (its tools, temperature, response format…) with the
guarded messages in place of the originals, so it talks HTTP itself rather than through
:class:`medsec.targets.OpenAITarget`, whose body is fixed at construction and which neither streams nor
tells a timeout from other failures. Failures become :class:`UpstreamError` with the HTTP status the
gateway answers (502, or 504 for a timeout) and a PHI-free reason code.

Requests go over the gateway's own keep-alive HTTP/1.1 client (:mod:`medsec.gateway.http1`), a fraction
of httpx's CPU per request; httpx is used instead when a transport is given (tests) or when the
environment names a proxy for the upstream (``HTTPS_PROXY``…, which the small client does not speak).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from medsec.config import secret_from_env
from medsec.errors import TargetError
from medsec.gateway import http1
from medsec.gateway.config import UpstreamConfig

POOLS = 4
"""Requests are spread over this many connection pools (one pool's bookkeeping slows under load)."""


class UpstreamError(TargetError):
    """The upstream failed; ``status`` is what the gateway answers, ``code`` the reason code.

    Args:
        status: 502 or 504.
        code: ``upstream_timeout``, ``upstream_unreachable``, ``upstream_error`` or ``upstream_bad_response``.
        message: A PHI-free explanation (status and error type, never the upstream's message text).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


JSON = {"content-type": "application/json"}


def _failure(exc: httpx.HTTPError | http1.HttpError) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException | http1.ReadTimeoutError | http1.ConnectTimeoutError):
        return UpstreamError(504, "upstream_timeout", f"the upstream timed out ({type(exc).__name__})")
    if isinstance(exc, http1.TooLargeError):
        return UpstreamError(502, "upstream_bad_response", f"the upstream's answer was too large ({exc})")
    return UpstreamError(502, "upstream_unreachable", f"the upstream failed ({type(exc).__name__})")


def _json_object(status: int, content: bytes, problem: str) -> dict[str, Any]:
    """The body of a 200 response as a JSON object.

    Raises:
        UpstreamError: On another status (with its reason), or when the body is not a JSON object.
    """
    if status != 200:
        raise _status_error(status, content)
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(502, "upstream_bad_response", problem)
    return data


def _status_error(status: int, content: bytes) -> UpstreamError:
    kind = None
    try:
        err = json.loads(content).get("error")
        kind = (err.get("type") or err.get("code")) if isinstance(err, dict) else None
    except (ValueError, AttributeError):
        kind = None
    detail = f" ({kind})" if isinstance(kind, str) and kind.isidentifier() else ""
    return UpstreamError(502, "upstream_error", f"the upstream answered HTTP {status}{detail}")


def proxied(url: str) -> bool:
    """Whether the environment sends requests to ``url`` through a proxy (as httpx would)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Each server-sent event's JSON until ``[DONE]``."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            raise UpstreamError(502, "upstream_bad_response", "an event is not JSON") from None


@dataclass
class Upstream:
    """HTTP clients to the upstream, opened lazily in the running event loop.

    Args:
        config: Where and how to reach it.
        transport: An httpx transport instead of the network (``httpx.MockTransport`` in tests).
    """

    config: UpstreamConfig
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    _clients: list[httpx.AsyncClient] = field(default_factory=list, init=False, repr=False)
    _pool: http1.Pool | None = field(default=None, init=False, repr=False)
    _turn: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.raw = self.transport is None and not proxied(self.config.url)

    def _headers(self) -> dict[str, str]:
        if self.config.api_key_env:
            return {"Authorization": f"Bearer {secret_from_env(self.config.api_key_env)}"}
        return {}

    def _client(self) -> httpx.AsyncClient:
        if not self._clients:
            timeout = httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
            self._clients = [
                httpx.AsyncClient(
                    base_url=self.config.url + "/",
                    headers=self._headers(),
                    timeout=timeout,
                    limits=limits,
                    transport=self.transport,
                )
                for _ in range(POOLS)
            ]
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    def _http1(self) -> http1.Pool:
        if self._pool is None:
            c = self.config
            tls = httpx.create_ssl_context() if c.url.startswith("https:") else None  # httpx's trust store
            self._pool = http1.Pool(c.url, self._headers(), c.timeout_s, c.connect_timeout_s, ssl_context=tls)
        return self._pool

    async def aclose(self) -> None:
        """Close the clients."""
        for client in self._clients:
            await client.aclose()
        self._clients = []
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def _open(self, method: str, path: str, body: bytes = b"") -> http1.Response:
        """An answer's head over the small client, retrying connection failures (nothing was sent)."""
        for attempt in range(self.config.retries + 1):
            try:
                return await self._http1().open(method, path, body)
            except http1.ConnectError:
                if attempt == self.config.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Status and body of one exchange.

        Raises:
            UpstreamError: On a failure or a timeout.
        """
        try:
            if self.raw:
                response = await self._open(method, path, body)
                return response.status, await response.aread()
            for attempt in range(self.config.retries + 1):
                try:
                    r = await self._client().request(method, path, content=body or None, headers=JSON)
                    return r.status_code, r.content
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    if attempt == self.config.retries:
                        raise
        except (httpx.HTTPError, http1.HttpError) as exc:
            raise _failure(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a non-streaming request; return the parsed response body.

        Raises:
            UpstreamError: On a failure, a timeout, a non-200 status or a body that is not a JSON object.
        """
        status, content = await self._send(
            "POST", "chat/completions", json.dumps({**body, "stream": False}).encode()
        )
        return _json_object(status, content, "the upstream's answer is not a JSON object")

    async def events(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """Send a streaming request; yield each server-sent event's JSON until ``[DONE]``.

        Raises:
            UpstreamError: On a failure before or during the stream, or an event that is not JSON.
        """
        data = json.dumps({**body, "stream": True}).encode()
        try:
            if self.raw:
                response = await self._open("POST", "chat/completions", data)
                try:
                    if response.status != 200:
                        raise _status_error(response.status, await response.aread())
                    async for event in _events(response.iter_lines()):
                        yield event
                finally:
                    response.close()  # after [DONE] the rest is not read: the connection is not reused
                return
            async with self._client().stream("POST", "chat/completions", content=data, headers=JSON) as r:
                if r.status_code != 200:
                    raise _status_error(r.status_code, await r.aread())
                async for event in _events(r.aiter_lines()):
                    yield event
        except (httpx.HTTPError, http1.HttpError) as exc:
            raise _failure(exc) from None

    async def models(self) -> dict[str, Any]:
        """The configured models, or the upstream's ``/models`` list.

        Raises:
            UpstreamError: When the upstream cannot list them.
        """
        if self.config.models:
            listed = [{"id": m, "object": "model", "owned_by": "medsec-gateway"} for m in self.config.models]
            return {"object": "list", "data": listed}
        status, content = await self._send("GET", "models")
        return _json_object(status, content, "the upstream's model list is not JSON")
