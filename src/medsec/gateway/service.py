"""The gateway's state and its request flows, free of any web framework (``app.py`` is the HTTP glue).

:func:`build_gateway` turns a :class:`GatewayConfig` into a :class:`Gateway`: the policy's pipeline and
version, the key ring, rate limiter, upstream, audit writer and metrics. Audit records are written with
group commit — concurrent requests share one transaction — and a non-streamed answer is sent only once
its record is committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from medsec.config import read_yaml
from medsec.errors import MedsecError, TargetError
from medsec.gateway.audit import AuditLog, AuditRecord, Outcome, audit_key, content_hmac
from medsec.gateway.auth import KeyRing, Principal, bearer
from medsec.gateway.config import GatewayConfig
from medsec.gateway.metrics import Metrics
from medsec.gateway.proxy import (
    ChatRequest,
    Exchange,
    RejectedError,
    fresh,
    prompt_text,
    reason_of,
    upstream_body,
)
from medsec.gateway.ratelimit import RateLimiter
from medsec.gateway.stream import json_calls
from medsec.gateway.upstream import Upstream, UpstreamError
from medsec.gateway.wire import blocked, completion, error_body
from medsec.guard.pipeline import Pipeline
from medsec.guard.policy import build_pipeline, parse_policy, policy_path
from medsec.phi import PhiSpan
from medsec.targets.openai import parse_completion

logger = logging.getLogger("medsec.gateway")


class AuditWriter:
    """Group commit: records that arrive while a write is in progress go together in the next one."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self._pending: list[tuple[AuditRecord, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def write(self, record: AuditRecord) -> None:
        """Append ``record``; return once it is committed.

        Raises:
            MedsecError: When the database refused the write.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                error: BaseException | None = None
                try:
                    await anyio.to_thread.run_sync(self.log.append, [r for r, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every waiter must hear of any failure
                    error = MedsecError(f"audit write failed ({type(exc).__name__})")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error) if error else future.set_result(None)
        finally:
            self._task = None

    async def aclose(self) -> None:
        """Wait for pending writes, then close the log."""
        while self._task is not None:
            await asyncio.sleep(0.01)
        self.log.close()


@dataclass
class Answer:
    """What a request produced: HTTP status, body, outcome, reason code and the answer text sent."""

    status: int
    body: dict[str, Any]
    outcome: Outcome = "allowed"
    reason: str | None = None
    answer: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Gateway:
    """Everything a running gateway holds (see :func:`build_gateway`)."""

    config: GatewayConfig
    pipeline: Pipeline
    policy_version: str
    fail_open: bool
    keys: KeyRing
    limiter: RateLimiter
    upstream: Upstream
    audit: AuditWriter
    key: bytes
    metrics: Metrics = field(default_factory=Metrics)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller's principal, admitted by its rate limit.

        Raises:
            RejectedError: 401 for a missing or unknown key, 429 (with Retry-After) over the rate.
        """
        principal = self.keys.authenticate(bearer(headers))
        if principal is None:
            raise RejectedError(
                401, "invalid_api_key", "missing or unknown API key (send Authorization: Bearer …)"
            )
        wait = self.limiter.check(principal.id, principal.rate)
        if wait is not None:
            raise RejectedError(
                429, "rate_limited", f"rate limit exceeded; retry in {wait} s", retry_after=wait
            )
        return principal

    def exchange(self, principal: Principal) -> Exchange:
        """A new request's guard state, with its own vault and PHI scanners."""
        detected: dict[str, list[PhiSpan]] = {}
        pipeline, vault = fresh(self.pipeline, detected)
        return Exchange(
            principal=principal,
            pipeline=pipeline,
            vault=vault,
            detected=detected,
            pseudonymise=self.config.pseudonymise,
            fail_open=self.fail_open,
            guard_timeout_s=self.config.limits.guard_timeout_s,
        )

    def blocked_answer(self, ex: Exchange, model: str) -> Answer:
        """The refusal of a blocked request (HTTP 200, ``finish_reason: content_filter``)."""
        reason = reason_of(ex)
        return Answer(200, blocked(ex.id, model, self.config.refusal, reason), "blocked", reason)

    async def complete(self, ex: Exchange, request: ChatRequest) -> Answer:
        """Guard, forward and guard a non-streamed request."""
        model = str(request.extra.get("model") or self.config.upstream.model or "medsec-gateway")
        sent = await ex.guard_messages(request.messages)
        if sent is None:
            return self.blocked_answer(ex, model)
        start = time.perf_counter()
        try:
            data = await self.upstream.complete(upstream_body(request, sent, self.config.upstream.model))
            reply = parse_completion(data, 0.0)
        except UpstreamError as exc:
            return Answer(exc.status, error_body(exc.status, exc.code, str(exc)), "error", exc.code)
        except TargetError:
            message = "the upstream's answer is not a chat completion"
            return Answer(
                502, error_body(502, "upstream_bad_response", message), "error", "upstream_bad_response"
            )
        finally:
            self.metrics.upstream.observe(time.perf_counter() - start)
        outcome, text = await ex.answer(reply.text)
        calls = None if outcome.blocked else await ex.guard_calls(reply.tool_calls)
        if outcome.blocked or calls is None:
            return self.blocked_answer(ex, model)
        usage: dict[str, Any] = data["usage"] if isinstance(data.get("usage"), dict) else {}
        body = completion(
            ex.id, str(data.get("model") or model), text, calls, reply.finish_reason or "stop", usage
        )
        return Answer(200, body, "flagged" if ex.flagged else "allowed", None, text + json_calls(calls))

    async def record(
        self,
        *,
        started: tuple[str, float],
        answer: Answer,
        principal: Principal | None = None,
        ex: Exchange | None = None,
        request: ChatRequest | None = None,
        http_id: str | None = None,
    ) -> None:
        """Write the request's audit record, count it in the metrics and log one PHI-free line.

        Raises:
            MedsecError: When the audit write failed.
        """
        elapsed = time.perf_counter() - started[1]
        record = AuditRecord(
            request_id=ex.id if ex else f"rejected-{time.time_ns()}",
            time=started[0],
            principal=principal.id if principal else "-",
            role=principal.role if principal else "-",
            policy=self.pipeline.name,
            policy_version=self.policy_version,
            status=answer.status,
            outcome=answer.outcome,
            reason=answer.reason,
            stream=bool(request and request.stream),
            verdicts=tuple(ex.verdicts) if ex else (),
            prompt_hmac=content_hmac(self.key, prompt_text(request.messages)) if request else None,
            answer_hmac=content_hmac(self.key, answer.answer) if ex and answer.status == 200 else None,
            latency_ms=round(elapsed * 1000, 3),
            http_request_id=http_id,
        )
        self._count(record, ex, elapsed)
        await self.audit.write(record)

    def _count(self, record: AuditRecord, ex: Exchange | None, elapsed: float) -> None:
        m = self.metrics
        m.requests.inc(status=str(record.status), outcome=record.outcome)
        m.latency.observe(elapsed, stream=str(record.stream).lower())
        if ex is not None:
            m.guard.observe(ex.guard_s)
            for v in ex.verdicts:
                for f in v.findings:
                    m.findings.inc(channel=v.channel, scanner=f.scanner)
                if v.action == "block":
                    m.blocks.inc(channel=v.channel, scanner=v.findings[-1].scanner if v.findings else "guard")
        logger.info(
            "request %s principal=%s status=%d outcome=%s reason=%s ms=%.1f",
            record.request_id,
            record.principal,
            record.status,
            record.outcome,
            record.reason or "-",
            record.latency_ms,
        )

    async def aclose(self) -> None:
        """Close the upstream clients and the audit log."""
        await self.upstream.aclose()
        await self.audit.aclose()


