"""What the faces share at run time: settings, database, rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from flexbill.config import Settings
from flexbill.core.db import Database
from flexbill.core.ratelimit import RateLimiter
from flexbill.tenancy.key_cache import KeyCache


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    database: Database
    limiter: RateLimiter
    key_cache: KeyCache


def runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
