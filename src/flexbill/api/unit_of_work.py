"""One request, one transaction, committed at the edge.

The middleware opens a session for the request and holds back the response until the
application has finished: a response below 400 commits (after running the request's
``before_commit`` hooks, which see the final status and body), anything else rolls back.
The client therefore never sees a success that was not stored, and a failure never leaves
half of its writes behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flexbill.core.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

BeforeCommit = Callable[[int, bytes], Awaitable[None]]


async def request_session(request: Request) -> AsyncSession:
    """The request's session (a FastAPI dependency)."""
    session: AsyncSession = request.state.session
    return session


def on_commit(request: Request, hook: BeforeCommit) -> None:
    """Run ``hook(status, body)`` inside the transaction, just before it commits."""
    request.state.before_commit.append(hook)


def after_commit(request: Request, hook: Callable[[], None]) -> None:
    """Run ``hook()`` once the transaction has committed (e.g. to drop a cached value that
    a concurrent request could otherwise read back before the commit)."""
    request.state.after_commit.append(hook)


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        write = scope["method"] not in SAFE_METHODS
        async with self.database.session(write=write) as session:
            state: dict[str, Any] = scope.setdefault("state", {})
            state["session"] = session
            state["before_commit"] = []
            state["after_commit"] = []
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            try:
                await self.app(scope, receive, hold)
            except BaseException:
                await session.rollback()
                raise
            status = next(m["status"] for m in held if m["type"] == "http.response.start")
            if not write:
                pass  # autocommit reads: nothing to commit or roll back
            elif status < 400:
                body = b"".join(
                    m.get("body", b"") for m in held if m["type"] == "http.response.body"
                )
                for hook in state["before_commit"]:
                    await hook(status, body)
                await session.commit()
                for done in state["after_commit"]:
                    done()
            else:
                await session.rollback()
        for message in held:
            await send(message)
