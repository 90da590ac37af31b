"""Payment methods and the auto-charge switch on the /v1 face, as a client uses them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flexbill.core.db import Database
from tests.orders.support import tenant_context
from tests.payments.factories import add_method, customer
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

METHOD_FIELDS = {
    "paymentMethodId", "customerId", "gateway", "token", "brand", "last4", "isDefault",
    "status", "createdAt", "updatedAt",
}  # fmt: skip


async def create(api: Api, customer_id: str, **fields: Any) -> httpx.Response:
    body = {"customerId": customer_id, "gateway": "sandbox", "token": "tok_visa", **fields}
    return await api.post("/v1/payment-methods", body)


async def listed(api: Api, customer_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/payment-methods", customerId=customer_id, **params)
    assert response.status_code == 200, response.text
    methods: list[dict[str, Any]] = response.json()["paymentMethods"]
    return methods


async def test_create_answers_the_method(api: Api) -> None:
    ada = await api.create_customer()
    response = await create(api, ada["customerId"], token="tok_mastercard")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["success"], body["message"]) == (True, "Payment method created successfully")
    method = body["paymentMethod"]
    assert set(method) == METHOD_FIELDS
    assert method["paymentMethodId"].startswith("pm_")
    assert {k: method[k] for k in ("customerId", "gateway", "token", "brand", "last4")} == {
        "customerId": ada["customerId"], "gateway": "sandbox", "token": "tok_mastercard",
        "brand": "mastercard", "last4": "4444",
    }  # fmt: skip
    assert (method["isDefault"], method["status"]) == (True, "active")  # the first one

    fetched = await api.get(f"/v1/payment-methods/{method['paymentMethodId']}")
    assert fetched.status_code == 200
    assert fetched.json() == {"success": True, "paymentMethod": method}


async def test_the_first_method_is_the_default_until_another_is_chosen(api: Api) -> None:
    ada = (await api.create_customer())["customerId"]
    first = await add_method(api, ada, "tok_visa")
    second = await add_method(api, ada, "tok_insufficient_funds")
    assert (first["isDefault"], second["isDefault"]) == (True, False)
    third = await add_method(api, ada, "tok_lost_card", isDefault=True)
    assert third["isDefault"] is True
    methods = await listed(api, ada)
    assert [(m["paymentMethodId"], m["isDefault"]) for m in methods] == [
        (third["paymentMethodId"], True),
        (second["paymentMethodId"], False),
        (first["paymentMethodId"], False),
    ]


async def test_a_manual_method_needs_no_token_and_has_no_card(api: Api) -> None:
    ada = (await api.create_customer())["customerId"]
    method = await add_method(api, ada, gateway="manual", token=None)
    assert {k: method[k] for k in ("gateway", "token", "brand", "last4", "isDefault")} == {
        "gateway": "manual", "token": "manual", "brand": None, "last4": None, "isDefault": True,
    }  # fmt: skip
    transfer = await add_method(api, ada, gateway="manual", token="IBAN DE89 3704")
    assert (transfer["token"], transfer["isDefault"]) == ("IBAN DE89 3704", False)


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"token": "tok_nonsense"}, "token", "invalid_enum_value"),
        ({"token": None}, "token", "invalid_type"),
        ({"gateway": "stripe"}, "gateway", "invalid_enum_value"),
        ({"isDefault": "yes"}, "isDefault", "invalid_type"),
        ({"customerId": ""}, "customerId", "too_small"),
    ],
)
async def test_invalid_methods_are_refused(
    api: Api, fields: dict[str, Any], path: str, code: str
) -> None:
    ada = (await api.create_customer())["customerId"]
    response = await create(api, ada, **fields)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert [(d["path"], d["code"]) for d in response.json()["error"]["details"]] == [(path, code)]
    assert await listed(api, ada) == []


async def test_an_unknown_customer_is_not_found(api: Api) -> None:
    response = await create(api, "cust_nobody")
    assert response.status_code == 404
    assert error_code(response) == "CUSTOMER_NOT_FOUND"


async def test_the_list_is_one_customers_and_filters_by_gateway(api: Api) -> None:
    ada = (await api.create_customer())["customerId"]
    grace = (await api.create_customer())["customerId"]
    card = await add_method(api, ada, "tok_visa")
    cash = await add_method(api, ada, gateway="manual", token=None)
    await add_method(api, grace, "tok_visa")
    assert [m["paymentMethodId"] for m in await listed(api, ada)] == [
        cash["paymentMethodId"], card["paymentMethodId"],
    ]  # fmt: skip
    sandbox_only = await listed(api, ada, gateway="sandbox")
    assert [m["paymentMethodId"] for m in sandbox_only] == [card["paymentMethodId"]]
    oldest_first = await listed(api, ada, sortDir="asc", limit=1)
    assert [m["paymentMethodId"] for m in oldest_first] == [card["paymentMethodId"]]

    response = await api.get("/v1/payment-methods")
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"][0]["path"] == "customerId"
    page = await api.get("/v1/payment-methods", customerId=ada, limit=1)
    body = page.json()
    assert (body["success"], body["count"], body["limit"], body["hasMore"]) == (True, 1, 1, True)
    assert body["nextCursor"] is not None


async def test_removing_a_method_is_soft_and_passes_the_default_on(api: Api) -> None:
    ada = (await api.create_customer())["customerId"]
    first = await add_method(api, ada, "tok_visa")
    second = await add_method(api, ada, "tok_mastercard")
    default = await add_method(api, ada, "tok_lost_card", isDefault=True)

    response = await api.delete(f"/v1/payment-methods/{default['paymentMethodId']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Payment method removed successfully"
    assert (body["paymentMethod"]["status"], body["paymentMethod"]["isDefault"]) == (
        "removed", False,
    )  # fmt: skip
    # The newest remaining method is the default now.
    assert [(m["paymentMethodId"], m["isDefault"]) for m in await listed(api, ada)] == [
        (second["paymentMethodId"], True), (first["paymentMethodId"], False),
    ]  # fmt: skip
    gone = await api.get(f"/v1/payment-methods/{default['paymentMethodId']}")
    assert (gone.status_code, error_code(gone)) == (404, "NOT_FOUND")
    again = await api.delete(f"/v1/payment-methods/{default['paymentMethodId']}")
    assert (again.status_code, error_code(again)) == (404, "NOT_FOUND")

    # Removing a method that is not the default leaves the default alone.
    await api.delete(f"/v1/payment-methods/{first['paymentMethodId']}")
    assert [(m["paymentMethodId"], m["isDefault"]) for m in await listed(api, ada)] == [
        (second["paymentMethodId"], True),
    ]


async def test_auto_charge_needs_a_method_a_gateway_can_charge(
    api: Api, database: Database, tenant: Tenant
) -> None:
    ada = await api.create_customer()
    path = f"/v1/customers/{ada['customerId']}/auto-charge"
    tenant_id = (await tenant_context(database, tenant)).tenant_id

    response = await api.post(path, {"enabled": True})
    assert (response.status_code, error_code(response)) == (422, "NO_PAYMENT_METHOD")
    await add_method(api, ada["customerId"], gateway="manual", token=None)
    response = await api.post(path, {"enabled": True})
    assert (response.status_code, error_code(response)) == (422, "NO_PAYMENT_METHOD")
    assert (await customer(database, tenant_id, ada["customerId"])).auto_charge is False

    await add_method(api, ada["customerId"], "tok_visa", isDefault=True)
    response = await api.post(path, {"enabled": True})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True, "customerId": ada["customerId"], "autoCharge": True,
    }  # fmt: skip
    assert (await customer(database, tenant_id, ada["customerId"])).auto_charge is True

    response = await api.post(path, {"enabled": False})
    assert response.json()["autoCharge"] is False
    assert (await customer(database, tenant_id, ada["customerId"])).auto_charge is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"enabled": "yes"}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_auto_charge_takes_a_boolean(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    ada = await api.create_customer()
    response = await api.post(f"/v1/customers/{ada['customerId']}/auto-charge", body)
    assert (response.status_code, error_code(response)) == (status, code)


async def test_auto_charge_of_an_unknown_customer(api: Api) -> None:
    response = await api.post("/v1/customers/cust_nobody/auto-charge", {"enabled": False})
    assert (response.status_code, error_code(response)) == (404, "CUSTOMER_NOT_FOUND")


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    ada = (await api.create_customer())["customerId"]
    method = await add_method(api, ada)
    reader = api.with_key(await issue_key(database, tenant, permissions=["payments:read"]))
    assert (await reader.get("/v1/payment-methods", customerId=ada)).status_code == 200
    assert (await reader.get(f"/v1/payment-methods/{method['paymentMethodId']}")).status_code == 200
    for response in (
        await create(reader, ada),
        await reader.delete(f"/v1/payment-methods/{method['paymentMethodId']}"),
        await reader.post(f"/v1/customers/{ada}/auto-charge", {"enabled": True}),
    ):
        assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    stranger = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    response = await stranger.get("/v1/payment-methods", customerId=ada)
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")


async def test_another_tenants_methods_are_not_found(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    ada = (await api.create_customer())["customerId"]
    method = await add_method(api, ada)
    other = await new_tenant(database)
    theirs = Api(client, key=other.live_key, tenant_id=other.id)
    response = await theirs.get(f"/v1/payment-methods/{method['paymentMethodId']}")
    assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")
    response = await theirs.delete(f"/v1/payment-methods/{method['paymentMethodId']}")
    assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")
    assert (await listed(theirs, ada)) == []
    response = await create(theirs, ada)
    assert (response.status_code, error_code(response)) == (404, "CUSTOMER_NOT_FOUND")
    # The test environment of the same business unit is another tenant too.
    test_mode = Api(client, key=other.test_key, tenant_id=other.id)
    assert (await listed(test_mode, ada)) == []
