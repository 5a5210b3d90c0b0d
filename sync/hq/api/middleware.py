"""Pure ASGI middleware (a BaseHTTPMiddleware halves the throughput of small requests): the body size limit, and
metrics by route plus the rate limit of public endpoints."""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.hq import metrics
from sync.hq.api.errors import ApiError

PUBLIC_PATHS = frozenset({"/api/v1/enroll", "/api/v1/staff/login"})
CUSTOMER_PATHS = frozenset({"/api/v1/claims", "/api/v1/transfers"})  # their own, larger allowance
CONSOLE_LOGIN = "/console/login"  # its POSTs count with the public paths


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


async def send_html(send: Send, status: int, sentence: str) -> None:
    data = ("<!doctype html><meta charset=utf-8><title>HotPot Spot HQ</title><link rel=stylesheet "
            "href=/console/static/console.css><main class=narrow><section class=card><h1>HotPot Spot HQ</h1>"
            f"<p class='notice error'>{sentence}</p><p><a href=/console/login>Sign in</a></p></section></main>"
            ).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(data)).encode()), (b"retry-after", b"60")]})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuses a request body over the limit with 413, whether or not it announces its length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = ApiError(413, "body_too_large", f"The request body is over {self.limit} bytes.")
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await send_json(send, too_large.status, too_large.body())
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise too_large
            return message

        await self.app(scope, limited, send)


class RateLimiter:
    """Per-client sliding window for public endpoints (enrollment, staff login): 429 beyond N a minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str) -> None:
        """Count an attempt; 429 when this client is over its allowance."""
        self.refuse_if_over(client)
        self.seen[client].append(time.monotonic())

    def refuse_if_over(self, client: str) -> None:
        """429 when this client is over its allowance, without counting this call."""
        now = time.monotonic()
        window = self.seen[client]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            raise ApiError(429, "rate_limited", "Too many attempts from this address; wait a minute.",
                           {"retry_after_s": int(60 - (now - window[0])) + 1})


class Observe:
    """Metrics by route for every request, and the rate limit of public endpoints before any validation, so
    malformed attempts count too. Every `recycle_every`-th response of this worker closes its connection
    (`Connection: close`): clients reconnect, and the new connections spread over the workers again, so a worker that
    was restarted (or started later) takes its share instead of the others keeping every kept-alive connection (the
    soak showed 28 connections on the surviving worker and 1 on its replacement)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, claim_limiter: RateLimiter | None = None,
                 recycle_every: int = 0) -> None:
        self.app, self.limiter = app, limiter
        self.claim_limiter = claim_limiter or limiter
        self.recycle_every, self.responses = recycle_every, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.responses += 1
                if self.recycle_every and self.responses % self.recycle_every == 0:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            path = scope["path"]
            posted = scope["method"] == "POST"
            if path in PUBLIC_PATHS or (posted and (path in CUSTOMER_PATHS or path == CONSOLE_LOGIN)):
                client = scope.get("client")
                limiter = self.claim_limiter if path in CUSTOMER_PATHS else self.limiter
                try:
                    limiter.check(client[0] if client else "unknown")
                except ApiError as exc:
                    if path == CONSOLE_LOGIN:  # a person at a browser: a sentence on a page
                        await send_html(record_status, exc.status, "Too many sign-in attempts from this address; "
                                                                   "wait a minute, then try again.")
                    else:
                        await send_json(record_status, exc.status, exc.body())
                    return
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            metrics.observe(scope["method"], getattr(route, "path", "unmatched"), status, time.perf_counter() - start)


__all__ = ["CUSTOMER_PATHS", "PUBLIC_PATHS", "BodyLimit", "Observe", "RateLimiter", "send_json"]
