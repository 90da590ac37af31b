"""A static JSON endpoint on the same stack, used by ``bench/`` as its baseline.

Mounted only when ``FLEXBILL_BENCH_BASELINE=true``: no auth, no database, just the server,
the framework and the middleware answering a body of the requested size.
"""

from __future__ import annotations

from functools import lru_cache

import orjson
from fastapi import FastAPI
from starlette.responses import Response


@lru_cache(maxsize=16)
def _body(size: int) -> bytes:
    skeleton = orjson.dumps({"padding": ""})
    return orjson.dumps({"padding": "x" * max(0, size - len(skeleton))})


def install(app: FastAPI) -> None:
    @app.get("/bench/static/{size}", include_in_schema=False)
    async def static(size: int) -> Response:
        return Response(_body(min(size, 1_000_000)), media_type="application/json")
