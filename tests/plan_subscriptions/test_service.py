"""Creating, reading and listing general subscriptions through the domain's service: what
is refused (with the field at fault), what a new subscription starts as, filters and
keyset pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from flexbill.catalog.plan_models import ChargeModel, PeriodUnit, Plan, PlanStatus
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError
from flexbill.core.pagination import PageRequest
from flexbill.plan_subscriptions import service
from flexbill.plan_subscriptions.contract import ItemInput, NewPlanSubscription
from flexbill.plan_subscriptions.models import SubscriptionType, TrialUnit
from tests.plan_subscriptions.support import Price, get, in_transaction, invoices, plan, subscribe
from tests.subscriptions.support import events_of
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
TERMED = {"type": SubscriptionType.TERMED}


@pytest.mark.parametrize(
    ("fields", "code", "path"),
    [
        ({"customer_id": "cust_nobody"}, "CUSTOMER_NOT_FOUND", "customerId"),
        ({"price_ids": []}, "VALIDATION_ERROR", "items"),
        ({"price_ids": ["price_nothing"]}, "PLAN_PRICE_NOT_FOUND", "items.0.planPriceId"),
        ({"quantities": [0]}, "VALIDATION_ERROR", "items.0.quantity"),
        ({"initial_period": 3}, "VALIDATION_ERROR", "initialPeriod"),
        ({"auto_renew": True}, "VALIDATION_ERROR", "autoRenew"),
        (TERMED, "VALIDATION_ERROR", "initialPeriod"),
        ({**TERMED, "initial_period": 0}, "VALIDATION_ERROR", "initialPeriod"),
        ({**TERMED, "initial_period": 3}, "VALIDATION_ERROR", "initialPeriodUnit"),
        ({"trial_period": 14}, "VALIDATION_ERROR", "trialPeriodUnit"),
        ({"trial_period_unit": TrialUnit.DAYS}, "VALIDATION_ERROR", "trialPeriod"),
        ({"is_gift": True}, "VALIDATION_ERROR", "recipientId"),
        ({"is_gift": True, "recipient_id": "self"}, "VALIDATION_ERROR", "recipientId"),
        ({"is_gift": True, "recipient_id": "cust_nobody"}, "CUSTOMER_NOT_FOUND", "recipientId"),
        ({"recipient_id": "other"}, "VALIDATION_ERROR", "recipientId"),
    ],
)
async def test_what_a_new_subscription_may_not_be(
    api: Api, database: Database, tenant: Tenant, fields: dict[str, Any], code: str, path: str
) -> None:
    with clock.frozen(NOW):
        customer = (await api.create_customer())["customerId"]
        other = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Seat", unit_amount=D("9.00")))
        fields = {"customer_id": customer, "price_ids": prices, **fields}
        if fields.get("recipient_id") in ("self", "other"):
            fields["recipient_id"] = customer if fields["recipient_id"] == "self" else other
        with pytest.raises(FlexbillError) as refused:
            await subscribe(
                database, tenant, fields.pop("customer_id"), fields.pop("price_ids"), **fields
            )
    assert refused.value.code == code
    assert [detail.path for detail in refused.value.details] == [path]
    assert await invoices(database) == []


async def test_prices_that_cannot_be_sold_or_overridden(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(NOW):
        customer = (await api.create_customer())["customerId"]
        tiers = [(None, D("1.00"), D(0))]
        tiered, flat = await plan(
            database, tenant, Price("Tiered", ChargeModel.TIERED, tiers=tiers),
            Price("Flat", unit_amount=D("9.00")),
        )  # fmt: skip

        async def create(*items: ItemInput) -> None:
            new = NewPlanSubscription(customer, SubscriptionType.EVERGREEN, items)
            await in_transaction(
                database, tenant, lambda s, ctx: service.create(s, ctx, new, created_by="test")
            )

        with pytest.raises(FlexbillError) as refused:
            await create(ItemInput(flat), ItemInput(tiered, unit_amount_override=D("2")))
        assert [x.path for x in refused.value.details] == ["items.1.unitAmountOverride"]
        with pytest.raises(FlexbillError) as refused:
            await create(ItemInput(flat, unit_amount_override=D("-1")))
        assert [x.path for x in refused.value.details] == ["items.0.unitAmountOverride"]
        async with database.transaction() as session:
            await session.execute(update(Plan).values(status=PlanStatus.INACTIVE))
        with pytest.raises(FlexbillError) as refused:
            await create(ItemInput(flat))
        assert refused.value.code == "PLAN_NOT_AVAILABLE"


async def test_a_new_subscription_and_its_first_invoice(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Started on 1 March (in the past): every period since is billed at once, at the
    item's quantity and override; ``subscription.created`` lists the items."""
    with clock.frozen(NOW):
        customer = (await api.create_customer())["customerId"]
        other = (await api.create_customer())["customerId"]
        seats, support = await plan(
            database, tenant, Price("Seats", ChargeModel.PER_UNIT, D("12.50"), default_quantity=2),
            Price("Support", unit_amount=D("20.00"), period=1, unit=PeriodUnit.WEEK),
        )  # fmt: skip
        new = NewPlanSubscription(
            customer, SubscriptionType.TERMED,
            [ItemInput(seats, quantity=3), ItemInput(support, unit_amount_override=D("15.005"))],
            start_date=d("2026-03-01"), initial_period=1, initial_period_unit=PeriodUnit.YEAR,
            is_gift=True, recipient_id=other, name="Office", custom_fields={"team": "ops"},
        )  # fmt: skip
        view = await in_transaction(
            database, tenant, lambda s, ctx: service.create(s, ctx, new, created_by="api_key:k")
        )
    s = view.subscription
    assert (s.status, s.start_date, s.order_date, s.billing_anchor) == (
        "active", d("2026-03-01"), d("2026-03-10"), d("2026-03-01"),
    )  # fmt: skip
    assert (s.term_start, s.current_term_start, s.current_term_end) == (
        d("2026-03-01"), d("2026-03-01"), d("2027-03-01"),
    )  # fmt: skip
    assert (s.renewal_period, s.renewal_period_unit, s.billing_end_date) == (
        1, "year", d("2027-03-01"),
    )  # fmt: skip
    assert (s.is_gift, s.recipient_id, s.currency, s.created_by) == (
        True, other, "EUR", "api_key:k",
    )  # fmt: skip
    assert [(i.quantity, i.unit_amount_override, i.plan_price_version) for i in view.items] == [
        (3, None, 1), (1, D("15.005"), 1),
    ]  # fmt: skip
    assert [i.billed_through for i in view.items] == [d("2026-04-01"), d("2026-03-15")]
    assert s.next_bill_date == d("2026-03-15")
    assert [
        (invoice.key.partition(":")[2], invoice.total) for invoice in await invoices(database)
    ] == [
        ("2026-03-01", D("52.51")),  # 3 × 12.50 + 15.005 (rounded half up, once per line)
        ("2026-03-08", D("15.01")),
    ]
    created = (await events_of(database, "subscription.created"))[0]
    assert created.data["subscriptionId"] == s.id
    assert [(i["planPriceId"], i["quantity"]) for i in created.data["items"]] == [
        (seats, 3), (support, 1),
    ]  # fmt: skip


