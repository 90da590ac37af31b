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

    # Where files (contracts, invoice PDFs, uploads) and other local state live.
    data_dir: Path = Path("var")
    # The address clients reach this server at: signed file URLs and e-mailed links use it.
    public_url: str = "http://127.0.0.1:8000"
    # Signs expiring file URLs and validation links; generated once and kept in the database
    # when not set (see files/ and email/).
    secret_key: str | None = None

    # Files go to ``data_dir/files`` unless an S3-compatible bucket is configured.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    # Outgoing e-mail. Without an SMTP host, e-mails are kept and shown by `flexbill mail list`.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = "starttls"  # starttls | tls | none
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "flexbill <no-reply@localhost>"

    # How long a worker holds a job it claimed before another worker may take it over
    # (a worker that died mid-job is noticed after this long).
    worker_lease_seconds: float = Field(default=300.0, gt=0)

    # Subscriptions or billing groups one billing job bills in its transaction; a larger
    # tenant's run goes on in further jobs (smaller: shorter transactions, more jobs).
    billing_units_per_job: int = Field(default=2000, ge=1)

    # Webhook deliveries: how long one attempt may take.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Whether endpoints may point at loopback, private or link-local addresses. Keep it on
    # for a single business that posts to its own network; turn it off where tenants are
    # not trusted (webhooks/addresses.py).
    webhook_private_targets: bool = True

    # Where PayPal IPN messages are posted back for verification; unset: PayPal's live or
    # sandbox endpoint, by the license product's test mode.
    paypal_ipn_verify_url: str | None = None
    paypal_timeout_seconds: float = Field(default=30.0, gt=0)

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
