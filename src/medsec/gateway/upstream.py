"""The upstream: the OpenAI-compatible endpoint the gateway forwards guarded requests to.

The gateway forwards the client's own request body (its tools, temperature, response format…) with the
guarded messages in place of the originals, so it talks HTTP itself rather than through
:class:`medsec.targets.OpenAITarget`, whose body is fixed at construction and which neither streams nor
tells a timeout from other failures. Failures become :class:`UpstreamError` with the HTTP status the
gateway answers (502, or 504 for a timeout) and a PHI-free reason code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx

from medsec.config import secret_from_env
from medsec.errors import TargetError
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


def _failure(exc: httpx.HTTPError) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(504, "upstream_timeout", f"the upstream timed out ({type(exc).__name__})")
    return UpstreamError(502, "upstream_unreachable", f"the upstream failed ({type(exc).__name__})")


def _json_object(response: httpx.Response, problem: str) -> dict[str, Any]:
    """The body of a 200 response as a JSON object.

    Raises:
        UpstreamError: On another status (with its reason), or when the body is not a JSON object.
    """
    if response.status_code != 200:
        raise _status_error(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(502, "upstream_bad_response", problem)
    return data


def _status_error(response: httpx.Response) -> UpstreamError:
    kind = None
    try:
        err = response.json().get("error")
        kind = (err.get("type") or err.get("code")) if isinstance(err, dict) else None
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        kind = None
    detail = f" ({kind})" if isinstance(kind, str) and kind.isidentifier() else ""
    return UpstreamError(502, "upstream_error", f"the upstream answered HTTP {response.status_code}{detail}")


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
    _turn: int = field(default=0, init=False, repr=False)

    def _client(self) -> httpx.AsyncClient:
        if not self._clients:
            headers = {}
            if self.config.api_key_env:
                headers["Authorization"] = f"Bearer {secret_from_env(self.config.api_key_env)}"
            timeout = httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
            self._clients = [
                httpx.AsyncClient(
                    base_url=self.config.url + "/",
                    headers=headers,
                    timeout=timeout,
                    limits=limits,
                    transport=self.transport,
                )
                for _ in range(POOLS)
            ]
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def aclose(self) -> None:
        """Close the clients."""
        for client in self._clients:
            await client.aclose()
        self._clients = []

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        for attempt in range(self.config.retries + 1):
            try:
                return await self._client().post("chat/completions", json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt == self.config.retries:
                    raise _failure(exc) from None
            except httpx.HTTPError as exc:
                raise _failure(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a non-streaming request; return the parsed response body.

        Raises:
            UpstreamError: On a failure, a timeout, a non-200 status or a body that is not a JSON object.
        """
        response = await self._post({**body, "stream": False})
        return _json_object(response, "the upstream's answer is not a JSON object")

    async def events(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """Send a streaming request; yield each server-sent event's JSON until ``[DONE]``.

        Raises:
            UpstreamError: On a failure before or during the stream, or an event that is not JSON.
        """
        try:
            async with self._client().stream("POST", "chat/completions", json={**body, "stream": True}) as r:
                if r.status_code != 200:
                    await r.aread()
                    raise _status_error(r)
                async for line in r.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        yield json.loads(data)
                    except ValueError:
                        raise UpstreamError(502, "upstream_bad_response", "an event is not JSON") from None
        except httpx.HTTPError as exc:
            raise _failure(exc) from None

    async def models(self) -> dict[str, Any]:
        """The configured models, or the upstream's ``/models`` list.

        Raises:
            UpstreamError: When the upstream cannot list them.
        """
        if self.config.models:
            listed = [{"id": m, "object": "model", "owned_by": "medsec-gateway"} for m in self.config.models]
            return {"object": "list", "data": listed}
        try:
            response = await self._client().get("models")
        except httpx.HTTPError as exc:
            raise _failure(exc) from None
        return _json_object(response, "the upstream's model list is not JSON")
