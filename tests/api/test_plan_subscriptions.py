"""``/v1/plan-subscriptions``: creating, reading and listing general subscriptions over
HTTP, as a client would; the errors in the /v1 envelope; tenants kept apart.

The helpers here (plans and prices through ``/v1/plans``, subscriptions, invoices, the
clock moved while the worker sweeps) serve the other tests of the face too: the
lifecycle, item changes and upcoming invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flexbill.billing import run
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.orders.support import exact
from tests.subscriptions.support import events_of
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

D = Decimal
SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)
MARCH_1 = datetime(2025, 3, 1, 9, tzinfo=UTC)

SUBSCRIPTION_FIELDS = {
    "id", "customerId", "name", "status", "type", "currency", "orderDate", "startDate",
    "termStart", "initialPeriod", "initialPeriodUnit", "renewalType", "renewalPeriod",
    "renewalPeriodUnit", "autoRenew", "currentTermStart", "currentTermEnd", "renewalCount",
    "trialPeriod", "trialPeriodUnit", "trialEnd", "isGift", "recipientId", "invoiceSeparately",
    "billingAnchor", "nextBillDate", "lastInvoicePeriodEnd", "billingEndDate",
    "scheduledChange", "suspendedAt", "resumedAt", "cancelledAt", "endedOn", "renewedAt",
    "totalCollected", "items", "pendingCharges", "customFields", "notes", "history",
    "createdAt", "updatedAt",
}  # fmt: skip
ITEM_FIELDS = {
    "id", "position", "planId", "productId", "planPriceId", "planPriceVersion", "quantity",
    "unitAmountOverride", "billedThrough", "startedOn", "endedOn",
}  # fmt: skip
PENDING_CHARGE_FIELDS = {
    "id", "itemId", "kind", "description", "amount", "periodStart", "periodEnd",
}  # fmt: skip


# ------------------------------------------------------------------ helpers


def per_unit(name: str, amount: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "chargeModel": "per_unit", "amounts": {"EUR": {"unitAmount": amount}},
            **fields}  # fmt: skip


def flat_fee(name: str, amount: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "chargeModel": "flat_fee", "amounts": {"EUR": {"unitAmount": amount}},
            **fields}  # fmt: skip


async def plan(api: Api, *prices: dict[str, Any], **fields: Any) -> list[str]:
    """A new plan with ``prices`` through ``/v1/plans`` and ``/v1/plan-prices``; the
    prices' ids."""
    response = await api.post("/v1/plans", {"name": "Team", **fields})
    assert response.status_code == 201, response.text
    plan_id = response.json()["plan"]["planId"]
    ids = []
    for price in prices:
        response = await api.post("/v1/plan-prices", {"planId": plan_id, **price})
        assert response.status_code == 201, response.text
        ids.append(response.json()["planPrice"]["id"])
    return ids


