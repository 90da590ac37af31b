"""Which function runs each kind of job.

Domains declare their handlers with ``@handles("kind")``; ``worker/handlers.py`` imports
every module that declares one, so that a worker knows them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.jobs import Job

Handler = Callable[[AsyncSession, Job], Awaitable[None]]
"""Does a job's work in the given session; raising makes the attempt fail (and rolls back
everything it wrote since its last commit). A handler that talks to the network for long
(SMTP, webhook receivers) commits before it does, so that no database lock is held
meanwhile; what it committed stays, so such a handler must be safe to run again (the job is
retried, or taken over after a crash)."""


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def handles(self, kind: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if kind in self._handlers and self._handlers[kind] is not handler:
                raise ValueError(f"two handlers for job kind {kind!r}")
            self._handlers[kind] = handler
            return handler

        return register

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)


REGISTRY = Registry()
handles = REGISTRY.handles
