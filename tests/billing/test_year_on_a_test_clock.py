"""A subscription's billing life on a test clock, through the /v1 API only, as a client
testing its integration would run it: billed every month, a declined card, a retry that
succeeds after the card is replaced, three renewals, then a cancellation after which
nothing more is billed. Every invoice, payment and event is checked to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.orders.support import exact
from tests.subscriptions.support import LAPTOP, confirmed_order, event_counts, register, subscribe
from tests.support import Api, Tenant

T0 = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _real_time_stands_still() -> Iterator[None]:
    with clock.frozen(T0):
        yield


@pytest.fixture
def test_api(api: Api, tenant: Tenant) -> Api:
    return api.with_key(tenant.test_key)


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return exact(response)


async def _payments(api: Api, rental_id: str) -> list[dict[str, Any]]:
    body = await _ok(
        await api.get("/v1/payments", rentalId=rental_id, sortBy="dueDate", sortDir="asc")
    )
    payments: list[dict[str, Any]] = body["payments"]
    return payments


async def _invoices(api: Api, rental_id: str) -> list[dict[str, Any]]:
    body = await _ok(
        await api.get("/v1/invoices", subscriptionId=rental_id, sortBy="dueDate", sortDir="asc")
    )
    invoices: list[dict[str, Any]] = body["invoices"]
    return invoices


async def test_a_year_of_billing_on_a_test_clock(test_api: Api, database: Database) -> None:
    api = test_api
    await _ok(
        await api.patch(
            "/v1/settings",
            {
                "paymentRetry": {"automatic": True, "attempts": 2, "intervalDays": 3},
                "contractEnd": "auto_renew_monthly",
            },
        )
    )
    order = await confirmed_order(api, items=[{"sku": LAPTOP, "quantity": 1, "contractLength": 12}])
    await register(api, "SN-1")
    rental = await subscribe(api, order, "SN-1", contractLength=3)
    rental_id, customer_id = rental["rentalId"], order["customerId"]
    assert (rental["startDate"], rental["endDate"]) == ("2025-01-15", "2025-04-15")

    await _ok(
        await api.post(
            "/v1/payment-methods",
            {"customerId": customer_id, "gateway": "sandbox", "token": "tok_insufficient_funds"},
        ),
        201,
    )
    await _ok(await api.post(f"/v1/customers/{customer_id}/auto-charge", {"enabled": True}))
    test_clock = (
        await _ok(await api.post("/v1/test-clocks", {"frozenTime": T0.isoformat()}), 201)
    )["testClock"]
    clock_path = f"/v1/test-clocks/{test_clock['testClockId']}"
    await _ok(await api.post(f"{clock_path}/customers", {"customerId": customer_id}))

    async def advance_to(moment: datetime) -> None:
        await _ok(await api.post(f"{clock_path}/advance", {"frozenTime": moment.isoformat()}))

    # The first month (with the laptop's 25.00 setup fee) is billed and the card declines.
    await advance_to(T0 + timedelta(hours=1))
    (first,) = await _payments(api, rental_id)
    assert (first["amount"], first["billingPeriod"], first["dueDate"]) == (
        Decimal("84.99"), "2025-01", "2025-01-15",
    )  # fmt: skip
    assert first["status"] == "failed"
    assert first["captureAttempts"] == 1
    (invoice,) = await _invoices(api, rental_id)
    assert (invoice["number"], invoice["total"], invoice["status"]) == (
        "INV-000001", Decimal("84.99"), "open",
    )  # fmt: skip

    # The customer replaces the card; the retry three days later succeeds.
    await _ok(
        await api.post(
            "/v1/payment-methods",
            {"customerId": customer_id, "gateway": "sandbox", "token": "tok_visa",
             "isDefault": True},
        ),
        201,
    )  # fmt: skip
    await advance_to(T0 + timedelta(days=4))
    (first,) = await _payments(api, rental_id)
    assert (first["status"], first["captureAttempts"]) == ("paid", 2)
    (invoice,) = await _invoices(api, rental_id)
    assert (invoice["status"], invoice["amountPaid"]) == ("paid", Decimal("84.99"))

    # Through the three-month term and three monthly renewals: seven months in all.
    await advance_to(datetime(2025, 7, 20, 9, 0, tzinfo=UTC))
    payments = await _payments(api, rental_id)
    assert [p["billingPeriod"] for p in payments] == [
        "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07",
    ]  # fmt: skip
    assert {p["status"] for p in payments} == {"paid"}
    assert [p["amount"] for p in payments] == [Decimal("84.99")] + [Decimal("59.99")] * 6
    numbers = [i["number"] for i in await _invoices(api, rental_id)]
    assert numbers == [f"INV-{n:06d}" for n in range(1, 8)]
    renewed = await _ok(await api.get(f"/v1/subscriptions/{rental_id}"))
    assert (renewed["status"], renewed["endDate"]) == ("active", "2025-08-15")
    assert renewed["totalCollected"] == Decimal("444.93")  # 7 × 59.99 + 25.00
    customer = await _ok(await api.get(f"/v1/customers/{customer_id}"))
    assert customer["lifetimeCollected"] == Decimal("444.93")

    # Cancelled: nothing more is billed.
    await _ok(
        await api.post(
            f"/v1/subscriptions/{rental_id}/cancel", {"rentalId": rental_id, "reason": "other"}
        )
    )
    await advance_to(datetime(2025, 10, 1, 9, 0, tzinfo=UTC))
    assert len(await _payments(api, rental_id)) == 7

    counts = await event_counts(database)
    assert counts["payment.scheduled"] == 7
    assert counts["payment.failed"] == 1
    assert counts["payment.succeeded"] == 7
    assert counts["subscription.ended"] == 1
