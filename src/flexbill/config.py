"""One Settings object, read from the environment (prefix ``FLEXBILL_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEXBILL_", extra="ignore")

    database_url: str = "sqlite:///var/flexbill.db"
    region: str = "eu"
    redis_url: str | None = None

    # Seed 000's tiers: Starter is capped; Growth and Enterprise are "unlimited (fair use)",
    # which we express as a high per-minute ceiling that an operator can tune.
    rate_limit_starter_per_minute: int = Field(default=100, ge=1)
    rate_limit_fair_use_per_minute: int = Field(default=10_000, ge=1)
    # Requests that carry no usable key (health checks, unknown routes, bad keys) share a
    # per-address budget, which also slows down anyone guessing keys.
    rate_limit_anonymous_per_minute: int = Field(default=300, ge=1)

    # How long an API process reuses what it read about a key (see tenancy/key_cache.py);
    # 0 reads the database on every request.
    auth_cache_seconds: float = Field(default=5.0, ge=0)

    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated, or *);
    # the client address decides trusted-IP checks and the anonymous rate-limit budget.
    trusted_proxies: str = "127.0.0.1"

    idempotency_ttl_hours: int = Field(default=24, ge=1)

    # Serve a static JSON endpoint used by bench/ as the same-stack baseline.
    bench_baseline: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases."""
    prefix, _, rest = database_url.partition(":///")
    if not prefix.startswith("sqlite") or not rest:
        return None
    return Path(rest)
