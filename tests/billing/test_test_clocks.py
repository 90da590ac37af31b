"""Test clocks through /v1: test mode only, customers attached and detached, and an
advance that stops at every day in between, in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import test_clocks
from flexbill.billing.test_clocks import moments
from flexbill.tenancy.context import TenantContext
from tests.support import Api, Tenant, error_code

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def test_api(api: Api, tenant: Tenant) -> Api:
    return api.with_key(tenant.test_key)


async def _clock(api: Api, **fields: Any) -> dict[str, Any]:
    response = await api.post("/v1/test-clocks", {"frozenTime": T0.isoformat(), **fields})
    assert response.status_code == 201, response.text
    clock: dict[str, Any] = response.json()["testClock"]
    return clock


@pytest.mark.parametrize(
    ("start", "until", "expected"),
    [
        (T0, T0 + timedelta(hours=1), [T0 + timedelta(hours=1)]),
        (T0, T0 + timedelta(days=1), [T0 + timedelta(days=1)]),
        (
            T0, T0 + timedelta(days=2, hours=3),
            [T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=2, hours=3)],
        ),
    ],
)  # fmt: skip
def test_an_advance_stops_every_day(
    start: datetime, until: datetime, expected: list[datetime]
) -> None:
    assert moments(start, until) == expected


async def test_only_the_test_environment_has_clocks(api: Api) -> None:
    response = await api.post("/v1/test-clocks", {"frozenTime": T0.isoformat()})
    assert (response.status_code, error_code(response)) == (403, "TEST_MODE_ONLY")
    listed = await api.get("/v1/test-clocks")
    assert (listed.status_code, error_code(listed)) == (403, "TEST_MODE_ONLY")


async def test_create_list_get_delete(test_api: Api) -> None:
    clock = await _clock(test_api, name="year one")
    assert clock["testClockId"].startswith("clock_")
    assert (clock["name"], clock["frozenTime"], clock["customerIds"]) == (
        "year one", "2025-01-31T12:00:00Z", [],
    )  # fmt: skip
    listed = (await test_api.get("/v1/test-clocks")).json()
    assert [c["testClockId"] for c in listed["testClocks"]] == [clock["testClockId"]]
    fetched = await test_api.get(f"/v1/test-clocks/{clock['testClockId']}")
    assert fetched.json() == clock
    deleted = await test_api.delete(f"/v1/test-clocks/{clock['testClockId']}")
    assert deleted.status_code == 200
    gone = await test_api.get(f"/v1/test-clocks/{clock['testClockId']}")
    assert (gone.status_code, error_code(gone)) == (404, "NOT_FOUND")


async def test_a_naive_time_is_refused(test_api: Api) -> None:
    response = await test_api.post("/v1/test-clocks", {"frozenTime": "2025-01-31T12:00:00"})
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")


async def test_customers_attach_and_detach(test_api: Api, api: Api) -> None:
    clock = await _clock(test_api)
    other = await _clock(test_api)
    customer = await test_api.create_customer()
    path = f"/v1/test-clocks/{clock['testClockId']}"
    attached = await test_api.post(f"{path}/customers", {"customerId": customer["customerId"]})
    assert attached.json()["testClock"]["customerIds"] == [customer["customerId"]]
    elsewhere = await test_api.post(
        f"/v1/test-clocks/{other['testClockId']}/customers", {"customerId": customer["customerId"]}
    )
    assert (elsewhere.status_code, error_code(elsewhere)) == (409, "CUSTOMER_HAS_TEST_CLOCK")
    live_customer = await api.create_customer()
    foreign = await test_api.post(f"{path}/customers", {"customerId": live_customer["customerId"]})
    assert (foreign.status_code, error_code(foreign)) == (404, "CUSTOMER_NOT_FOUND")
    detached = await test_api.delete(f"{path}/customers/{customer['customerId']}")
    assert detached.json()["testClock"]["customerIds"] == []


async def test_advancing_runs_every_step_in_order(
    test_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[datetime, tuple[str, ...]]] = []

    async def step(
        _session: AsyncSession, ctx: TenantContext, moment: datetime, customers: Sequence[str]
    ) -> None:
        assert ctx.mode == "test"
        seen.append((moment, tuple(customers)))

    monkeypatch.setattr(test_clocks, "STEPS", [step])
    clock = await _clock(test_api)
    customer = await test_api.create_customer()
    path = f"/v1/test-clocks/{clock['testClockId']}"
    await test_api.post(f"{path}/customers", {"customerId": customer["customerId"]})

    until = T0 + timedelta(days=3, hours=6)
    response = await test_api.post(f"{path}/advance", {"frozenTime": until.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["testClock"]["frozenTime"] == "2025-02-03T18:00:00Z"
    assert [moment for moment, _ in seen] == [
        T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=3), until,
    ]  # fmt: skip
    assert {customers for _, customers in seen} == {(customer["customerId"],)}


@pytest.mark.parametrize(
    ("until", "code"),
    [
        (T0, "too_small"),
        (T0 - timedelta(days=1), "too_small"),
        (T0 + timedelta(days=733), "too_big"),
    ],
)
async def test_a_clock_moves_forward_by_at_most_two_years(
    test_api: Api, until: datetime, code: str
) -> None:
    clock = await _clock(test_api)
    response = await test_api.post(
        f"/v1/test-clocks/{clock['testClockId']}/advance", {"frozenTime": until.isoformat()}
    )
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["code"] == code
    unchanged = (await test_api.get(f"/v1/test-clocks/{clock['testClockId']}")).json()
    assert unchanged["frozenTime"] == "2025-01-31T12:00:00Z"
