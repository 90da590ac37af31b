"""``/v1/plan-prices``: the prices of plans, their amounts per currency and their
versions, as a client creates, reads, changes and deletes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from flexbill.billing.models import Invoice, InvoiceLine, LineKind
from flexbill.catalog.plan_models import ChargeModel
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.tenancy.service import environment_context
from tests.plan_support import PriceSpec, plan_subscription
from tests.support import Api, Tenant, error_code, new_tenant

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
D = Decimal
TIERS = [
    {"upTo": 100, "unitAmount": "0.10", "flatAmount": "0"},
    {"upTo": "1000", "unitAmount": 0.08},
    {"upTo": None, "unitAmount": "0.0525", "flatAmount": 2},
]


@pytest.fixture
async def plan_id(api: Api) -> str:
    response = await api.post("/v1/plans", {"name": "Pro"})
    assert response.status_code == 201, response.text
    created: str = response.json()["plan"]["planId"]
    return created


def flat_fee(plan_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "planId": plan_id, "name": "Monthly fee", "chargeModel": "flat_fee",
        "amounts": {"EUR": {"unitAmount": "9.99"}},
    }  # fmt: skip
    return {**body, **overrides}


def tiered(plan_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "planId": plan_id, "name": "Data", "chargeModel": "tiered",
        "billingTiming": "in_arrears", "uom": "GB", "amounts": {"EUR": {"tiers": TIERS}},
    }  # fmt: skip
    return {**body, **overrides}


async def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/plan-prices", body)
    assert response.status_code == 201, response.text
    price: dict[str, Any] = response.json(parse_float=D)["planPrice"]
    return price


def details(response: httpx.Response) -> list[tuple[str, str]]:
    return [(d["path"], d["code"]) for d in response.json()["error"]["details"]]


async def bill(database: Database, tenant: Tenant, api: Api, price: dict[str, Any]) -> None:
    """An invoice line naming the price's version, as the billing run writes one."""
    customer = await api.create_customer()
    async with database.transaction() as session:
        ctx = await environment_context(session, tenant.id, "live")
        invoice_id = new_id("inv")
        session.add(
            Invoice(
                tenant_id=ctx.tenant_id, id=invoice_id, number=new_id("n"),
                billing_key=new_id("key"), customer_id=customer["customerId"],
                period_start=date(2025, 3, 1), period_end=date(2025, 4, 1),
                vat_rate=D(0), vat_mode="exclusive", subtotal=999, tax_amount=0, total=999,
                due_date=date(2025, 3, 1),
            )
        )  # fmt: skip
        await session.flush()
        session.add(
            InvoiceLine(
                tenant_id=ctx.tenant_id, invoice_id=invoice_id, position=1, kind=LineKind.PLAN,
                description="Monthly fee", unit_amount=999, amount=999, tax_amount=0,
                total=999, plan_price_id=price["id"], plan_price_version=price["version"],
            )
        )  # fmt: skip


async def test_create_answers_every_field(api: Api, plan_id: str) -> None:
    with clock.frozen(T0):
        response = await api.post(
            "/v1/plan-prices",
            flat_fee(
                plan_id, description="Base fee", billingPeriod=3, billingPeriodUnit="week",
                includedUnits="2.50", defaultQuantity=2, uom="seat", listPriceBase="per_month",
                triggerCondition="on_activation", endDate="2026-01-01",
                billingPeriodAlignment="align", usageRecordsRatingOption="sum",
                accountingAccountCode="4000", billingMonth=12, billingDayType=1,
                billingWeekDay=3, amounts={"EUR": {"unitAmount": 9.9}, "USD": {"unitAmount": 11}},
            ),
        )  # fmt: skip
    assert response.status_code == 201, response.text
    answer = response.json(parse_float=D)
    assert (answer["success"], answer["message"]) == (True, "Plan price created successfully")
    price = answer["planPrice"]
    assert price["id"].startswith("price_")
    assert price == {
        "id": price["id"], "version": 1, "planId": plan_id, "name": "Monthly fee",
        "description": "Base fee", "status": "active", "category": "recurring",
        "chargeModel": "flat_fee", "billingTiming": "in_advance", "billingPeriod": 3,
        "billingPeriodUnit": "week",
        "amounts": {"EUR": {"unitAmount": D("9.90")}, "USD": {"unitAmount": D("11.00")}},
        "includedUnits": D("2.5"), "defaultQuantity": 2, "uom": "seat",
        "listPriceBase": "per_month", "triggerCondition": "on_activation",
        "endDate": "2026-01-01", "billingPeriodAlignment": "align",
        "usageRecordsRatingOption": "sum", "accountingAccountCode": "4000", "billingMonth": 12,
        "billingDayType": 1, "billingWeekDay": 3, "supersededAt": None,
        "createdAt": "2025-03-01T09:30:00Z", "updatedAt": "2025-03-01T09:30:00Z",
    }  # fmt: skip
    assert b'"unitAmount":9.90' in response.content  # a JSON number, digit for digit
    fetched = await api.get(f"/v1/plan-prices/{price['id']}")
    assert fetched.json(parse_float=D) == {"success": True, "planPrice": price}


