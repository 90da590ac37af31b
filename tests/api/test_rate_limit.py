"""Rate limits per tier (seed 000): headers on every response, 429 with Retry-After."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from flexbill.app import create_app
from flexbill.config import Settings
from flexbill.core import clock
from flexbill.core.db import Database
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

# Mid-window, so that a test's requests all fall into one minute.
T0 = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)


def _assert_headers(response: httpx.Response, limit: int, remaining: int) -> None:
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    assert response.headers["X-RateLimit-Reset"] == str(int(T0.timestamp()) - 10 + 60)


async def test_starter_tier_allows_100_per_minute(
    api: Api, database: Database, tenant: Tenant
) -> None:
    starter = api.with_key(await issue_key(database, tenant, tier="starter"))
    with clock.frozen(T0):
        responses = [await starter.get("/v1/customers", limit=1) for _ in range(100)]
        assert [r.status_code for r in responses] == [200] * 100
        _assert_headers(responses[0], 100, 99)
        _assert_headers(responses[-1], 100, 0)
        limited = await starter.get("/v1/customers")
        assert limited.status_code == 429
        assert error_code(limited) == "RATE_LIMITED"
        assert limited.headers["Retry-After"] == "50"
        _assert_headers(limited, 100, 0)
        # another key of the same business unit has its own budget
        assert (await api.get("/v1/customers")).status_code == 200
        # a rate-limited write changes nothing
        refused = await starter.post(
            "/v1/customers", {"email": "x@y.co", "firstName": "X", "lastName": "Y"}
        )
        assert refused.status_code == 429
    with clock.frozen(T0 + timedelta(seconds=50)):
        again = await starter.get("/v1/customers")
        assert again.status_code == 200
        assert again.json()["count"] == 0


async def test_unlimited_tiers_use_the_fair_use_ceiling(api: Api) -> None:
    with clock.frozen(T0):
        response = await api.get("/v1/customers")
    _assert_headers(response, 10_000, 9_999)


async def test_requests_without_a_key_have_a_per_address_budget(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, rate_limit_anonymous_per_minute=3))
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 1234))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            with clock.frozen(T0):
                statuses = [(await http.get("/v1/customers")).status_code for _ in range(3)]
                health = await http.get("/v1/health")
                unknown = await http.get("/v1/nothing-here")
        assert statuses == [401, 401, 401]
        assert health.status_code == unknown.status_code == 429
        assert error_code(unknown) == "RATE_LIMITED"
        assert health.headers["Retry-After"] == "50"
    finally:
        await app.state.runtime.database.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed; install Debian's redis-server package")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


async def test_counters_shared_through_redis(database_url: str, redis_url: str) -> None:
    """Two API processes (two apps) sharing Redis share one budget per key."""
    settings = Settings(
        database_url=database_url, redis_url=redis_url, rate_limit_starter_per_minute=4
    )
    first, second = create_app(settings), create_app(settings)
    database: Database = first.state.runtime.database
    try:
        tenant = await new_tenant(database)
        key = await issue_key(database, tenant, tier="starter")
        headers = {"Authorization": f"Bearer {key}", "Tenant-ID": tenant.id}
        statuses = []
        with clock.frozen(T0 + timedelta(days=_free_port())):  # a window no other run has used
            for app in (first, second, first, second, first):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                    statuses.append((await http.get("/v1/customers", headers=headers)).status_code)
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        for app in (first, second):
            await app.state.runtime.limiter.close()
            await app.state.runtime.database.dispose()