async def subscribe(
    api: Api, customer_id: str, items: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    """A subscription (evergreen unless told) created through the API."""
    body = {"customerId": customer_id, "type": "evergreen", "items": items, **fields}
    response = await api.post("/v1/plan-subscriptions", body)
    assert response.status_code == 201, response.text
    subscription: dict[str, Any] = exact(response)["subscription"]
    return subscription


async def read(api: Api, subscription_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/plan-subscriptions/{subscription_id}")
    assert response.status_code == 200, response.text
    subscription: dict[str, Any] = exact(response)["subscription"]
    return subscription


async def invoices_of(api: Api, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's invoices, oldest first, amounts as ``Decimal``."""
    response = await api.get("/v1/invoices", subscriptionId=subscription_id, sortDir="asc")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = exact(response)["invoices"]
    return found


def lines(invoice: dict[str, Any]) -> list[tuple[str, str, str | None, Decimal]]:
    """An invoice's lines as (kind, description, period start, net amount)."""
    return [
        (line["kind"], line["description"], line["periodStart"], line["amount"])
        for line in invoice["lines"]
    ]


async def travel(database: Database, until: datetime) -> None:
    """Move the clock a day at a time to ``until``, the worker sweeping at every stop."""
    worker = Worker(database, REGISTRY, schedule=SCHEDULE)
    await worker.run_until_idle()
    while clock.now() < until:
        clock.advance(min(timedelta(days=1), until - clock.now()))
        await worker.run_until_idle()


# ------------------------------------------------------------------ tests


async def test_create_answers_the_subscription_and_bills_its_first_period(
    api: Api, database: Database
) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        seats, support = await plan(api, per_unit("Seats", "10.00"), flat_fee("Support", "5.50"))
        body = {
            "customerId": customer["customerId"], "type": "evergreen", "name": "Acme team",
            "items": [
                {"planPriceId": seats, "quantity": 3, "unitAmountOverride": 9.125},
                {"planPriceId": support, "productId": "prod_support"},
            ],
            "customFields": {"crmId": "A-7"}, "notes": "Key account",
        }  # fmt: skip
        response = await api.post("/v1/plan-subscriptions", body)
    assert response.status_code == 201, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Subscription created successfully")
    created = answer["subscription"]
    assert set(created) == SUBSCRIPTION_FIELDS
    assert created["id"].startswith("psub_")
    assert (created["status"], created["type"], created["currency"], created["name"]) == (
        "active", "evergreen", "EUR", "Acme team",
    )  # fmt: skip
    assert (created["startDate"], created["orderDate"], created["billingAnchor"]) == (
        "2025-03-01", "2025-03-01", "2025-03-01",
    )  # fmt: skip
    assert (created["nextBillDate"], created["lastInvoicePeriodEnd"]) == ("2025-04-01",) * 2
    assert (created["scheduledChange"], created["pendingCharges"]) == (None, [])
    assert (created["totalCollected"], created["customFields"], created["notes"]) == (
        D("0.00"), {"crmId": "A-7"}, "Key account",
    )  # fmt: skip
    first, second = created["items"]
    assert set(first) == ITEM_FIELDS
    assert (first["position"], first["planPriceId"], first["planPriceVersion"]) == (1, seats, 1)
    assert (first["quantity"], first["unitAmountOverride"]) == (3, D("9.125"))
    assert (second["quantity"], second["unitAmountOverride"], second["productId"]) == (
        1, None, "prod_support",
    )  # fmt: skip
    assert {(i["startedOn"], i["billedThrough"], i["endedOn"]) for i in created["items"]} == {
        ("2025-03-01", "2025-04-01", None)
    }
    assert [entry["action"] for entry in created["history"]] == ["created"]
    assert await read(api, created["id"]) == created
    (invoice,) = await invoices_of(api, created["id"])
    # 3 × 9.125 = 27.375 → 27.38, rounded once; the flat fee whatever the quantity.
    assert lines(invoice) == [
        ("plan", "Seats × 3, 2025-03-01 to 2025-03-31", "2025-03-01", D("27.38")),
        ("plan", "Support, 2025-03-01 to 2025-03-31", "2025-03-01", D("5.50")),
    ]
    assert invoice["total"] == D("32.88")
    (event,) = await events_of(database, "subscription.created")
    assert (event.data["subscriptionId"], event.data["customerId"]) == (
        created["id"], customer["customerId"],
    )  # fmt: skip


async def test_list_filters_and_pages(api: Api) -> None:
    with clock.frozen(MARCH_1):
        ada, bob = await api.create_customer(), await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        item = [{"planPriceId": seats}]
        oldest = await subscribe(api, ada["customerId"], item)
        termed = await subscribe(
            api, ada["customerId"], item, type="termed", initialPeriod=12,
            initialPeriodUnit="month",
        )  # fmt: skip
        drafted = await subscribe(api, bob["customerId"], item, draft=True)

        async def ids(**params: Any) -> list[str]:
            response = await api.get("/v1/plan-subscriptions", **params)
            assert response.status_code == 200, response.text
            return [s["id"] for s in response.json()["subscriptions"]]

        assert await ids() == [drafted["id"], termed["id"], oldest["id"]]
        assert await ids(customerId=ada["customerId"], sortDir="asc") == [
            oldest["id"], termed["id"],
        ]  # fmt: skip
        assert await ids(status="draft") == [drafted["id"]]
        assert await ids(type="termed") == [termed["id"]]
        first = await api.get("/v1/plan-subscriptions", limit=2)
        page = first.json()
        assert (page["count"], page["limit"], page["hasMore"]) == (2, 2, True)
        rest = await api.get("/v1/plan-subscriptions", limit=2, startAfter=page["nextCursor"])
        assert [s["id"] for s in rest.json()["subscriptions"]] == [oldest["id"]]
        assert (rest.json()["hasMore"], rest.json()["nextCursor"]) == (False, None)
        response = await api.get("/v1/plan-subscriptions", status="asleep")
        assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
        assert response.json()["error"]["details"][0]["path"] == "status"
        assert len(await ids(colour="red")) == 3  # unknown parameters are ignored


async def test_what_create_refuses(api: Api) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        seats, tiered = await plan(
            api, per_unit("Seats", "10.00"),
            {"name": "Calls", "chargeModel": "tiered",
             "amounts": {"EUR": {"tiers": [{"upTo": None, "unitAmount": "0.01"}]}}},
        )  # fmt: skip
        (retired,) = await plan(api, per_unit("Old seats", "8.00"), status="inactive")
        (dollars,) = await plan(
            api, {"name": "US seats", "chargeModel": "per_unit",
                  "amounts": {"USD": {"unitAmount": "12.00"}}},
        )  # fmt: skip
        ok = {"customerId": customer["customerId"], "type": "evergreen",
              "items": [{"planPriceId": seats}]}  # fmt: skip
        cases: list[tuple[dict[str, Any], int, str, str | None]] = [
            ({"type": "evergreen", "items": []}, 400, "VALIDATION_ERROR", "customerId"),
            ({**ok, "type": "forever"}, 400, "VALIDATION_ERROR", "type"),
            ({**ok, "items": []}, 400, "VALIDATION_ERROR", "items"),
            ({**ok, "items": [{"planPriceId": seats, "quantity": 0}]}, 400, "VALIDATION_ERROR",
             "items.0.quantity"),
            ({**ok, "items": [{"planPriceId": seats, "unitAmountOverride": "1.0000001"}]}, 400,
             "VALIDATION_ERROR", "items.0.unitAmountOverride"),
            ({**ok, "items": [{"planPriceId": tiered, "unitAmountOverride": 1}]}, 400,
             "VALIDATION_ERROR", "items.0.unitAmountOverride"),
            ({**ok, "initialPeriodUnit": "fortnight"}, 400, "VALIDATION_ERROR",
             "initialPeriodUnit"),
            ({**ok, "type": "termed"}, 400, "VALIDATION_ERROR", "initialPeriod"),
            ({**ok, "startDate": "2025-02-30"}, 400, "VALIDATION_ERROR", "startDate"),
            ({**ok, "customerId": "cust_missing"}, 404, "CUSTOMER_NOT_FOUND", None),
            ({**ok, "items": [{"planPriceId": "price_missing"}]}, 404, "PLAN_PRICE_NOT_FOUND",
             None),
            ({**ok, "items": [{"planPriceId": retired}]}, 422, "PLAN_NOT_AVAILABLE", None),
            ({**ok, "items": [{"planPriceId": dollars}]}, 422, "PRICE_CURRENCY_MISSING", None),
        ]  # fmt: skip
        for body, status, code, path in cases:
            response = await api.post("/v1/plan-subscriptions", body)
            assert (response.status_code, error_code(response)) == (status, code), body
            if path is not None:
                paths = [d["path"] for d in response.json()["error"]["details"]]
                assert path in paths, (body, paths)
        listed = await api.get("/v1/plan-subscriptions")
        assert listed.json()["subscriptions"] == []


async def test_another_tenants_subscription_is_not_found(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        mine = await subscribe(api, customer["customerId"], [{"planPriceId": seats}])
        other = await new_tenant(database)
        stranger = Api(api.client, key=other.live_key, tenant_id=other.id)
        path = f"/v1/plan-subscriptions/{mine['id']}"
        attempts = [
            await stranger.get(path),
            await stranger.post(f"{path}/suspend", {"option": "today"}),
            await stranger.post(f"{path}/cancel", {"option": "today"}),
            await stranger.post(f"{path}/activate", {}),
            await stranger.delete(f"{path}/scheduled-change"),
            await stranger.patch(f"{path}/items/{mine['items'][0]['id']}", {"quantity": 2}),
            await stranger.get(f"/v1/subscriptions/{mine['id']}/upcoming-invoice"),
        ]
        for response in attempts:
            assert (response.status_code, error_code(response)) == (404, "SUBSCRIPTION_NOT_FOUND")
        assert (await stranger.get("/v1/plan-subscriptions")).json()["subscriptions"] == []
        # The test environment of the same business unit is another tenant too.
        test_api = api.with_key(tenant.test_key)
        assert (await test_api.get(path)).status_code == 404
        assert (await read(api, mine["id"]))["items"][0]["quantity"] == 1


async def test_reading_and_writing_need_their_permissions(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        mine = await subscribe(api, customer["customerId"], [{"planPriceId": seats}])
        reader = api.with_key(await issue_key(database, tenant, permissions=["subscriptions:read"]))
        assert (await reader.get(f"/v1/plan-subscriptions/{mine['id']}")).status_code == 200
        body = {"customerId": customer["customerId"], "type": "evergreen",
                "items": [{"planPriceId": seats}]}  # fmt: skip
        refused = [
            await reader.post("/v1/plan-subscriptions", body),
            await reader.post(f"/v1/plan-subscriptions/{mine['id']}/cancel", {"option": "today"}),
        ]
        for response in refused:
            assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
        outsider = api.with_key(await issue_key(database, tenant, permissions=["plans:read"]))
        response = await outsider.get("/v1/plan-subscriptions")
        assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    assert (await read(api, mine["id"]))["status"] == "active"
    assert date.fromisoformat(mine["startDate"]) == MARCH_1.date()