async def test_defaults(api: Api, plan_id: str) -> None:
    price = await create(api, flat_fee(plan_id))
    assert {k: price[k] for k in (
        "status", "category", "billingTiming", "billingPeriod", "billingPeriodUnit",
        "includedUnits", "defaultQuantity", "uom", "endDate", "billingMonth",
    )} == {
        "status": "active", "category": "recurring", "billingTiming": "in_advance",
        "billingPeriod": 1, "billingPeriodUnit": "month", "includedUnits": 0,
        "defaultQuantity": 1, "uom": None, "endDate": None, "billingMonth": None,
    }  # fmt: skip


async def test_tier_tables_come_back_in_the_shape_sent(api: Api, plan_id: str) -> None:
    response = await api.post("/v1/plan-prices", tiered(plan_id))
    assert response.status_code == 201, response.text
    price = response.json(parse_float=D)["planPrice"]
    assert (price["chargeModel"], price["billingTiming"], price["uom"]) == (
        "tiered", "in_arrears", "GB",
    )  # fmt: skip
    assert price["amounts"] == {
        "EUR": {
            "tiers": [
                {"upTo": 100, "unitAmount": D("0.10"), "flatAmount": D("0.00")},
                {"upTo": 1000, "unitAmount": D("0.08"), "flatAmount": D("0.00")},
                {"upTo": None, "unitAmount": D("0.0525"), "flatAmount": D("2.00")},
            ]
        }
    }
    assert b'"unitAmount":0.0525' in response.content


async def test_fractional_tier_limits_and_currencies_with_other_decimals(
    api: Api, plan_id: str
) -> None:
    amounts = {
        "JPY": {"tiers": [{"upTo": "2.5", "unitAmount": 120}, {"upTo": None, "unitAmount": 100}]},
        "KWD": {"tiers": [{"upTo": 2.5, "unitAmount": "0.0005", "flatAmount": "1.5"},
                          {"upTo": None, "unitAmount": "0.0004"}]},
    }  # fmt: skip
    price = await create(api, tiered(plan_id, chargeModel="volume", amounts=amounts))
    assert price["amounts"] == {
        "JPY": {"tiers": [{"upTo": D("2.5"), "unitAmount": 120, "flatAmount": 0},
                          {"upTo": None, "unitAmount": 100, "flatAmount": 0}]},
        "KWD": {"tiers": [{"upTo": D("2.5"), "unitAmount": D("0.0005"), "flatAmount": D("1.500")},
                          {"upTo": None, "unitAmount": D("0.0004"), "flatAmount": D("0.000")}]},
    }  # fmt: skip


INVALID: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("lower-case currency", {"amounts": {"eur": {"unitAmount": 1}}},
     [("amounts.eur", "invalid_string")]),
    ("no currency", {"amounts": {}}, [("amounts", "too_small")]),
    ("no amount", {"amounts": {"EUR": {}}}, [("amounts.EUR.unitAmount", "invalid_type")]),
    ("tiers on a flat fee", {"amounts": {"EUR": {"unitAmount": 1, "tiers": TIERS}}},
     [("amounts.EUR.tiers", "invalid")]),
    ("more decimals than a unit price takes", {"chargeModel": "per_unit",
     "amounts": {"EUR": {"unitAmount": "0.0000001"}}},
     [("amounts.EUR.unitAmount", "not_multiple_of")]),
    ("a flat fee with sub-cent digits", {"amounts": {"EUR": {"unitAmount": "9.999"}}},
     [("amounts.EUR.unitAmount", "not_multiple_of")]),
    ("a negative amount", {"amounts": {"EUR": {"unitAmount": "-1"}}},
     [("amounts.EUR.unitAmount", "invalid")]),
    ("not a number", {"amounts": {"EUR": {"unitAmount": "ten"}}},
     [("amounts.EUR.unitAmount", "invalid_type")]),
    ("one_time in arrears", {"category": "one_time", "billingTiming": "in_arrears"},
     [("billingTiming", "invalid_enum_value")]),
    ("unknown charge model", {"chargeModel": "stairs"}, [("chargeModel", "invalid_enum_value")]),
    ("unknown period unit", {"billingPeriodUnit": "hour"},
     [("billingPeriodUnit", "invalid_enum_value")]),
    ("period zero", {"billingPeriod": 0}, [("billingPeriod", "too_small")]),
    ("negative included units", {"includedUnits": -1}, [("includedUnits", "too_small")]),
    ("included units too precise", {"includedUnits": "0.0000001"},
     [("includedUnits", "not_multiple_of")]),
    ("quantity zero", {"defaultQuantity": 0}, [("defaultQuantity", "too_small")]),
    ("billing month 13", {"billingMonth": 13}, [("billingMonth", "too_big")]),
    ("no plan", {"planId": None}, [("planId", "invalid_type")]),
]  # fmt: skip

