"""``GET /v1/health``: is the server up, and on what."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.requests import Request

from flexbill import __version__
from flexbill.api.runtime import runtime
from flexbill.api.v1.guard import Session
from flexbill.api.v1.responses import V1JSONResponse, V1Model, respond
from flexbill.core.db import is_reachable

router = APIRouter(tags=["Health"])


class Health(V1Model):
    status: Literal["ok", "unavailable"]
    version: str
    region: str
    database: str


@router.get("/health", response_model=Health)
async def health(request: Request, session: Session) -> V1JSONResponse:
    """Server status, version, region and database kind. Needs no API key. Answers
    `503` with `status: unavailable` when the database cannot be reached."""
    rt = runtime(request)
    status: Literal["ok", "unavailable"] = "ok" if await is_reachable(session) else "unavailable"
    body = Health(
        status=status, version=__version__, region=rt.settings.region, database=rt.database.kind
    )
    return respond(body, status_code=200 if status == "ok" else 503)