async def test_get_and_list_with_filters_and_pages(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(NOW):
        ada = (await api.create_customer())["customerId"]
        bob = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Seat", unit_amount=D("9.00")))
        made = [
            await subscribe(database, tenant, ada, prices),
            await subscribe(database, tenant, ada, prices, draft=True),
            await subscribe(
                database, tenant, bob, prices, type=SubscriptionType.TERMED,
                initial_period=1, initial_period_unit=PeriodUnit.MONTH,
            ),
        ]  # fmt: skip
        ids = [view.subscription.id for view in made]

        async def listed(
            filters: dict[str, str], page: PageRequest
        ) -> tuple[list[str], str | None]:
            found = await in_transaction(
                database, tenant, lambda s, ctx: service.list_subscriptions(s, ctx, filters, page)
            )
            assert all(len(view.items) == 1 for view in found.items)
            return [view.subscription.id for view in found.items], found.next_cursor

        assert (await listed({}, PageRequest()))[0] == ids[::-1]
        assert (await listed({"customerId": ada}, PageRequest()))[0] == ids[1::-1]
        assert (await listed({"status": "draft"}, PageRequest()))[0] == [ids[1]]
        assert (await listed({"type": "termed"}, PageRequest()))[0] == [ids[2]]
        first, cursor = await listed({}, PageRequest(limit=2, sort_dir="asc"))
        second, last = await listed({}, PageRequest(limit=2, sort_dir="asc", start_after=cursor))
        assert (first + second, last) == (ids, None)
        with pytest.raises(FlexbillError) as refused:
            await listed({"status": "asleep"}, PageRequest())
        assert [x.path for x in refused.value.details] == ["status"]
        got = await get(database, tenant, ids[0])
        assert got.items[0].id == made[0].items[0].id
        with pytest.raises(FlexbillError) as missing:
            await get(database, tenant, "psub_nothing")
        assert missing.value.code == "SUBSCRIPTION_NOT_FOUND"
