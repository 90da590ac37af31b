"""Devices walked through their whole lives through the /v1 API, checking the asset, the
order, the customer and the event log at every step (issue 3's proof).

One laptop: product, order, confirm, subscription, extend, replace, upgrade, buyout.
Two more laptops: one returned early with the settings' fee, one cancelled; then a
returned unit is inspected and rented again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.orders.support import order_body
from tests.subscriptions.support import (
    LAPTOP,
    PHONE,
    confirmed_order,
    event_counts,
    events_of,
    exact,
    register,
    subscribe,
)
from tests.support import Api, error_code

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


class Device:
    """What a client sees of one unit, its customer and the event log at one moment."""

    def __init__(self, api: Api, database: Database) -> None:
        self.api = api
        self.database = database

    async def asset(self, serial: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/assets/{serial}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def rental(self, rental_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/subscriptions/{rental_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = exact(response)
        return body

    async def customer(self, customer_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/customers/{customer_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = exact(response)
        return body

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = exact(response)
        return body

    async def holds(self, serial: str, status: str, rental_id: str | None) -> None:
        asset = await self.asset(serial)
        assert (asset["status"], asset["rentalId"]) == (status, rental_id), asset

    async def renting(self, customer_id: str, devices: int, revenue: str) -> None:
        customer = await self.customer(customer_id)
        assert customer["totalDevicesRented"] == devices
        assert customer["totalMonthlyRevenue"] == Decimal(revenue)

    async def events(self) -> Counter[str]:
        return await event_counts(self.database)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.quote(path, body)
        assert answer["success"] is True
        return answer

    async def quote(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = exact(response)
        return answer


async def test_one_laptop_from_order_to_buyout(api: Api, database: Database) -> None:
    device = Device(api, database)
    order = await confirmed_order(api, items=[{"sku": LAPTOP, "quantity": 1, "contractLength": 12}])
    customer_id = order["customerId"]
    for serial in ("SN-1", "SN-2"):
        await register(api, serial)
    await register(api, "PH-1", sku=PHONE)
    await device.holds("SN-1", "available", None)

    # Subscription: the laptop goes out, the order is fulfilled.
    first = await subscribe(api, order, "SN-1")
    sub1 = first["rentalId"]
    assert (first["status"], first["endDate"], first["monthlyAmount"]) == (
        "active", "2026-03-10", Decimal("59.99"),
    )  # fmt: skip
    await device.holds("SN-1", "rented_out", sub1)
    assert (await device.order(order["orderId"]))["status"] == "fulfilled"
    await device.renting(customer_id, 1, "59.99")
    assert await device.events() == {
        "order.created": 1, "order.fulfilled": 1, "subscription.created": 1,
        "asset.assigned": 1,
    }  # fmt: skip

    # A month later: extended by 6 months at a lower price.
    clock.advance(timedelta(days=30))
    extended = await device.post(
        f"/v1/subscriptions/{sub1}/extend",
        {"rentalId": sub1, "extensionMonths": 6, "newMonthlyAmount": 54.99,
         "reason": "Customer asked for longer"},
    )  # fmt: skip
    assert (extended["oldEndDate"], extended["newEndDate"]) == ("2026-03-10", "2026-09-10")
    assert (extended["oldContractLength"], extended["newContractLength"]) == (12, 18)
    rental = await device.rental(sub1)
    assert (rental["status"], rental["contractLength"], rental["originalContractLength"]) == (
        "active", 18, 12,
    )  # fmt: skip
    assert rental["monthlyAmount"] == Decimal("54.99")
    assert [entry["extensionMonths"] for entry in rental["extensionHistory"]] == [6]
    await device.renting(customer_id, 1, "54.99")
    await device.holds("SN-1", "rented_out", sub1)
    tracking = (await api.get("/v1/orders", orderType="extension")).json()["orders"]
    assert [o["extensionDetails"]["originalOrderId"] for o in tracking] == [order["orderId"]]
    assert (await device.events())["subscription.extended"] == 1

    # Another month: the laptop is defective and replaced by a unit of the same SKU.
    clock.advance(timedelta(days=30))
    await device.post(
        f"/v1/subscriptions/{sub1}/replace",
        {"rentalId": sub1, "newSerialNumber": "SN-2", "replacementReason": "defective"},
    )
    await device.holds("SN-1", "unavailable", None)
    await device.holds("SN-2", "rented_out", sub1)
    rental = await device.rental(sub1)
    assert rental["serialNumber"] == "SN-2"
    assert [(e["oldSerialNumber"], e["newSerialNumber"]) for e in rental["replacementHistory"]] == [
        ("SN-1", "SN-2"),
    ]  # fmt: skip
    await device.renting(customer_id, 1, "54.99")
    counts = await device.events()
    assert (counts["asset.returned"], counts["asset.assigned"]) == (1, 2)

    # Another month: upgraded to a phone on a new 12-month contract.
    clock.advance(timedelta(days=30))
    upgraded = await device.post(
        f"/v1/subscriptions/{sub1}/upgrade",
        {"rentalId": sub1, "newSku": PHONE, "newSerialNumber": "PH-1", "contractLength": 12,
         "newMonthlyAmount": 24.99, "reason": "Wants a phone"},
    )  # fmt: skip
    sub2 = upgraded["newRentalId"]
    assert upgraded["oldRentalId"] == sub1
    assert upgraded["newMonthlyAmount"] == Decimal("24.99")
    old, new = await device.rental(sub1), await device.rental(sub2)
    assert (old["status"], old["upgradedToRentalId"]) == ("ended_upgrade", sub2)
    assert (new["status"], new["upgradeFromRentalId"], new["serialNumber"]) == (
        "active", sub1, "PH-1",
    )  # fmt: skip
    assert (new["startDate"], new["endDate"]) == ("2025-06-08", "2026-06-08")
    await device.holds("SN-2", "returned", None)
    await device.holds("PH-1", "rented_out", sub2)
    await device.renting(customer_id, 1, "24.99")
    upgrade_orders = (await api.get("/v1/orders", orderType="upgrade")).json()["orders"]
    assert [o["upgradeDetails"]["previousRentalId"] for o in upgrade_orders] == [sub1]
    assert new["orderId"] == upgrade_orders[0]["orderId"]
    counts = await device.events()
    assert counts["subscription.upgraded"] == 1
    assert counts["subscription.created"] == 2
    assert counts["subscription.ended"] == 0  # an upgrade is announced as such
    assert (counts["asset.returned"], counts["asset.assigned"]) == (2, 3)

    # A month later the customer buys the phone: 11 months left at 24.99.
    clock.advance(timedelta(days=30))
    quote = await device.quote("/v1/subscriptions/calculate-buyout", {"rentalId": sub2})
    assert (quote["buyoutPrice"], quote["remainingPayments"]) == (Decimal("274.89"),) * 2
    assert quote["calculationBreakdown"]["remainingMonths"] == 11
    bought = await device.post(
        f"/v1/subscriptions/{sub2}/buyout", {"rentalId": sub2, "reason": "customer_request"}
    )
    assert (bought["buyoutPrice"], bought["assetSerialNumber"]) == (Decimal("274.89"), "PH-1")
    rental = await device.rental(sub2)
    assert rental["status"] == "ended_buyout"
    assert rental["buyoutDetails"]["buyoutPrice"] == Decimal("274.89")
    await device.holds("PH-1", "sold", None)
    await device.renting(customer_id, 0, "0")
    counts = await device.events()
    assert counts["subscription.ended"] == 1
    assert counts["asset.returned"] == 2  # a sold unit does not come back
    (ended,) = await events_of(database, "subscription.ended")
    assert (ended.data["subscriptionId"], ended.data["status"]) == (sub2, "ended_buyout")

    # Its whole story is on the first subscription.
    actions = [entry["action"] for entry in (await device.rental(sub1))["history"]]
    assert actions == ["created", "extended", "replaced", "upgraded"]


async def test_early_return_cancellation_and_a_second_life(api: Api, database: Database) -> None:
    device = Device(api, database)
    order = await confirmed_order(api)  # two laptops for 12 months
    customer_id = order["customerId"]
    await register(api, "SN-A")
    await register(api, "SN-B")
    sub_a = (await subscribe(api, order, "SN-A"))["rentalId"]
    sub_b = (await subscribe(api, order, "SN-B"))["rentalId"]
    await device.renting(customer_id, 2, "119.98")

    # Within the 14-day grace period nothing is owed.
    clock.advance(timedelta(days=5))
    quote = await device.quote("/v1/subscriptions/calculate-early-return-fee", {"rentalId": sub_a})
    assert quote["earlyReturnFee"] == Decimal("0")
    assert quote["calculationBreakdown"]["gracePeriodApplied"] is True

    # On 20 May: the months from the current contract month (10 May) to the end (10 March
    # next year) are owed in full: 10 × 59.99.
    clock.advance(timedelta(days=66))
    returned = await device.post(
        f"/v1/subscriptions/{sub_a}/early-return",
        {"rentalId": sub_a, "returnCondition": "good", "reason": "Moving abroad"},
    )
    assert returned["earlyReturnFee"] == Decimal("599.90")
    rental = await device.rental(sub_a)
    assert rental["status"] == "ended_early_return"
    assert rental["earlyReturnDetails"]["calculationBreakdown"]["remainingMonths"] == 10
    await device.holds("SN-A", "returned", None)
    await device.renting(customer_id, 1, "59.99")

    cancelled = await device.post(
        f"/v1/subscriptions/{sub_b}/cancel", {"rentalId": sub_b, "reason": "customer_request"}
    )
    assert cancelled["previousStatus"] == "active"
    assert (await device.rental(sub_b))["status"] == "cancelled"
    await device.holds("SN-B", "returned", None)
    await device.renting(customer_id, 0, "0")

    # Ended contracts take no more operations, and say why.
    again = await api.post(
        f"/v1/subscriptions/{sub_b}/cancel", {"rentalId": sub_b, "reason": "other"}
    )
    assert (again.status_code, error_code(again)) == (409, "ALREADY_CANCELLED")
    ended = await api.post(
        f"/v1/subscriptions/{sub_a}/cancel", {"rentalId": sub_a, "reason": "other"}
    )
    assert (ended.status_code, error_code(ended)) == (409, "ALREADY_ENDED")
    extend = await api.post(
        f"/v1/subscriptions/{sub_b}/extend",
        {"rentalId": sub_b, "extensionMonths": 6, "reason": "late"},
    )
    assert (extend.status_code, error_code(extend)) == (422, "SUBSCRIPTION_NOT_ACTIVE")

    counts = await device.events()
    assert (counts["subscription.ended"], counts["asset.returned"]) == (2, 2)
    assert (await device.order(order["orderId"]))["status"] == "fulfilled"

    # The returned laptop passes inspection and is rented to someone else.
    response = await api.put("/v1/assets/SN-A", {"sku": LAPTOP, "status": "available"})
    assert response.status_code == 200, response.text
    other = await confirmed_order(
        api, catalog=False,
        **order_body("bob@example.com", items=[{"sku": LAPTOP, "quantity": 1}]),
    )  # fmt: skip
    second_life = await subscribe(api, other, "SN-A")
    await device.holds("SN-A", "rented_out", second_life["rentalId"])
    history = (await api.get("/v1/assets/SN-A")).json()["history"]
    assert [entry["rentalId"] for entry in history if entry["kind"] == "assigned"] == [
        sub_a, second_life["rentalId"],
    ]  # fmt: skip
