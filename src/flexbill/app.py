"""``create_app()``: the ASGI application with its faces, middleware and error handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import Response

from flexbill import __version__
from flexbill.api import docs, openapi
from flexbill.api import v1 as v1_face
from flexbill.api.flexlicense import routes as flexlicense_face
from flexbill.api.runtime import Runtime
from flexbill.api.unit_of_work import UnitOfWorkMiddleware
from flexbill.api.v1 import errors as v1_errors
from flexbill.api.v1.guard import IdempotentReplay
from flexbill.api.v1.rate_limit import RateLimitMiddleware
from flexbill.config import Settings, get_settings
from flexbill.core.db import Database
from flexbill.core.ratelimit import create_rate_limiter
from flexbill.tenancy.key_cache import KeyCache
from flexbill.worker.handlers import run_worker

DESCRIPTION = """
flexbill speaks FlexPortal's `/v1` API. Every request carries
`Authorization: Bearer <API key>` and `Tenant-ID: <business unit ID>`.
Lists use cursor pagination (`limit`, `startAfter`, `sortBy`, `sortDir`); errors answer
`{"error": {"code", "message", "details"}}`; any POST accepts an `Idempotency-Key`.
"""


def create_app(settings: Settings | None = None, *, with_worker: bool = False) -> FastAPI:
    """The application. ``with_worker`` also runs the job worker inside the server process
    (what ``flexbill serve`` does unless told not to: one command runs a small business)."""
    settings = settings or get_settings()
    database = Database(settings.database_url)
    rt = Runtime(
        settings=settings,
        database=database,
        limiter=create_rate_limiter(settings.redis_url),
        key_cache=KeyCache(settings.auth_cache_seconds),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background = asyncio.create_task(run_worker(database, stop)) if with_worker else None
        yield
        if background is not None:
            stop.set()
            await background
        await rt.limiter.close()
        await database.dispose()

    app = FastAPI(
        title="flexbill API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.include_router(v1_face.router)
    flexlicense_face.install(app)
    v1_errors.install(app)

    async def replay(_request: object, error: Exception) -> Response:
        assert isinstance(error, IdempotentReplay)
        return Response(
            error.stored.body,
            status_code=error.stored.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    app.add_exception_handler(IdempotentReplay, replay)
    docs.install(app)
    openapi.install(app)
    if settings.bench_baseline:
        from flexbill.api import bench_baseline

        bench_baseline.install(app)
    # Added last = outermost: rate-limit headers wrap the unit of work.
    app.add_middleware(UnitOfWorkMiddleware, database=database)
    app.add_middleware(RateLimitMiddleware, runtime=rt)
    return app
