"""Every customer operation of the /v1 face, as a FlexPortal client would call it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, error_code

ADDRESS = {
    "contactName": "Grace Hopper",
    "streetAddress": "1 Navy Way",
    "city": "Arlington",
    "country": "US",
    "company": "Navy",
    "buildingInfo": "Bldg 7",
    "locality": "Crystal City",
    "adminArea": "VA",
    "postalCode": "22202",
}

SEED_003_CUSTOMER_FIELDS = {
    "customerId", "tenantId", "email", "firstName", "lastName", "customerType", "totalOrders",
    "totalDevicesRented", "totalMonthlyRevenue", "status", "orderIds", "rentalIds", "createdBy",
    "company", "phone", "customFields", "lastBillingAddress", "lastShippingAddress", "createdAt",
    "updatedAt",
}  # fmt: skip


async def test_create_returns_the_seed_customer_object(api: Api) -> None:
    response = await api.post(
        "/v1/customers",
        {
            "email": "Grace@Example.com",
            "firstName": "Grace",
            "lastName": "Hopper",
            "company": "Navy",
            "phone": "+1 555 0100",
            "customerType": "business",
            "billingAddress": ADDRESS,
            "customFields": {"siebelId": "12345"},
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["customerId"] == body["customer"]["customerId"]
    customer = body["customer"]
    assert set(customer) >= SEED_003_CUSTOMER_FIELDS
    assert customer["customerId"].startswith("cust_")
    assert customer["tenantId"] == api.headers["Tenant-ID"]
    assert customer["email"] == "grace@example.com"
    assert customer["customerType"] == "business"
    assert customer["status"] == "active"
    assert customer["lastBillingAddress"] == ADDRESS
    assert customer["lastShippingAddress"] is None
    assert customer["customFields"] == {"siebelId": "12345"}
    assert (customer["totalOrders"], customer["totalDevicesRented"]) == (0, 0)
    assert customer["totalMonthlyRevenue"] == 0
    assert customer["orderIds"] == customer["rentalIds"] == []
    assert customer["createdAt"].endswith("Z")
    assert customer["createdAt"] == customer["updatedAt"]


async def test_get_returns_the_bare_customer(api: Api) -> None:
    created = await api.create_customer()
    response = await api.get(f"/v1/customers/{created['customerId']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_customer_is_not_found(api: Api) -> None:
    response = await api.get("/v1/customers/cust_missing")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


async def test_duplicate_email_is_a_conflict(api: Api) -> None:
    await api.create_customer(email="same@example.com")
    response = await api.post(
        "/v1/customers", {"email": "SAME@example.com", "firstName": "B", "lastName": "C"}
    )
    assert response.status_code == 409
    assert error_code(response) == "CUSTOMER_EXISTS"


async def test_put_with_exactly_the_seed_003_body(api: Api) -> None:
    created = await api.create_customer()
    customer_id = created["customerId"]
    body = {
        "customerId": customer_id,
        "firstName": "Grace",
        "lastName": "Hopper",
        "company": "Navy",
        "phone": "+1 555 0100",
        "customerType": "business",
        "status": "active",
        "billingAddress": ADDRESS,
        "shippingAddress": {**ADDRESS, "city": "Washington"},
    }
    response = await api.put(f"/v1/customers/{customer_id}", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["success"] is True
    assert isinstance(result["message"], str)
    assert result["customerId"] == customer_id
    customer = result["customer"]
    assert set(customer) >= SEED_003_CUSTOMER_FIELDS
    assert (customer["firstName"], customer["lastName"]) == ("Grace", "Hopper")
    assert (customer["company"], customer["phone"]) == ("Navy", "+1 555 0100")
    assert customer["customerType"] == "business"
    assert customer["lastBillingAddress"] == ADDRESS
    assert customer["lastShippingAddress"]["city"] == "Washington"
    assert customer["email"] == created["email"]
    assert customer["updatedAt"] > created["updatedAt"]
    fetched = (await api.get(f"/v1/customers/{customer_id}")).json()
    assert fetched == customer


async def test_put_leaves_fields_it_does_not_name(api: Api) -> None:
    created = await api.create_customer(company="Acme", phone="123")
    customer_id = created["customerId"]
    response = await api.put(
        f"/v1/customers/{customer_id}", {"customerId": customer_id, "lastName": "B"}
    )
    customer = response.json()["customer"]
    assert customer["lastName"] == "B"
    assert (customer["firstName"], customer["company"], customer["phone"]) == ("Ada", "Acme", "123")


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({}, "customerId", "invalid_type"),
        ({"customerId": ""}, "customerId", "too_small"),
        ({"firstName": ""}, "firstName", "too_small"),
        ({"customerType": "robot"}, "customerType", "invalid_enum_value"),
        ({"status": "deleted"}, "status", "invalid_enum_value"),
        ({"billingAddress": {**ADDRESS, "city": ""}}, "billingAddress.city", "too_small"),
        (
            {"shippingAddress": {"contactName": "X"}},
            "shippingAddress.streetAddress",
            "invalid_type",
        ),
        ({"customerId": "cust_other"}, "customerId", "invalid_string"),
    ],
)
async def test_put_validation_names_the_field(
    api: Api, body: dict[str, Any], path: str, code: str
) -> None:
    created = await api.create_customer()
    customer_id = created["customerId"]
    response = await api.put(
        f"/v1/customers/{customer_id}",
        {"customerId": customer_id, **body} if "customerId" not in body and body != {} else body,
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    details = response.json()["error"]["details"]
    assert {"path": path, "code": code} in [{"path": d["path"], "code": d["code"]} for d in details]
    unchanged = (await api.get(f"/v1/customers/{customer_id}")).json()
    assert unchanged == created


async def test_put_unknown_customer_is_not_found(api: Api) -> None:
    response = await api.put(
        "/v1/customers/cust_nope", {"customerId": "cust_nope", "firstName": "X"}
    )
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


async def test_create_validation(api: Api) -> None:
    response = await api.post(
        "/v1/customers", {"email": "not-an-email", "firstName": "", "billingAddress": {"city": "X"}}
    )
    assert response.status_code == 400
    details = {d["path"]: d["code"] for d in response.json()["error"]["details"]}
    assert details["email"] == "invalid_string"
    assert details["firstName"] == "too_small"
    assert details["lastName"] == "invalid_type"
    assert details["billingAddress.contactName"] == "invalid_type"
    listed = (await api.get("/v1/customers")).json()
    assert listed["customers"] == []


async def test_delete_deactivates(api: Api) -> None:
    created = await api.create_customer()
    response = await api.delete(f"/v1/customers/{created['customerId']}")
    assert response.status_code == 200
    assert response.json()["customer"]["status"] == "inactive"
    fetched = (await api.get(f"/v1/customers/{created['customerId']}")).json()
    assert fetched["status"] == "inactive"
    reactivated = await api.put(
        f"/v1/customers/{created['customerId']}",
        {"customerId": created["customerId"], "status": "active"},
    )
    assert reactivated.json()["customer"]["status"] == "active"


async def test_delete_unknown_customer_is_not_found(api: Api) -> None:
    response = await api.delete("/v1/customers/cust_nope")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


async def test_list_filters(api: Api) -> None:
    alice = await api.create_customer(
        email="alice@example.com",
        customerType="business",
        customFields={"siebelId": "12345", "tier": 3},
    )
    bob = await api.create_customer(email="bob@example.com", customFields={"siebelId": "999"})
    carol = await api.create_customer(email="carol@example.com")
    await api.delete(f"/v1/customers/{carol['customerId']}")

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/v1/customers", **params)
        assert response.status_code == 200, response.text
        return sorted(c["customerId"] for c in response.json()["customers"])

    assert await ids(status="inactive") == [carol["customerId"]]
    assert await ids(status="active") == sorted([alice["customerId"], bob["customerId"]])
    assert await ids(customerType="business") == [alice["customerId"]]
    assert await ids(email="BOB@example.com") == [bob["customerId"]]
    assert await ids(customField_siebelId="12345") == [alice["customerId"]]
    assert await ids(customField_tier="3") == [alice["customerId"]]
    assert await ids(customField_missing="x") == []
    assert await ids(hasActiveRentals="false") == sorted(
        c["customerId"] for c in (alice, bob, carol)
    )
    assert await ids(hasActiveRentals="true") == []
    assert await ids(status="active", customerType="individual") == [bob["customerId"]]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"status": "gone"}, "status"),
        ({"customerType": "robot"}, "customerType"),
        ({"hasActiveRentals": "maybe"}, "hasActiveRentals"),
        ({"sortBy": "password"}, "sortBy"),
        ({"sortDir": "sideways"}, "sortDir"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"startAfter": "garbage!"}, "startAfter"),
    ],
)
async def test_list_rejects_bad_parameters(api: Api, params: dict[str, str], path: str) -> None:
    response = await api.get("/v1/customers", **params)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert path in [d["path"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("sort_by", "key"),
    [
        ("firstName", "firstName"),
        ("lastName", "lastName"),
        ("email", "email"),
        ("createdAt", "createdAt"),
    ],
)
async def test_list_sorts(api: Api, sort_by: str, key: str) -> None:
    for first, last in [("Cy", "Ames"), ("Al", "Zorn"), ("Bo", "Moss")]:
        await api.create_customer(
            firstName=first, lastName=last, email=f"{last.lower()}@example.com"
        )
    for direction in ("asc", "desc"):
        response = await api.get("/v1/customers", sortBy=sort_by, sortDir=direction)
        values = [c[key] for c in response.json()["customers"]]
        assert values == sorted(values, reverse=direction == "desc")
        assert len(values) == 3


async def test_list_envelope(api: Api) -> None:
    for _ in range(3):
        await api.create_customer()
    body = (await api.get("/v1/customers", limit=2)).json()
    assert set(body) == {"customers", "count", "limit", "hasMore", "nextCursor"}
    assert (body["count"], body["limit"], body["hasMore"]) == (2, 2, True)
    last = (await api.get("/v1/customers", limit=2, startAfter=body["nextCursor"])).json()
    assert (last["count"], last["hasMore"], last["nextCursor"]) == (1, False, None)
    default = (await api.get("/v1/customers")).json()
    assert default["limit"] == 50
    created = [c["createdAt"] for c in default["customers"]]
    assert created == sorted(created, reverse=True)