INVALID_TIERS: list[tuple[str, list[dict[str, Any]], list[tuple[str, str]]]] = [
    ("no tiers", [], [("amounts.EUR.tiers", "invalid")]),
    ("tiers not rising", [{"upTo": 100}, {"upTo": 100}, {"upTo": None}],
     [("amounts.EUR.tiers.1.upTo", "invalid")]),
    ("last tier bounded", [{"upTo": 100}, {"upTo": 200}],
     [("amounts.EUR.tiers.1.upTo", "invalid")]),
    ("unbounded tier in the middle", [{"upTo": None}, {"upTo": None}],
     [("amounts.EUR.tiers.0.upTo", "invalid")]),
    ("flat amount with sub-cent digits", [{"upTo": 5, "flatAmount": "0.001"}, {"upTo": None}],
     [("amounts.EUR.tiers.0.flatAmount", "not_multiple_of")]),
    ("negative tier price", [{"upTo": 5, "unitAmount": -1}, {"upTo": None}],
     [("amounts.EUR.tiers.0.unitAmount", "invalid")]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "expected"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_prices_are_refused_and_nothing_is_written(
    api: Api, plan_id: str, case: str, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = await api.post("/v1/plan-prices", flat_fee(plan_id, **change))
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert details(response) == expected
    assert (await api.get("/v1/plan-prices")).json()["count"] == 0


@pytest.mark.parametrize(
    ("case", "table", "expected"), INVALID_TIERS, ids=[c[0] for c in INVALID_TIERS]
)
async def test_a_bad_tier_table_creates_nothing(
    api: Api, plan_id: str, case: str, table: list[dict[str, Any]],
    expected: list[tuple[str, str]],
) -> None:  # fmt: skip
    response = await api.post("/v1/plan-prices", tiered(plan_id, amounts={"EUR": {"tiers": table}}))
    assert response.status_code == 400, response.text
    assert details(response) == expected
    assert (await api.get("/v1/plan-prices")).json()["count"] == 0
    assert (await api.get(f"/v1/plans/{plan_id}")).json()["plan"]["prices"] == []


async def test_every_problem_of_every_currency_is_reported_at_once(api: Api, plan_id: str) -> None:
    amounts = {
        "EUR": {"unitAmount": 1, "tiers": [{"upTo": 5}, {"upTo": 4}, {"upTo": None}]},
        "USD": {"tiers": [{"upTo": 10}]},
        "usd": {"tiers": [{"upTo": None}]},
    }
    response = await api.post("/v1/plan-prices", tiered(plan_id, amounts=amounts))
    assert response.status_code == 400
    assert details(response) == [
        ("amounts.EUR.unitAmount", "unrecognized_keys"),
        ("amounts.USD.tiers.0.upTo", "invalid"),
        ("amounts.usd", "invalid_string"),
    ]


async def test_an_unknown_plan_is_named(api: Api) -> None:
    response = await api.post("/v1/plan-prices", flat_fee("plan_nope"))
    assert (response.status_code, error_code(response)) == (404, "PLAN_NOT_FOUND")
    assert details(response) == [("planId", "not_found")]


async def test_list_shows_current_versions_filtered_and_paged(
    api: Api, plan_id: str, database: Database, tenant: Tenant
) -> None:
    other_plan = (await api.post("/v1/plans", {"name": "Other"})).json()["plan"]["planId"]
    with clock.frozen(T0):
        fee = await create(api, flat_fee(plan_id))
        clock.advance(timedelta(seconds=1))
        data = await create(api, tiered(plan_id))
        clock.advance(timedelta(seconds=1))
        seats = await create(api, flat_fee(other_plan, chargeModel="per_unit", status="inactive"))

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/v1/plan-prices", **params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["planPrices"]]

    assert await ids() == [seats["id"], data["id"], fee["id"]]
    assert await ids(sortDir="asc") == [fee["id"], data["id"], seats["id"]]
    assert await ids(planId=plan_id) == [data["id"], fee["id"]]
    assert await ids(status="inactive") == [seats["id"]]
    assert await ids(chargeModel="tiered") == [data["id"]]
    assert await ids(billingTiming="in_advance") == [seats["id"], fee["id"]]
    first = (await api.get("/v1/plan-prices", limit=2)).json()
    assert (first["count"], first["hasMore"]) == (2, True)
    rest = (await api.get("/v1/plan-prices", limit=2, startAfter=first["nextCursor"])).json()
    assert ([p["id"] for p in rest["planPrices"]], rest["nextCursor"]) == ([fee["id"]], None)
    for params in ({"chargeModel": "stairs"}, {"billingTiming": "later"}, {"sortBy": "name"}):
        response = await api.get("/v1/plan-prices", **params)
        assert response.status_code == 400, params

    await bill(database, tenant, api, fee)
    with clock.frozen(T0 + timedelta(days=1)):
        await api.patch(f"/v1/plan-prices/{fee['id']}", {"name": "Renamed"})
    listed = (await api.get("/v1/plan-prices", planId=plan_id)).json()["planPrices"]
    assert [(p["id"], p["version"]) for p in listed] == [(fee["id"], 2), (data["id"], 1)]


async def test_an_unbilled_price_changes_in_place(api: Api, plan_id: str) -> None:
    with clock.frozen(T0):
        price = await create(api, flat_fee(plan_id, uom="seat"))
        clock.advance(timedelta(hours=1))
        response = await api.patch(
            f"/v1/plan-prices/{price['id']}",
            {"amounts": {"EUR": {"unitAmount": "12.50"}}, "uom": None, "name": None},
        )
    assert response.status_code == 200, response.text
    answer = response.json(parse_float=D)
    assert (answer["message"], answer["newVersion"]) == ("Plan price updated successfully", False)
    changed = answer["planPrice"]
    assert (changed["version"], changed["amounts"]) == (1, {"EUR": {"unitAmount": D("12.50")}})
    assert (changed["uom"], changed["name"]) == (None, "Monthly fee")
    assert (changed["createdAt"], changed["updatedAt"]) == (
        "2025-03-01T09:30:00Z", "2025-03-01T10:30:00Z",
    )  # fmt: skip
    versions = (await api.get(f"/v1/plan-prices/{price['id']}/versions")).json()
    assert (versions["count"], versions["planPrices"][0]["version"]) == (1, 1)


async def test_a_billed_price_changes_by_a_new_version(
    api: Api, plan_id: str, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(T0):
        v1 = await create(api, flat_fee(plan_id))
    await bill(database, tenant, api, v1)
    later = T0 + timedelta(days=10)
    with clock.frozen(later):
        response = await api.patch(
            f"/v1/plan-prices/{v1['id']}", {"amounts": {"EUR": {"unitAmount": "11.99"}}}
        )
    assert response.status_code == 200, response.text
    answer = response.json(parse_float=D)
    assert (answer["message"], answer["newVersion"]) == ("Plan price version 2 created", True)
    v2 = answer["planPrice"]
    assert (v2["id"], v2["version"], v2["supersededAt"]) == (v1["id"], 2, None)
    assert v2["amounts"] == {"EUR": {"unitAmount": D("11.99")}}
    assert v2["createdAt"] == v2["updatedAt"] == "2025-03-11T09:30:00Z"

    old = (await api.get(f"/v1/plan-prices/{v1['id']}", version=1)).json(parse_float=D)
    assert old["planPrice"]["amounts"] == {"EUR": {"unitAmount": D("9.99")}}
    assert old["planPrice"]["supersededAt"] == "2025-03-11T09:30:00Z"
    unchanged_fields = set(v1) - {"supersededAt", "updatedAt"}
    assert {k: old["planPrice"][k] for k in unchanged_fields} == {
        k: v1[k] for k in unchanged_fields
    }
    current = (await api.get(f"/v1/plan-prices/{v1['id']}")).json(parse_float=D)
    assert current["planPrice"] == v2
    versions = (await api.get(f"/v1/plan-prices/{v1['id']}/versions")).json()
    assert [p["version"] for p in versions["planPrices"]] == [2, 1]
    embedded = (await api.get(f"/v1/plans/{plan_id}")).json(parse_float=D)["plan"]["prices"]
    assert embedded == [v2]

    # version 2 is not billed yet: the next change edits it in place
    response = await api.patch(f"/v1/plan-prices/{v1['id']}", {"description": "Now"})
    assert (response.json()["newVersion"], response.json()["planPrice"]["version"]) == (False, 2)
    missing = await api.get(f"/v1/plan-prices/{v1['id']}", version=3)
    assert (missing.status_code, error_code(missing)) == (404, "PLAN_PRICE_NOT_FOUND")


async def test_a_change_that_changes_nothing_writes_nothing(
    api: Api, plan_id: str, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(T0):
        price = await create(api, flat_fee(plan_id))
    await bill(database, tenant, api, price)
    with clock.frozen(T0 + timedelta(days=1)):
        response = await api.patch(
            f"/v1/plan-prices/{price['id']}",
            {"name": "Monthly fee", "amounts": {"EUR": {"unitAmount": "9.990"}}},
        )
    answer = response.json()
    assert (answer["message"], answer["newVersion"]) == ("Plan price unchanged", False)
    assert answer["planPrice"]["updatedAt"] == "2025-03-01T09:30:00Z"
    assert (await api.get(f"/v1/plan-prices/{price['id']}/versions")).json()["count"] == 1


async def test_a_change_is_checked_on_the_price_it_makes(api: Api, plan_id: str) -> None:
    price = await create(api, flat_fee(plan_id, category="one_time"))
    path = f"/v1/plan-prices/{price['id']}"
    response = await api.patch(path, {"chargeModel": "tiered"})
    assert response.status_code == 400
    assert details(response) == [("amounts.EUR.tiers", "invalid")]
    response = await api.patch(path, {"billingTiming": "in_arrears"})
    assert details(response) == [("billingTiming", "invalid_enum_value")]
    response = await api.patch(
        path, {"chargeModel": "volume", "amounts": {"EUR": {"tiers": TIERS}}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["planPrice"]["chargeModel"] == "volume"
    unchanged = (await api.get(path)).json()["planPrice"]
    assert (unchanged["category"], unchanged["billingTiming"]) == ("one_time", "in_advance")


async def test_delete(api: Api, plan_id: str) -> None:
    price = await create(api, flat_fee(plan_id))
    response = await api.delete(f"/v1/plan-prices/{price['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True, "message": "Plan price deleted successfully", "id": price["id"],
    }  # fmt: skip
    for gone in (
        await api.get(f"/v1/plan-prices/{price['id']}"),
        await api.get(f"/v1/plan-prices/{price['id']}/versions"),
        await api.patch(f"/v1/plan-prices/{price['id']}", {"name": "X"}),
        await api.delete(f"/v1/plan-prices/{price['id']}"),
    ):
        assert (gone.status_code, error_code(gone)) == (404, "PLAN_PRICE_NOT_FOUND")
    assert (await api.get(f"/v1/plans/{plan_id}")).json()["plan"]["prices"] == []


async def test_a_price_in_use_cannot_be_deleted(
    api: Api, plan_id: str, database: Database, tenant: Tenant
) -> None:
    customer = await api.create_customer()
    subscribed = await plan_subscription(
        database, tenant, customer["customerId"],
        [PriceSpec(ChargeModel.PER_UNIT, unit_amount=D("1.00"))], start=T0.date(),
    )  # fmt: skip
    named_by_item = await api.delete(f"/v1/plan-prices/{subscribed.price_ids[0]}")
    assert (named_by_item.status_code, error_code(named_by_item)) == (409, "PLAN_PRICE_IN_USE")
    billed = await create(api, flat_fee(plan_id))
    await bill(database, tenant, api, billed)
    named_by_line = await api.delete(f"/v1/plan-prices/{billed['id']}")
    assert (named_by_line.status_code, error_code(named_by_line)) == (409, "PLAN_PRICE_IN_USE")
    deactivated = await api.patch(f"/v1/plan-prices/{billed['id']}", {"status": "inactive"})
    assert deactivated.json()["planPrice"]["status"] == "inactive"


async def test_another_business_unit_sees_no_price(
    api: Api, plan_id: str, client: httpx.AsyncClient, database: Database
) -> None:
    price = await create(api, flat_fee(plan_id))
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    for response in (
        await other.get(f"/v1/plan-prices/{price['id']}"),
        await other.get(f"/v1/plan-prices/{price['id']}", version=1),
        await other.get(f"/v1/plan-prices/{price['id']}/versions"),
        await other.patch(f"/v1/plan-prices/{price['id']}", {"name": "X"}),
        await other.delete(f"/v1/plan-prices/{price['id']}"),
    ):
        assert (response.status_code, error_code(response)) == (404, "PLAN_PRICE_NOT_FOUND")
    assert (await other.get("/v1/plan-prices")).json()["planPrices"] == []
