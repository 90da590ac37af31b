"""``/v1/plans``: plans of general subscriptions, as a client creates, reads, changes,
links and deletes them. Their prices are tested in ``test_plan_prices.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from flexbill.catalog.plan_models import ChargeModel
from flexbill.core import clock
from flexbill.core.db import Database
from tests.catalog.support import create_product, product
from tests.plan_support import PriceSpec, plan_subscription
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

PLAN_FIELDS = {
    "planId", "tenantId", "name", "description", "status", "effectiveStartDate",
    "effectiveEndDate", "isGift", "productIds", "customFields", "prices", "createdBy",
    "createdAt", "updatedAt",
}  # fmt: skip
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


async def create_plan(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/plans", {"name": "Pro", **body})
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()["plan"]
    return plan


async def add_price(api: Api, plan_id: str, amount: str = "9.99") -> dict[str, Any]:
    body = {
        "planId": plan_id, "name": "Monthly", "chargeModel": "flat_fee",
        "amounts": {"EUR": {"unitAmount": amount}},
    }  # fmt: skip
    response = await api.post("/v1/plan-prices", body)
    assert response.status_code == 201, response.text
    price: dict[str, Any] = response.json()["planPrice"]
    return price


def details(response: httpx.Response) -> list[tuple[str, str]]:
    return [(d["path"], d["code"]) for d in response.json()["error"]["details"]]


async def test_create_answers_the_plan(api: Api) -> None:
    phone = await create_product(api, product("PHONE"))
    with clock.frozen(T0):
        response = await api.post(
            "/v1/plans",
            {
                "name": "Pro", "description": "Everything", "status": "inactive",
                "effectiveStartDate": "2025-04-01T00:00:00+02:00",
                "effectiveEndDate": "2026-01-01T00:00:00Z", "isGift": True,
                "productIds": [phone["productId"]], "customFields": {"crmId": "A-1"},
            },
        )  # fmt: skip
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["success"], answer["message"]) == (True, "Plan created successfully")
    plan = answer["plan"]
    assert set(plan) == PLAN_FIELDS
    assert plan["planId"].startswith("plan_")
    assert plan == {
        "planId": plan["planId"], "tenantId": api.headers["Tenant-ID"], "name": "Pro",
        "description": "Everything", "status": "inactive",
        "effectiveStartDate": "2025-03-31T22:00:00Z",
        "effectiveEndDate": "2026-01-01T00:00:00Z", "isGift": True,
        "productIds": [phone["productId"]], "customFields": {"crmId": "A-1"}, "prices": [],
        "createdBy": plan["createdBy"], "createdAt": "2025-03-01T09:30:00Z",
        "updatedAt": "2025-03-01T09:30:00Z",
    }  # fmt: skip
    assert plan["createdBy"].startswith("api_key:")
    fetched = await api.get(f"/v1/plans/{plan['planId']}")
    assert fetched.status_code == 200
    assert fetched.json() == {"success": True, "plan": plan}


async def test_a_plan_needs_only_a_name(api: Api) -> None:
    plan = await create_plan(api)
    assert (plan["status"], plan["isGift"], plan["productIds"], plan["customFields"]) == (
        "active", False, [], {},
    )  # fmt: skip
    assert (plan["description"], plan["effectiveStartDate"], plan["effectiveEndDate"]) == (
        None, None, None,
    )  # fmt: skip


async def test_invalid_plans_are_refused_and_nothing_is_written(api: Api) -> None:
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({}, [("name", "invalid_type")]),
        ({"name": ""}, [("name", "too_small")]),
        ({"name": "P", "status": "paused"}, [("status", "invalid_enum_value")]),
        ({"name": "P", "effectiveStartDate": "2025-04-01T00:00:00"}, [
            ("effectiveStartDate", "timezone_aware")]),
        ({"name": "P", "effectiveStartDate": "2025-04-01T00:00:00Z",
          "effectiveEndDate": "2025-04-01T00:00:00Z"}, [("effectiveEndDate", "too_small")]),
    ]  # fmt: skip
    for body, expected in cases:
        response = await api.post("/v1/plans", body)
        assert response.status_code == 400, body
        assert error_code(response) == "VALIDATION_ERROR"
        assert details(response) == expected, body
    assert (await api.get("/v1/plans")).json()["plans"] == []


async def test_unknown_or_repeated_products_are_refused_by_position(api: Api) -> None:
    phone = await create_product(api, product("PHONE"))
    known = phone["productId"]
    response = await api.post("/v1/plans", {"name": "P", "productIds": [known, "prod_nope"]})
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"
    assert details(response) == [("productIds.1", "not_found")]
    response = await api.post("/v1/plans", {"name": "P", "productIds": [known, known]})
    assert response.status_code == 400
    assert details(response) == [("productIds.1", "duplicate")]
    assert (await api.get("/v1/plans")).json()["count"] == 0


async def test_get_embeds_the_current_prices_oldest_first(api: Api) -> None:
    plan = await create_plan(api)
    first = await add_price(api, plan["planId"], "9.99")
    second = await add_price(api, plan["planId"], "19.00")
    await add_price(api, (await create_plan(api, name="Other"))["planId"])
    fetched = (await api.get(f"/v1/plans/{plan['planId']}")).json()["plan"]
    assert [p["id"] for p in fetched["prices"]] == [first["id"], second["id"]]
    assert fetched["prices"][0] == first
    assert fetched["prices"][1]["amounts"] == {"EUR": {"unitAmount": Decimal("19.00")}}


async def test_unknown_plan_is_not_found(api: Api) -> None:
    for response in (
        await api.get("/v1/plans/plan_nope"),
        await api.patch("/v1/plans/plan_nope", {"name": "X"}),
        await api.delete("/v1/plans/plan_nope"),
        await api.post("/v1/plans/plan_nope/products", {"productId": "prod_x"}),
    ):
        assert response.status_code == 404
        assert error_code(response) == "PLAN_NOT_FOUND"


async def test_list_pages_sorts_and_filters(api: Api) -> None:
    phone = await create_product(api, product("PHONE"))
    with clock.frozen(T0):
        basic = await create_plan(api, name="Basic")
        clock.advance(timedelta(seconds=1))
        gift = await create_plan(
            api, name="Gift", isGift=True, customFields={"tier": "gold"},
            productIds=[phone["productId"]],
        )  # fmt: skip
        clock.advance(timedelta(seconds=1))
        old = await create_plan(api, name="Archive", status="inactive")

    first = (await api.get("/v1/plans", limit=2)).json()
    assert [p["planId"] for p in first["plans"]] == [old["planId"], gift["planId"]]
    assert (first["count"], first["limit"], first["hasMore"]) == (2, 2, True)
    rest = (await api.get("/v1/plans", limit=2, startAfter=first["nextCursor"])).json()
    assert [p["planId"] for p in rest["plans"]] == [basic["planId"]]
    assert (rest["hasMore"], rest["nextCursor"]) == (False, None)

    async def names(**params: Any) -> list[str]:
        response = await api.get("/v1/plans", **params)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["plans"]]

    assert await names(sortBy="name", sortDir="asc") == ["Archive", "Basic", "Gift"]
    assert await names(status="inactive") == ["Archive"]
    assert await names(status="active", sortBy="name", sortDir="asc") == ["Basic", "Gift"]
    assert await names(isGift="true") == ["Gift"]
    assert await names(isGift="false", sortBy="name", sortDir="asc") == ["Archive", "Basic"]
    assert await names(productId=phone["productId"]) == ["Gift"]
    assert await names(productId="prod_other") == []
    assert await names(customField_tier="gold") == ["Gift"]
    for params in ({"status": "paused"}, {"isGift": "maybe"}, {"sortBy": "price"}):
        response = await api.get("/v1/plans", **params)
        assert response.status_code == 400, params
        assert error_code(response) == "VALIDATION_ERROR"


async def test_patch_changes_what_is_sent(api: Api) -> None:
    phone = await create_product(api, product("PHONE"))
    laptop = await create_product(api, product("LAPTOP"))
    with clock.frozen(T0):
        plan = await create_plan(
            api, description="Old", productIds=[phone["productId"]], customFields={"a": 1},
            effectiveStartDate="2025-01-01T00:00:00Z",
        )  # fmt: skip
        clock.advance(timedelta(minutes=5))
        response = await api.patch(
            f"/v1/plans/{plan['planId']}",
            {
                "name": "Pro 2", "description": None, "status": "inactive", "isGift": True,
                "productIds": [laptop["productId"]], "customFields": {"b": 2},
                "effectiveEndDate": "2025-06-01T00:00:00Z",
            },
        )  # fmt: skip
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["message"] == "Plan updated successfully"
    changed = answer["plan"]
    assert {k: changed[k] for k in ("name", "description", "status", "isGift")} == {
        "name": "Pro 2", "description": None, "status": "inactive", "isGift": True,
    }  # fmt: skip
    assert changed["productIds"] == [laptop["productId"]]
    assert changed["customFields"] == {"b": 2}
    assert (changed["effectiveStartDate"], changed["effectiveEndDate"]) == (
        "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z",
    )  # fmt: skip
    assert (changed["createdAt"], changed["updatedAt"]) == (
        "2025-03-01T09:30:00Z", "2025-03-01T09:35:00Z",
    )  # fmt: skip
    assert (await api.get(f"/v1/plans/{plan['planId']}")).json()["plan"] == changed


async def test_patch_checks_the_dates_it_ends_with(api: Api) -> None:
    plan = await create_plan(api, effectiveStartDate="2025-05-01T00:00:00Z")
    response = await api.patch(
        f"/v1/plans/{plan['planId']}", {"effectiveEndDate": "2025-04-01T00:00:00Z"}
    )
    assert response.status_code == 400
    assert details(response) == [("effectiveEndDate", "too_small")]
    response = await api.patch(
        f"/v1/plans/{plan['planId']}",
        {"effectiveStartDate": None, "effectiveEndDate": "2025-04-01T00:00:00Z"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["plan"]["effectiveStartDate"] is None


async def test_patch_with_an_unknown_product_changes_nothing(api: Api) -> None:
    plan = await create_plan(api)
    response = await api.patch(
        f"/v1/plans/{plan['planId']}", {"name": "Renamed", "productIds": ["prod_nope"]}
    )
    assert response.status_code == 404
    assert details(response) == [("productIds.0", "not_found")]
    assert (await api.get(f"/v1/plans/{plan['planId']}")).json()["plan"]["name"] == "Pro"


async def test_link_and_unlink_products(api: Api) -> None:
    phone = await create_product(api, product("PHONE"))
    laptop = await create_product(api, product("LAPTOP"))
    plan = await create_plan(api, productIds=[phone["productId"]])
    path = f"/v1/plans/{plan['planId']}/products"

    response = await api.post(path, {"productId": laptop["productId"]})
    assert response.status_code == 200, response.text
    assert response.json()["plan"]["productIds"] == [phone["productId"], laptop["productId"]]
    again = await api.post(path, {"productId": laptop["productId"]})
    assert again.json()["plan"]["productIds"] == [phone["productId"], laptop["productId"]]

    unknown = await api.post(path, {"productId": "prod_nope"})
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    assert details(unknown) == [("productId", "not_found")]

    response = await api.delete(f"{path}/{phone['productId']}")
    assert response.status_code == 200, response.text
    assert response.json()["plan"]["productIds"] == [laptop["productId"]]
    not_linked = await api.delete(f"{path}/{phone['productId']}")
    assert (not_linked.status_code, error_code(not_linked)) == (404, "NOT_FOUND")
    listed = (await api.get("/v1/plans", productId=laptop["productId"])).json()["plans"]
    assert [p["planId"] for p in listed] == [plan["planId"]]


async def test_delete_removes_the_plan_and_its_prices(api: Api) -> None:
    plan = await create_plan(api)
    price = await add_price(api, plan["planId"])
    response = await api.delete(f"/v1/plans/{plan['planId']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True, "message": "Plan deleted successfully", "planId": plan["planId"],
    }  # fmt: skip
    gone = await api.get(f"/v1/plans/{plan['planId']}")
    assert (gone.status_code, error_code(gone)) == (404, "PLAN_NOT_FOUND")
    price_gone = await api.get(f"/v1/plan-prices/{price['id']}")
    assert (price_gone.status_code, error_code(price_gone)) == (404, "PLAN_PRICE_NOT_FOUND")


async def test_a_plan_a_subscription_uses_cannot_be_deleted_but_can_be_deactivated(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer = await api.create_customer()
    subscribed = await plan_subscription(
        database, tenant, customer["customerId"],
        [PriceSpec(ChargeModel.FLAT_FEE, unit_amount=Decimal("9.99"))],
        start=T0.date(),
    )  # fmt: skip
    price = (await api.get(f"/v1/plan-prices/{subscribed.price_ids[0]}")).json()["planPrice"]
    response = await api.delete(f"/v1/plans/{price['planId']}")
    assert response.status_code == 409
    assert error_code(response) == "PLAN_IN_USE"
    assert (await api.get(f"/v1/plans/{price['planId']}")).status_code == 200
    response = await api.patch(f"/v1/plans/{price['planId']}", {"status": "inactive"})
    assert response.json()["plan"]["status"] == "inactive"


async def test_another_business_unit_sees_no_plan(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    mine = await create_plan(api)
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    theirs = await create_plan(other, name="Theirs")
    plan_id = mine["planId"]
    for response in (
        await other.get(f"/v1/plans/{plan_id}"),
        await other.patch(f"/v1/plans/{plan_id}", {"name": "X"}),
        await other.delete(f"/v1/plans/{plan_id}"),
        await other.post(f"/v1/plans/{plan_id}/products", {"productId": "prod_x"}),
        await other.post(
            "/v1/plan-prices",
            {
                "planId": plan_id,
                "name": "P",
                "chargeModel": "flat_fee",
                "amounts": {"EUR": {"unitAmount": 1}},
            },
        ),
    ):
        assert response.status_code == 404
        assert error_code(response) == "PLAN_NOT_FOUND"
    listed = (await other.get("/v1/plans")).json()["plans"]
    assert [p["planId"] for p in listed] == [theirs["planId"]]
    assert (await api.get(f"/v1/plans/{plan_id}")).json()["plan"]["name"] == "Pro"


async def test_writing_needs_the_write_permission(
    api: Api, database: Database, tenant: Tenant
) -> None:
    plan = await create_plan(api)
    reader = api.with_key(await issue_key(database, tenant, permissions=["plans:read"]))
    assert (await reader.get(f"/v1/plans/{plan['planId']}")).status_code == 200
    for response in (
        await reader.post("/v1/plans", {"name": "X"}),
        await reader.patch(f"/v1/plans/{plan['planId']}", {"name": "X"}),
        await reader.delete(f"/v1/plans/{plan['planId']}"),
    ):
        assert response.status_code == 403
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"


async def test_a_repeated_post_with_the_same_idempotency_key_creates_one_plan(api: Api) -> None:
    headers = {"Idempotency-Key": "plan-create-1"}
    first = await api.post("/v1/plans", {"name": "Pro"}, headers=headers)
    second = await api.post("/v1/plans", {"name": "Pro"}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert (await api.get("/v1/plans")).json()["count"] == 1
