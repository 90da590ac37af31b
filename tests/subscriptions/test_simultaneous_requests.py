"""Requests that race each other, sent together as a busy client would: each must end in
an answer (never a deadlock's 500), exactly one winner where only one can win, and
counters that stay exact. On SQLite write transactions run one at a time; on PostgreSQL
they truly overlap, which is where lock order matters."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from tests.subscriptions.support import LAPTOP, confirmed_order, exact, register, start, subscribe
from tests.support import Api

NEW_SKU = "LAPTOP-18-A"
NEW_MODEL = {
    "productSku": "LAPTOP-18", "name": "Laptop Pro 18", "specification": "18-inch, 64 GB",
    "category": "Laptops", "brand": "Acme",
    "variants": [
        {
            "variantSku": NEW_SKU, "variantName": "Silver, grade A", "grade": "A",
            "listPrice": 2499, "acquisitionCost": 1500,
            "pricing": [{"contractLength": 24, "monthlyPrice": 89.99}],
        }
    ],
}  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(datetime(2025, 3, 10, 9, 0, tzinfo=UTC)):
        yield


async def rentals_of(api: Api, count: int) -> list[dict[str, Any]]:
    order = await confirmed_order(
        api, items=[{"sku": LAPTOP, "quantity": count, "contractLength": 12}]
    )
    for number in range(count):
        await register(api, f"SN-{number}")
    return [await subscribe(api, order, f"SN-{number}") for number in range(count)]


async def created(api: Api, rentals: list[dict[str, Any]]) -> dict[str, Any]:
    response = await api.post(
        "/v1/billing-groups",
        {
            "customerId": rentals[0]["customerId"], "groupName": "Head office",
            "billingDay": 15, "rentalIds": [rental["rentalId"] for rental in rentals],
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()["billingGroup"]
    return group


async def rental(api: Api, rental_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/subscriptions/{rental_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("group_change", ["delete", "replace_members"])
async def test_an_upgrade_and_a_change_of_its_group_sent_together_both_answer(
    api: Api, group_change: str
) -> None:
    """Both lock the group before its member subscriptions, so on PostgreSQL neither
    waits for the other in a cycle (that was a deadlock, one of them a 500)."""
    first, second = await rentals_of(api, 2)
    group = await created(api, [first, second])
    product = await api.post("/v1/products", NEW_MODEL)
    assert product.status_code == 201, product.text
    await register(api, "NEW-1", sku=NEW_SKU)
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    change = (
        api.delete(path)
        if group_change == "delete"
        else api.patch(path, {"rentalIds": [second["rentalId"], first["rentalId"]]})
    )
    upgrade = {
        "newSku": NEW_SKU, "newSerialNumber": "NEW-1", "contractLength": 24,
        "newMonthlyAmount": 89.99, "reason": "Newer model",
    }  # fmt: skip

    upgraded, changed = await asyncio.gather(
        api.post(f"/v1/subscriptions/{first['rentalId']}/upgrade", upgrade), change
    )

    assert (upgraded.status_code, changed.status_code) == (200, 200), (
        upgraded.text, changed.text,
    )  # fmt: skip
    new = await rental(api, upgraded.json()["newRentalId"])
    if group_change == "delete":
        # Whichever came first, the group is gone and nobody is billed by it.
        assert new["billingGroupId"] is None
        assert (await rental(api, second["rentalId"]))["billingGroupId"] is None
    else:
        members = exact(await api.get(path))["billingGroup"]["rentalIds"]
        assert second["rentalId"] in members
        assert new["billingGroupId"] == (
            group["billingGroupId"] if new["rentalId"] in members else None
        )


async def test_simultaneous_operations_leave_one_winner_and_true_counters(api: Api) -> None:
    """Two starts for the last unit of an item, one spare unit replaced into two
    subscriptions, two cancels of one subscription, two extensions when one is allowed:
    each time exactly one wins and the customer's counters stay exact."""
    items = [{"sku": LAPTOP, "quantity": 3, "contractLength": 12}]
    order = await confirmed_order(api, items=items)
    for serial in ("SN-1", "SN-2", "SN-3", "SN-4", "SN-5"):
        await register(api, serial)
    first = await subscribe(api, order, "SN-1")
    second = await subscribe(api, order, "SN-2")

    last = await asyncio.gather(start(api, order, "SN-3"), start(api, order, "SN-4"))
    assert sorted(r.status_code for r in last) == [201, 409]

    def replace(rental: dict[str, Any]) -> Any:
        body = {"newSerialNumber": "SN-5", "replacementReason": "lost"}
        return api.post(f"/v1/subscriptions/{rental['rentalId']}/replace", body)

    replaced = await asyncio.gather(replace(first), replace(second))
    assert sorted(r.status_code for r in replaced) == [200, 422]

    cancel = {"reason": "other"}
    cancels = await asyncio.gather(
        *(api.post(f"/v1/subscriptions/{first['rentalId']}/cancel", cancel) for _ in range(2))
    )
    assert sorted(r.status_code for r in cancels) == [200, 409]

    settings = await api.patch("/v1/settings", {"extensions": {"maxExtensions": 1}})
    assert settings.status_code == 200, settings.text
    extend = {"extensionMonths": 6, "newMonthlyAmount": 10}
    extends = await asyncio.gather(
        *(api.post(f"/v1/subscriptions/{second['rentalId']}/extend", extend) for _ in range(2))
    )
    assert sorted(r.status_code for r in extends) == [200, 422]

    customer = exact(await api.get(f"/v1/customers/{order['customerId']}"))
    # SN-2 at 10.00 and the winner of the last unit at 59.99; SN-1 cancelled.
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        2, Decimal("69.99"),
    )  # fmt: skip
