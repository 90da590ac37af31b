"""The `flexbill` command as a script would use it, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

FLEXBILL = str(Path(sys.executable).parent / "flexbill")


def run(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLEXBILL_DATABASE_URL": database_url, "FLEXBILL_REGION": "us"}
    result = subprocess.run([FLEXBILL, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_json(database_url: str, *args: str) -> Any:
    return json.loads(run(database_url, *args, "--json").stdout)


def test_bootstrap_then_keys(database_url: str) -> None:
    first = run_json(database_url, "bootstrap")
    assert set(first) == {"tenantId", "apiKey", "testApiKey"}
    assert first["apiKey"].startswith("pk_live_us_")
    assert first["testApiKey"].startswith("pk_test_us_")
    again = run_json(database_url, "bootstrap")
    assert again["tenantId"] == first["tenantId"]  # the business unit is created only once
    assert again["apiKey"] != first["apiKey"]  # but every run issues fresh keys

    tenant = first["tenantId"]
    created = run_json(
        database_url, "api-keys", "create", "--tenant", tenant, "--mode", "test", "--tier",
        "starter", "--permission", "customers:read", "--permission", "customers:write",
        "--allow-ip", "10.0.0.0/8",
    )  # fmt: skip
    assert created["apiKey"].startswith("pk_test_us_")
    listed = run_json(database_url, "api-keys", "list", "--tenant", tenant)["apiKeys"]
    mine = next(k for k in listed if k["keyId"] == created["keyId"])
    assert mine["permissions"] == ["customers:read", "customers:write"]
    assert (mine["mode"], mine["tier"], mine["allowedIps"]) == ("test", "starter", ["10.0.0.0/8"])
    assert created["apiKey"] not in json.dumps(listed)

    revoked = run_json(database_url, "api-keys", "revoke", created["keyId"], "--tenant", tenant)
    assert revoked["revokedAt"] is not None


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--permission", "customers:teleport"], "VALIDATION_ERROR"),
        (["--mode", "staging"], "VALIDATION_ERROR"),
        (["--allow-ip", "999.1.1.1"], "VALIDATION_ERROR"),
    ],
)
def test_errors_exit_non_zero_with_a_json_error(
    database_url: str, args: list[str], code: str
) -> None:
    tenant = run_json(database_url, "bootstrap")["tenantId"]
    result = run(
        database_url, "api-keys", "create", "--tenant", tenant, *args, "--json", check=False
    )
    assert result.returncode == 1
    assert json.loads(result.stderr)["error"]["code"] == code
    assert result.stdout == ""


def test_unknown_business_unit(database_url: str) -> None:
    run(database_url, "migrate")
    result = run(database_url, "api-keys", "create", "--tenant", "bu_nope", "--json", check=False)
    assert result.returncode == 1
    assert json.loads(result.stderr)["error"]["code"] == "NOT_FOUND"


def test_worker_once_runs_the_due_jobs_and_exits(database_url: str) -> None:
    """`flexbill worker --once` enqueues the periodic schedule and drains it; the second run
    finds each slot's job already done, and runs only a slot that began in between (the
    webhook round's slot is a minute long, and this is real time)."""
    import asyncio

    from sqlalchemy import select

    from flexbill.core.db import Database
    from flexbill.core.jobs import Job
    from flexbill.worker.handlers import SCHEDULE

    first = run(database_url, "worker", "--once")
    assert first.stdout.strip() == f"{len(SCHEDULE)} job(s) run"  # one of each periodic job
    between = datetime.now(UTC)
    second = run(database_url, "worker", "--once")
    ran_again = int(second.stdout.split()[0])

    async def jobs() -> list[Job]:
        database = Database(database_url)
        try:
            async with database.transaction() as session:
                return list((await session.scalars(select(Job))).all())
        finally:
            await database.dispose()

    done = asyncio.run(jobs())
    assert {job.status for job in done} == {"succeeded"}
    assert len(done) == len(SCHEDULE) + ran_again
    later = [job for job in done if job.created_at > between]
    assert len(later) == ran_again
    assert len({job.dedup_key for job in done}) == len(done)  # each a slot of its own


def test_clock_advance(database_url: str) -> None:
    """A script moves a test clock forward; a live environment has no clocks to move."""
    import asyncio

    from flexbill.billing import test_clocks
    from flexbill.core.db import Database
    from flexbill.tenancy.service import environment_context

    tenant = run_json(database_url, "bootstrap")["tenantId"]

    async def create() -> str:
        database = Database(database_url)
        try:
            async with database.transaction() as session:
                ctx = await environment_context(session, tenant, "test")
                clock = await test_clocks.create_clock(
                    session, ctx, frozen_time=datetime(2025, 1, 1, tzinfo=UTC), name=None
                )
                return clock.id
        finally:
            await database.dispose()

    clock_id = asyncio.run(create())
    moved = run_json(
        database_url, "clock", "advance", "--tenant", tenant, "--clock", clock_id,
        "--to", "2025-03-01T00:00:00+00:00",
    )  # fmt: skip
    assert moved == {"testClockId": clock_id, "frozenTime": "2025-03-01T00:00:00+00:00"}
    backwards = run(
        database_url, "clock", "advance", "--tenant", tenant, "--clock", clock_id,
        "--to", "2025-02-01T00:00:00+00:00", check=False,
    )  # fmt: skip
    assert backwards.returncode == 1
    assert json.loads(backwards.stderr)["error"]["code"] == "VALIDATION_ERROR"
