"""Changing an item mid-period (``PATCH /v1/plan-subscriptions/{id}/items/{itemId}``):
what it costs (``item_changes_rules``, table tests) and how it is billed, on the next
invoice or at once, to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.catalog.charge_models import PriceBook
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    PlanPrice,
    PriceCategory,
)
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError
from flexbill.plan_subscriptions.item_changes_rules import (
    Effect,
    Part,
    Terms,
    check_replacement,
    effect,
)
from flexbill.plan_subscriptions.models import SubscriptionItem
from flexbill.plan_subscriptions.terms import Span
from tests.api.test_plan_subscriptions import (
    MARCH_1,
    flat_fee,
    invoices_of,
    lines,
    per_unit,
    plan,
    read,
    subscribe,
    travel,
)
from tests.orders.support import exact
from tests.subscriptions.support import events_of
from tests.support import Api, error_code

D = Decimal
ANCHOR = date(2025, 3, 1)
MARCH_11 = date(2025, 3, 11)
APRIL_1 = date(2025, 4, 1)
MARCH_REST = Span(MARCH_11, APRIL_1)  # 21 of March's 31 days


# ------------------------------------------------------------------ pure rules


def price(
    amount: str, *, model: ChargeModel = ChargeModel.PER_UNIT, plan_id: str = "plan_1",
    price_id: str = "price_1", version: int = 1,
    timing: BillingTiming = BillingTiming.IN_ADVANCE, every: int = 1,
    unit: PeriodUnit = PeriodUnit.MONTH, category: PriceCategory = PriceCategory.RECURRING,
) -> PlanPrice:  # fmt: skip
    return PlanPrice(
        id=price_id, version=version, plan_id=plan_id, name="Seats", category=category,
        charge_model=model, billing_timing=timing, billing_period=every,
        billing_period_unit=unit, amounts={"EUR": PriceBook(unit_amount=D(amount)).to_json()},
        included_units=D(0),
    )  # fmt: skip


SEATS = price("10.00")
PRO_SEATS = price("15.00", price_id="price_2")
YEARLY_SEATS = price("100.00", price_id="price_3", unit=PeriodUnit.YEAR)
SUPPORT = price("30.00", model=ChargeModel.FLAT_FEE)
METERED = price("0.10", timing=BillingTiming.IN_ARREARS)


def item(billed_through: date | None = APRIL_1) -> SubscriptionItem:
    return SubscriptionItem(
        id="si_1", plan_id="plan_1", plan_price_id="price_1", plan_price_version=1,
        billed_through=billed_through,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "billed_through", "day", "expected"),
    [
        # 2 → 5 seats on 11 March: −20.00 × 21/31 = −13.548… and +50.00 × 21/31 = 33.870…
        (Terms(SEATS, 2, None), Terms(SEATS, 5, None), APRIL_1, MARCH_11,
         Effect(Part(MARCH_REST, -1355, 2), Part(MARCH_REST, 3387, 5), APRIL_1)),
        # A downgrade: the credit is the larger part.
        (Terms(SEATS, 5, None), Terms(SEATS, 2, None), APRIL_1, MARCH_11,
         Effect(Part(MARCH_REST, -3387, 5), Part(MARCH_REST, 1355, 2), APRIL_1)),
        # An override of 12.345 a seat: 2 × 12.345 = 24.69 a period, × 21/31 = 16.725… .
        (Terms(SEATS, 2, None), Terms(SEATS, 2, D("12.345")), APRIL_1, MARCH_11,
         Effect(Part(MARCH_REST, -1355, 2), Part(MARCH_REST, 1673, 2), APRIL_1)),
        # On the period's first day, already invoiced: the whole period both ways.
        (Terms(SEATS, 1, None), Terms(SEATS, 3, None), date(2025, 4, 1), ANCHOR,
         Effect(Part(Span(ANCHOR, APRIL_1), -1000, 1), Part(Span(ANCHOR, APRIL_1), 3000, 3),
                APRIL_1)),
        # On the last day: one day of 31.
        (Terms(SEATS, 1, None), Terms(SEATS, 2, None), APRIL_1, date(2025, 3, 31),
         Effect(Part(Span(date(2025, 3, 31), APRIL_1), -32, 1),
                Part(Span(date(2025, 3, 31), APRIL_1), 65, 2), APRIL_1)),
        # A flat fee's quantity does not change what a period costs.
        (Terms(SUPPORT, 1, None), Terms(SUPPORT, 4, None), APRIL_1, MARCH_11,
         Effect(None, None, APRIL_1)),
        # The current period is not invoiced yet: nothing to prorate.
        (Terms(SEATS, 2, None), Terms(SEATS, 5, None), MARCH_11, MARCH_11,
         Effect(None, None, MARCH_11)),
        # In arrears: rated at the period's end at the terms of that day.
        (Terms(METERED, 1, None), Terms(METERED, 9, None), ANCHOR, MARCH_11,
         Effect(None, None, ANCHOR)),
        # Another monthly price: the same days, the new item billed from 1 April.
        (Terms(SEATS, 2, None), Terms(PRO_SEATS, 2, None), APRIL_1, MARCH_11,
         Effect(Part(MARCH_REST, -1355, 2), Part(MARCH_REST, 2032, 2), APRIL_1)),
        # A yearly price: charged to the end of its own year from the anchor
        # (200.00 × 355/365 = 194.520…), then billed from 1 March 2026.
        (Terms(SEATS, 2, None), Terms(YEARLY_SEATS, 2, None), APRIL_1, MARCH_11,
         Effect(Part(MARCH_REST, -1355, 2),
                Part(Span(MARCH_11, date(2026, 3, 1)), 19452, 2), date(2026, 3, 1))),
        # Another price whose period starts on the day, nothing invoiced: billed whole.
        (Terms(SEATS, 2, None), Terms(PRO_SEATS, 2, None), APRIL_1, APRIL_1,
         Effect(None, None, APRIL_1)),
    ],
)  # fmt: skip
def test_what_a_change_costs(
    old: Terms, new: Terms, billed_through: date, day: date, expected: Effect
) -> None:
    assert effect(item(billed_through), old, new, anchor=ANCHOR, day=day, currency="EUR") == (
        expected
    )


def test_weeks_count_from_the_anchor() -> None:
    """A weekly price anchored on a Monday, changed on Wednesday: 5 of 7 days."""
    weekly = price("7.00", unit=PeriodUnit.WEEK)
    monday, wednesday = date(2025, 3, 3), date(2025, 3, 5)
    rest = Span(wednesday, date(2025, 3, 10))
    got = effect(
        item(date(2025, 3, 10)), Terms(weekly, 1, None), Terms(weekly, 3, None),
        anchor=monday, day=wednesday, currency="EUR",
    )  # fmt: skip
    assert got == Effect(Part(rest, -500, 1), Part(rest, 1500, 3), date(2025, 3, 10))


@pytest.mark.parametrize(
    ("new", "refused"),
    [
        (PRO_SEATS, None),
        (YEARLY_SEATS, None),
        (price("10.00", price_id="price_9", plan_id="plan_2"), "is not a price of the item's plan"),
        (price("5.00", price_id="price_9", timing=BillingTiming.IN_ARREARS),
         "is not billed with the item's timing"),
        (price("5.00", price_id="price_9", category=PriceCategory.ONE_TIME),
         "is not of the item's category"),
    ],
)  # fmt: skip
def test_which_prices_may_replace_an_in_advance_item(new: PlanPrice, refused: str | None) -> None:
    if refused is None:
        check_replacement(item(), SEATS, new)
        return
    with pytest.raises(FlexbillError) as caught:
        check_replacement(item(), SEATS, new)
    assert caught.value.code == "PLAN_NOT_AVAILABLE"
    assert refused in caught.value.message


def test_an_in_arrears_item_keeps_its_period() -> None:
    check_replacement(
        item(), METERED, price("0.20", price_id="price_9", timing=BillingTiming.IN_ARREARS)
    )
    weekly = price(
        "0.20", price_id="price_9", timing=BillingTiming.IN_ARREARS, unit=PeriodUnit.WEEK
    )
    with pytest.raises(FlexbillError) as caught:
        check_replacement(item(), METERED, weekly)
    assert caught.value.code == "PLAN_NOT_AVAILABLE"


# ------------------------------------------------------------------ over HTTP


async def seats_from_march(api: Api, quantity: int, *extra: dict[str, Any]) -> dict[str, Any]:
    """A subscription from 1 March to 10.00 a seat a month (and ``extra`` prices of the
    same plan, not subscribed)."""
    customer = await api.create_customer()
    seats, *_ = await plan(api, per_unit("Seats", "10.00"), *extra)
    return await subscribe(
        api, customer["customerId"], [{"planPriceId": seats, "quantity": quantity}]
    )


async def change(
    api: Api, subscription: dict[str, Any], body: dict[str, Any], item: int = 0
) -> dict[str, Any]:
    path = f"/v1/plan-subscriptions/{subscription['id']}/items/{subscription['items'][item]['id']}"
    response = await api.patch(path, body)
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["message"] == "Subscription item changed"
    changed: dict[str, Any] = answer["subscription"]
    return changed


def pending(subscription: dict[str, Any]) -> list[tuple[str, Decimal, str, str]]:
    return [
        (charge["kind"], charge["amount"], charge["periodStart"], charge["periodEnd"])
        for charge in subscription["pendingCharges"]
    ]


PRORATED_2_TO_5 = [
    ("proration_credit", D("-13.55"), "2025-03-11", "2025-04-01"),
    ("proration_charge", D("33.87"), "2025-03-11", "2025-04-01"),
]


async def test_more_seats_mid_period_are_prorated_on_the_next_invoice(
    api: Api, database: Database
) -> None:
    with clock.frozen(MARCH_1):
        subscription = await seats_from_march(api, 2)
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        changed = await change(api, subscription, {"quantity": 5})
        assert pending(changed) == PRORATED_2_TO_5
        assert [charge["description"] for charge in changed["pendingCharges"]] == [
            "Unused time – Seats × 2, 2025-03-11 to 2025-03-31",
            "Remaining time – Seats × 5, 2025-03-11 to 2025-03-31",
        ]
        (seat_item,) = changed["items"]
        assert (seat_item["quantity"], seat_item["billedThrough"]) == (5, "2025-04-01")
        assert changed["history"][-1]["action"] == "item_changed"
        assert (changed["history"][-1]["fromQuantity"], changed["history"][-1]["toQuantity"]) == (
            2, 5,
        )  # fmt: skip
        assert len(await invoices_of(api, subscription["id"])) == 1  # nothing billed yet
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
        after = await read(api, subscription["id"])
    assert after["pendingCharges"] == []
    march, april = await invoices_of(api, subscription["id"])
    assert march["total"] == D("20.00")
    assert lines(april) == [
        ("plan", "Seats × 5, 2025-04-01 to 2025-04-30", "2025-04-01", D("50.00")),
        ("proration_credit", "Unused time – Seats × 2, 2025-03-11 to 2025-03-31", "2025-03-11",
         D("-13.55")),
        ("proration_charge", "Remaining time – Seats × 5, 2025-03-11 to 2025-03-31",
         "2025-03-11", D("33.87")),
    ]  # fmt: skip
    assert april["total"] == D("70.32")
    (event,) = await events_of(database, "subscription.updated")
    assert (event.data["subscriptionId"], event.data["item"]["quantity"]) == (
        subscription["id"], 5,
    )  # fmt: skip
    assert (event.data["prorationCredit"], event.data["prorationCharge"]) == (
        D("-13.55"), D("33.87"),
    )  # fmt: skip
    assert (event.data["effectiveOn"], event.data["invoiceId"]) == ("2025-03-11", None)


async def test_invoice_now_bills_the_proration_on_an_invoice_of_its_own(
    api: Api, database: Database
) -> None:
    with clock.frozen(MARCH_1):
        subscription = await seats_from_march(api, 2)
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        changed = await change(api, subscription, {"quantity": 5, "invoiceNow": True})
        assert changed["pendingCharges"] == []
        march, proration = await invoices_of(api, subscription["id"])
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    assert march["total"] == D("20.00")
    assert (proration["periodStart"], proration["periodEnd"], proration["status"]) == (
        "2025-03-11", "2025-04-01", "open",
    )  # fmt: skip
    assert [(line[0], line[3]) for line in lines(proration)] == [
        ("proration_credit", D("-13.55")), ("proration_charge", D("33.87")),
    ]  # fmt: skip
    assert (proration["total"], proration["amountDue"]) == (D("20.32"), D("20.32"))
    april = (await invoices_of(api, subscription["id"]))[-1]
    assert lines(april) == [
        ("plan", "Seats × 5, 2025-04-01 to 2025-04-30", "2025-04-01", D("50.00"))
    ]
    (event,) = await events_of(database, "subscription.updated")
    assert event.data["invoiceId"] == proration["invoiceId"]
    assert changed["history"][-1]["invoiceId"] == proration["invoiceId"]


async def test_fewer_seats_give_a_net_credit(api: Api, database: Database) -> None:
    """5 → 2 seats on 11 March: the April invoice bills 20.00 for April, gives back
    33.87 and charges 13.55: −0.32 in all. At once, the change alone is −20.32."""
    with clock.frozen(MARCH_1):
        later = await seats_from_march(api, 5)
        now = await seats_from_march(api, 5)
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        waiting = await change(api, later, {"quantity": 2})
        assert pending(waiting) == [
            ("proration_credit", D("-33.87"), "2025-03-11", "2025-04-01"),
            ("proration_charge", D("13.55"), "2025-03-11", "2025-04-01"),
        ]
        await change(api, now, {"quantity": 2, "invoiceNow": True})
        at_once = (await invoices_of(api, now["id"]))[-1]
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    assert (at_once["total"], at_once["amountDue"], at_once["status"]) == (
        D("-20.32"), D("0.00"), "paid",
    )  # fmt: skip
    april = (await invoices_of(api, later["id"]))[-1]
    assert [line[3] for line in lines(april)] == [D("20.00"), D("-33.87"), D("13.55")]
    assert april["total"] == D("-0.32")


async def test_another_price_of_the_plan_replaces_the_item(api: Api, database: Database) -> None:
    with clock.frozen(MARCH_1):
        subscription = await seats_from_march(
            api, 2, per_unit("Pro seats", "15.00"), per_unit("Metered", "0.10",
                                                                billingTiming="in_arrears"),
        )  # fmt: skip
        pro = await api.get("/v1/plan-prices", planId=subscription["items"][0]["planId"])
        by_name = {p["name"]: p["id"] for p in pro.json()["planPrices"]}
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        refused = await api.patch(
            f"/v1/plan-subscriptions/{subscription['id']}/items/{subscription['items'][0]['id']}",
            {"planPriceId": by_name["Metered"]},
        )
        assert (refused.status_code, error_code(refused)) == (422, "PLAN_NOT_AVAILABLE")
        changed = await change(api, subscription, {"planPriceId": by_name["Pro seats"]})
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    new_item, old_item = changed["items"]
    assert (old_item["id"], old_item["endedOn"], old_item["billedThrough"]) == (
        subscription["items"][0]["id"], "2025-03-11", "2025-03-11",
    )  # fmt: skip
    assert (new_item["planPriceId"], new_item["quantity"], new_item["position"]) == (
        by_name["Pro seats"], 2, 2,
    )  # fmt: skip
    assert (new_item["startedOn"], new_item["billedThrough"], new_item["endedOn"]) == (
        "2025-03-11", "2025-04-01", None,
    )  # fmt: skip
    assert [(c["kind"], c["itemId"], c["amount"]) for c in changed["pendingCharges"]] == [
        ("proration_credit", old_item["id"], D("-13.55")),
        ("proration_charge", new_item["id"], D("20.32")),  # 30.00 × 21/31 = 20.322…
    ]
    april = (await invoices_of(api, subscription["id"]))[-1]
    assert [(line[0], line[3]) for line in lines(april)] == [
        ("plan", D("30.00")), ("proration_credit", D("-13.55")), ("proration_charge", D("20.32")),
    ]  # fmt: skip


async def test_an_in_arrears_item_changes_without_proration(api: Api, database: Database) -> None:
    """A support fee billed in arrears, its override raised on 11 March: March is billed
    on 1 April at the terms the item has then."""
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (support,) = await plan(api, flat_fee("Support", "30.00", billingTiming="in_arrears"))
        subscription = await subscribe(api, customer["customerId"], [{"planPriceId": support}])
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        changed = await change(api, subscription, {"unitAmountOverride": "40.00"})
        assert (changed["pendingCharges"], changed["items"][0]["unitAmountOverride"]) == (
            [], D("40.00"),
        )  # fmt: skip
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
        cleared = await change(api, changed, {"unitAmountOverride": None})
    assert cleared["items"][0]["unitAmountOverride"] is None
    (march,) = await invoices_of(api, subscription["id"])
    assert lines(march) == [("plan", "Support, 2025-03-01 to 2025-03-31", "2025-03-01", D("40.00"))]


async def test_what_a_change_refuses(api: Api, database: Database) -> None:
    with clock.frozen(MARCH_1):
        subscription = await seats_from_march(
            api, 2, {"name": "Calls", "chargeModel": "tiered",
                     "amounts": {"EUR": {"tiers": [{"upTo": None, "unitAmount": "0.01"}]}}},
        )  # fmt: skip
        (elsewhere,) = await plan(api, per_unit("Other seats", "9.00"))
        prices = await api.get("/v1/plan-prices", planId=subscription["items"][0]["planId"])
        calls = next(p["id"] for p in prices.json()["planPrices"] if p["name"] == "Calls")
        sid, item_id = subscription["id"], subscription["items"][0]["id"]
        path = f"/v1/plan-subscriptions/{sid}/items/{item_id}"
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({}, 400, "VALIDATION_ERROR"),
            ({"quantity": 0}, 400, "VALIDATION_ERROR"),
            ({"quantity": "many"}, 400, "VALIDATION_ERROR"),
            ({"unitAmountOverride": -1}, 400, "VALIDATION_ERROR"),
            ({"planPriceId": "price_missing"}, 404, "PLAN_PRICE_NOT_FOUND"),
            ({"planPriceId": elsewhere}, 422, "PLAN_NOT_AVAILABLE"),
            ({"planPriceId": calls, "unitAmountOverride": 1}, 400, "VALIDATION_ERROR"),
        ]
        for body, status, code in cases:
            response = await api.patch(path, body)
            assert (response.status_code, error_code(response)) == (status, code), body
        missing = await api.patch(f"/v1/plan-subscriptions/{sid}/items/si_missing", {"quantity": 3})
        assert (missing.status_code, error_code(missing)) == (404, "SUBSCRIPTION_ITEM_NOT_FOUND")
        replaced = await change(api, subscription, {"planPriceId": calls})
        ended = await api.patch(path, {"quantity": 3})
        assert (ended.status_code, error_code(ended)) == (422, "ITEM_NOT_CHANGEABLE")
        cancelled = await api.post(f"/v1/plan-subscriptions/{sid}/cancel", {"option": "today"})
        assert cancelled.status_code == 200, cancelled.text
        current = replaced["items"][0]["id"]
        response = await api.patch(f"/v1/plan-subscriptions/{sid}/items/{current}", {"quantity": 3})
        assert (response.status_code, error_code(response)) == (422, "INVALID_STATUS_TRANSITION")
    assert len(await events_of(database, "subscription.updated")) == 1


async def test_a_running_item_moves_to_a_new_price_version_only_when_asked(
    api: Api, database: Database
) -> None:
    """The seat price rises to 12.00 on 11 March: being billed, it gets version 2, and
    the running item keeps billing version 1 until it is moved; the move prorates."""
    with clock.frozen(MARCH_1):
        subscription = await seats_from_march(api, 2)
        price_id = subscription["items"][0]["planPriceId"]
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        raised = await api.patch(
            f"/v1/plan-prices/{price_id}", {"amounts": {"EUR": {"unitAmount": "12.00"}}}
        )
        assert raised.status_code == 200, raised.text
        assert raised.json()["planPrice"]["version"] == 2
        kept = await read(api, subscription["id"])
        assert kept["items"][0]["planPriceVersion"] == 1
        moved = await change(api, subscription, {"planPriceId": price_id})
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    new_item, old_item = moved["items"]
    assert (old_item["planPriceVersion"], old_item["endedOn"]) == (1, "2025-03-11")
    assert (new_item["planPriceId"], new_item["planPriceVersion"], new_item["quantity"]) == (
        price_id, 2, 2,
    )  # fmt: skip
    # −20.00 × 21/31 = −13.55 back, 24.00 × 21/31 = 16.258… → 16.26 charged.
    assert [charge["amount"] for charge in moved["pendingCharges"]] == [D("-13.55"), D("16.26")]
    april = (await invoices_of(api, subscription["id"]))[-1]
    assert [(line[0], line[3]) for line in lines(april)] == [
        ("plan", D("24.00")), ("proration_credit", D("-13.55")), ("proration_charge", D("16.26")),
    ]  # fmt: skip