def build_gateway(
    config: GatewayConfig, transport: httpx.AsyncBaseTransport | None = None, log: AuditLog | None = None
) -> Gateway:
    """Build a gateway from its config: the only place that reads the policy, keys and secrets.

    Args:
        config: The validated config.
        transport: An httpx transport for the upstream (tests); None for the network.
        log: An audit log to use instead of the configured one (tests).

    Raises:
        ConfigError: When the policy, keys or audit key are missing or invalid.
    """
    doc = read_yaml(policy_path(config.policy))
    policy = parse_policy(doc)
    version = hashlib.sha256(doc.path.read_bytes()).hexdigest()[:16]
    anonymous = Principal(id="anonymous", role=config.anonymous_role) if config.allow_anonymous else None
    key = audit_key(config.audit.hmac_key_env)
    if log is None:
        a = config.audit
        log = AuditLog(a.resolved_url(), key, a.checkpoint_every, a.anchor_file)
    return Gateway(
        config=config,
        pipeline=build_pipeline(policy, doc),
        policy_version=version,
        fail_open=policy.fail_open if config.fail_open is None else config.fail_open,
        keys=KeyRing(config.all_keys(), anonymous),
        limiter=RateLimiter(config.rate),
        upstream=Upstream(config.upstream, transport),
        audit=AuditWriter(log),
        key=key,
    )
