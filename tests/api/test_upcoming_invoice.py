"""``GET /v1/subscriptions/{id}/upcoming-invoice``: what the next invoice will hold, for a
rental and for a general subscription, checked against the invoice the billing run then
writes, to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flexbill.billing import run
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.api.test_plan_subscriptions import per_unit, plan
from tests.api.test_plan_subscriptions import subscribe as subscribe_plan
from tests.billing.run_support import rent
from tests.orders.support import exact
from tests.subscriptions.support import confirmed_order, register, subscribe
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

D = Decimal
SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)
UPCOMING_FIELDS = {
    "subscriptionId", "customerId", "currency", "billDate", "periodStart", "periodEnd",
    "lines", "subtotal", "taxAmount", "total", "creditAvailable", "amountDue",
}  # fmt: skip
LINE_FIELDS = {
    "kind", "description", "itemId", "planPriceId", "planPriceVersion", "quantity",
    "usageQuantity", "periodStart", "periodEnd", "amount", "taxAmount", "total", "tiers",
}  # fmt: skip
VAT_19 = {"vat": {"enabled": True, "rate": 19, "mode": "exclusive"}}

Line = tuple[str, str, str | None, str | None, Decimal, Decimal, Decimal]
"""A line as both bodies show it: kind, description, period, net, VAT, total."""


async def travel(database: Database, until: datetime) -> None:
    """Move the clock a day at a time to ``until``, the worker sweeping at every stop."""
    worker = Worker(database, REGISTRY, schedule=SCHEDULE)
    await worker.run_until_idle()
    while clock.now() < until:
        clock.advance(min(timedelta(days=1), until - clock.now()))
        await worker.run_until_idle()


async def upcoming(api: Api, subscription_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/subscriptions/{subscription_id}/upcoming-invoice")
    assert response.status_code == 200, response.text
    body = exact(response)
    assert set(body) == {"success", "upcomingInvoice"}
    found: dict[str, Any] = body["upcomingInvoice"]
    assert set(found) == UPCOMING_FIELDS
    assert all(set(line) == LINE_FIELDS for line in found["lines"])
    return found


async def invoices(api: Api, **filters: str) -> list[dict[str, Any]]:
    """The invoices that match ``filters``, oldest first."""
    response = await api.get("/v1/invoices", sortDir="asc", **filters)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = exact(response)["invoices"]
    return found


def lines_of(body: dict[str, Any], subscription_id: str | None = None) -> list[Line]:
    return [
        (
            line["kind"], line["description"], line["periodStart"], line["periodEnd"],
            line["amount"], line["taxAmount"], line["total"],
        )
        for line in body["lines"]
        if subscription_id is None or line["subscriptionId"] == subscription_id
    ]  # fmt: skip


def totals_of(body: dict[str, Any]) -> tuple[str, str, Decimal, Decimal, Decimal]:
    return (body["periodStart"], body["periodEnd"], body["subtotal"], body["taxAmount"],
            body["total"])  # fmt: skip


async def test_a_rentals_next_invoice_is_the_one_the_run_writes(
    api: Api, database: Database
) -> None:
    """Billed on the 1st, the first period prorated (22 of March's 31 days) with the setup
    fee, 19 % VAT on top; then whole months."""
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        response = await api.patch(
            "/v1/settings",
            {
                "billingCycle": {"type": "fixed_day", "dayOfMonth": 1},
                "firstPayment": "prorated", "paymentTerms": "net_14", **VAT_19,
            },
        )  # fmt: skip
        assert response.status_code == 200, response.text
        laptop = await rent(api, "SN-1")
        rental_id = laptop["rentalId"]
        first = await upcoming(api, rental_id)
        await travel(database, datetime(2025, 3, 10, 10, tzinfo=UTC))
        second = await upcoming(api, rental_id)
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    written = await invoices(api, subscriptionId=rental_id)
    assert len(written) == 2
    assert (first["subscriptionId"], first["customerId"], first["currency"]) == (
        rental_id, laptop["customerId"], "EUR",
    )  # fmt: skip
    assert (first["billDate"], second["billDate"]) == ("2025-03-10", "2025-04-01")
    # 22/31 of 59.99 = 42.57 and the 25.00 setup fee; 19 % VAT once on 67.57 = 12.84.
    assert totals_of(first) == ("2025-03-10", "2025-04-01", D("67.57"), D("12.84"), D("80.41"))
    assert lines_of(first) == [
        ("proration", "Laptop Pro 16 – Space grey, grade A (SN-1), 2025-03-10 to 2025-03-31",
         "2025-03-10", "2025-04-01", D("42.57"), D("8.09"), D("50.66")),
        ("setup_fee", "Setup fee – Laptop Pro 16 – Space grey, grade A (SN-1)", "2025-03-10",
         "2025-04-01", D("25.00"), D("4.75"), D("29.75")),
    ]  # fmt: skip
    assert (first["creditAvailable"], first["amountDue"]) == (D("0.00"), D("80.41"))
    assert {
        (line["itemId"], line["planPriceId"], line["quantity"], line["tiers"])
        for line in first["lines"]
    } == {(None, None, 1, None)}
    assert totals_of(second) == ("2025-04-01", "2025-05-01", D("59.99"), D("11.40"), D("71.39"))
    for announced, invoice in zip((first, second), written, strict=True):
        assert totals_of(announced) == totals_of(invoice)
        assert lines_of(announced) == lines_of(invoice, rental_id)


async def test_a_group_member_answers_its_share_of_the_groups_invoice(
    api: Api, database: Database
) -> None:
    """Two laptops billed together on the 15th with 19 % VAT: each member's share of the
    first group invoice covers its days from the 10th and its setup fee; the tax of the
    group's invoice, shared out over its lines, is the tax the member's lines announced."""
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        assert (await api.patch("/v1/settings", VAT_19)).status_code == 200
        order = await confirmed_order(api)  # two laptops for 12 months
        await register(api, "SN-1")
        await register(api, "SN-2")
        first = await subscribe(api, order, "SN-1")
        second = await subscribe(api, order, "SN-2")
        response = await api.post(
            "/v1/billing-groups",
            {
                "customerId": first["customerId"], "groupName": "Office", "billingDay": 15,
                "rentalIds": [first["rentalId"], second["rentalId"]],
            },
        )  # fmt: skip
        assert response.status_code == 201, response.text
        group_id = response.json()["billingGroup"]["billingGroupId"]
        announced = [await upcoming(api, member["rentalId"]) for member in (first, second)]
        await travel(database, datetime(2025, 3, 15, 10, tzinfo=UTC))
        following = await upcoming(api, first["rentalId"])
    (invoice,) = await invoices(api, billingGroupId=group_id)
    for member, share in zip((first, second), announced, strict=True):
        assert (share["billDate"], share["periodStart"], share["periodEnd"]) == (
            "2025-03-15", "2025-03-15", "2025-04-15",
        )  # fmt: skip
        assert lines_of(share) == lines_of(invoice, member["rentalId"])
    # 59.99 × (5/28 + 1) = 70.70 and 25.00 each; VAT once on 191.40 = 36.37, shared out
    # by largest remainders: 13.434… gets the cent left over.
    assert [(line[0], line[4], line[5]) for line in lines_of(announced[0])] == [
        ("proration", D("70.70"), D("13.44")), ("setup_fee", D("25.00"), D("4.75")),
    ]  # fmt: skip
    assert [(share["subtotal"], share["taxAmount"]) for share in announced] == [
        (D("95.70"), D("18.19")), (D("95.70"), D("18.18")),
    ]  # fmt: skip
    assert invoice["taxAmount"] == D("36.37") == sum(share["taxAmount"] for share in announced)
    assert (following["periodStart"], following["total"]) == ("2025-04-15", D("71.39"))


async def test_nothing_more_to_bill_and_other_tenants_rentals(api: Api, database: Database) -> None:
    """A six-month contract past its end waiting for someone to extend it has no next
    invoice; a rental of another tenant, or no subscription at all, is not found."""
    with clock.frozen(datetime(2025, 7, 8, 9, tzinfo=UTC)):
        assert (await api.patch("/v1/settings", {"contractEnd": "require_action"})).is_success
        laptop = await rent(api, "SN-1", months=6, startDate="2025-01-10")
        await travel(database, datetime(2025, 7, 10, 10, tzinfo=UTC))
    response = await api.get(f"/v1/subscriptions/{laptop['rentalId']}/upcoming-invoice")
    assert (response.status_code, error_code(response)) == (404, "NO_UPCOMING_INVOICE")
    assert response.json()["error"]["message"] == (
        f"Nothing more will be billed for subscription '{laptop['rentalId']}'"
    )
    other = await new_tenant(database)
    stranger = Api(api.client, key=other.live_key, tenant_id=other.id)
    for subscription_id in (laptop["rentalId"], "sub_missing", "psub_missing"):
        response = await stranger.get(f"/v1/subscriptions/{subscription_id}/upcoming-invoice")
        assert (response.status_code, error_code(response)) == (404, "SUBSCRIPTION_NOT_FOUND")


async def test_reading_it_needs_the_subscriptions_read_permission(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        laptop = await rent(api, "SN-1")
        key = await issue_key(database, tenant, permissions=["customers:read"])
        path = f"/v1/subscriptions/{laptop['rentalId']}/upcoming-invoice"
        response = await api.with_key(key).get(path)
        assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
        reader = await issue_key(database, tenant, permissions=["subscriptions:read"])
        assert (await api.with_key(reader).get(path)).status_code == 200


async def test_a_plan_subscriptions_next_invoice_is_the_one_the_run_writes(
    api: Api, database: Database
) -> None:
    """Seats billed in advance, calls rated in arrears from tiered usage, a mid-period
    change waiting as pending charges, 19 % VAT: the invoice of 1 April, announced on
    11 March, is written as announced."""
    with clock.frozen(datetime(2025, 3, 1, 9, tzinfo=UTC)):
        assert (await api.patch("/v1/settings", VAT_19)).status_code == 200
        customer = await api.create_customer()
        tiers = [
            {"upTo": 1000, "unitAmount": "0.01"},
            {"upTo": None, "unitAmount": "0.005", "flatAmount": "1.00"},
        ]
        seats, calls = await plan(
            api, per_unit("Seats", "10.00"),
            {"name": "Calls", "chargeModel": "tiered", "billingTiming": "in_arrears",
             "uom": "calls", "amounts": {"EUR": {"tiers": tiers}}},
        )  # fmt: skip
        subscription = await subscribe_plan(
            api, customer["customerId"],
            [{"planPriceId": seats, "quantity": 3}, {"planPriceId": calls}],
        )  # fmt: skip
        sid = subscription["id"]
        seat_item, call_item = (item["id"] for item in subscription["items"])
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        usage = {"subscriptionId": sid, "itemId": call_item, "quantity": 1500,
                 "startDate": "2025-03-05", "endDate": "2025-03-05"}  # fmt: skip
        assert (await api.post("/v1/usage", usage)).status_code == 201
        changed = await api.patch(
            f"/v1/plan-subscriptions/{sid}/items/{seat_item}", {"quantity": 4}
        )
        assert changed.status_code == 200, changed.text
        announced = await upcoming(api, sid)
        await travel(database, datetime(2025, 4, 1, 10, tzinfo=UTC))
    written = (await invoices(api, subscriptionId=sid))[-1]
    assert (announced["billDate"], announced["customerId"]) == (
        "2025-04-01",
        customer["customerId"],
    )
    assert totals_of(announced) == totals_of(written)
    assert lines_of(announced) == lines_of(written)
    by_kind = {line["kind"]: line for line in announced["lines"]}
    assert set(by_kind) == {"usage", "plan", "proration_credit", "proration_charge"}
    # 1,000 calls at 0.01 and 500 at 0.005 plus the second tier's 1.00: 13.50.
    usage_line = by_kind["usage"]
    assert (usage_line["itemId"], usage_line["usageQuantity"], usage_line["amount"]) == (
        call_item, D("1500"), D("13.50"),
    )  # fmt: skip
    assert [(t["tier"], t["quantity"], t["amount"]) for t in usage_line["tiers"]] == [
        (1, D("1000"), D("10")), (2, D("500"), D("3.5")),
    ]  # fmt: skip
    assert (by_kind["plan"]["quantity"], by_kind["plan"]["amount"]) == (4, D("40.00"))
    assert (by_kind["plan"]["planPriceId"], by_kind["plan"]["planPriceVersion"]) == (seats, 1)
    # 30.00 × 21/31 = 20.32 back, 40.00 × 21/31 = 27.10 charged.
    assert (by_kind["proration_credit"]["amount"], by_kind["proration_charge"]["amount"]) == (
        D("-20.32"), D("27.10"),
    )  # fmt: skip
    net = D("13.50") + D("40.00") - D("20.32") + D("27.10")
    assert (announced["subtotal"], announced["taxAmount"]) == (net, D("11.45"))  # 19 % of 60.28
    assert announced["amountDue"] == announced["total"] == D("71.73")
