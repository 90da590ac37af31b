"""Rate-limit headers on every /v1 response, and the budget of requests without a key.

Authenticated requests are counted against their key by the guard. Everything else (no or
a bad key, public endpoints, unknown routes) is counted here per client address; over its
budget such a request is answered 429 instead.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flexbill.api.runtime import Runtime
from flexbill.api.v1.errors import error_response, internal_error_response
from flexbill.api.v1.guard import rate_limited
from flexbill.core.ratelimit import Quota


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, runtime: Runtime, prefix: str = "/v1") -> None:
        self.app = app
        self.runtime = runtime
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception as error:  # answered here so that the 500 carries the headers too
            held.clear()
            failure = internal_error_response(scope["method"], scope["path"], error)
            await failure(scope, receive, hold)
        quota: Quota | None = scope.get("state", {}).get("quota")
        if quota is None:
            client = scope.get("client")
            address = client[0] if client else "unknown"
            quota = await self.runtime.limiter.hit(
                f"ip:{address}", self.runtime.settings.rate_limit_anonymous_per_minute
            )
            if not quota.allowed:
                await error_response(rate_limited(quota))(
                    scope, receive, _with_headers(send, quota)
                )
                return
        sender = _with_headers(send, quota)
        for message in held:
            await sender(message)


def _with_headers(send: Send, quota: Quota) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["X-RateLimit-Limit"] = str(quota.limit)
            headers["X-RateLimit-Remaining"] = str(quota.remaining)
            headers["X-RateLimit-Reset"] = str(quota.reset_at)
        await send(message)

    return sender
