"""Hardening: what a careful attacker or a sloppy client tries first."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from flexbill.core.db import Database
from flexbill.customers.models import Customer
from flexbill.idempotency.models import IdempotencyRecord
from tests.support import Api, Tenant, error_code, issue_key


async def test_key_secrets_are_never_stored_for_replays(api: Api, database: Database) -> None:
    headers = {"Idempotency-Key": "new-key-1"}
    first = await api.post("/v1/api-keys", {"permissions": ["customers:read"]}, headers=headers)
    secret = first.json()["apiKey"]
    assert secret.startswith("pk_live_")
    replay = await api.post("/v1/api-keys", {"permissions": ["customers:read"]}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["apiKey"] is None
    assert replay.json()["keyId"] == first.json()["keyId"]
    async with database.transaction() as session:
        stored = (await session.scalars(select(IdempotencyRecord.response_body))).all()
    assert stored
    assert all(secret.encode() not in body for body in stored if body)


async def test_another_key_cannot_replay_an_answer(
    api: Api, database: Database, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "mine"}
    body = {"email": "replay@example.com", "firstName": "R", "lastName": "P"}
    assert (await api.post("/v1/customers", body, headers=headers)).status_code == 201
    other = api.with_key(await issue_key(database, tenant))
    response = await other.post("/v1/customers", body, headers=headers)
    assert response.status_code == 409
    assert error_code(response) == "IDEMPOTENCY_KEY_REUSED"


async def test_a_key_cannot_raise_its_own_tier(
    api: Api, database: Database, tenant: Tenant
) -> None:
    starter = api.with_key(await issue_key(database, tenant, tier="starter", permissions=["*"]))
    for tier in ("growth", "enterprise"):
        response = await starter.post("/v1/api-keys", {"permissions": ["*"], "tier": tier})
        assert response.status_code == 403
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    default = await starter.post("/v1/api-keys", {"permissions": ["customers:read"]})
    assert default.json()["key"]["tier"] == "starter"


async def test_an_admin_key_cannot_revoke_a_stronger_key(
    api: Api, database: Database, tenant: Tenant
) -> None:
    admin = api.with_key(await issue_key(database, tenant, permissions=["admin"]))
    strong = (await api.post("/v1/api-keys", {"permissions": ["*"]})).json()
    response = await admin.delete(f"/v1/api-keys/{strong['keyId']}")
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    assert (await api.with_key(strong["apiKey"]).get("/v1/customers")).status_code == 200


async def test_expiry_without_a_time_zone_is_a_validation_error(api: Api) -> None:
    response = await api.post(
        "/v1/api-keys", {"permissions": ["*"], "expiresAt": "2030-01-01T00:00:00"}
    )
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"][0]["path"] == "expiresAt"


def _forged(sort_by: str, value: object) -> str:
    raw = json.dumps([sort_by, "desc", value, "cust_x"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort_by", "value"),
    [
        ("createdAt", "garbage"),
        ("createdAt", {}),
        ("createdAt", "2026-01-01T00:00:00"),  # no time zone
        ("totalMonthlyRevenue", "abc"),
        ("totalMonthlyRevenue", 1e30),
        ("totalMonthlyRevenue", 2**70),
        ("totalMonthlyRevenue", True),
        ("lastName", [1, 2]),
    ],
)
async def test_forged_cursors_are_validation_errors(api: Api, sort_by: str, value: object) -> None:
    await api.create_customer()
    response = await api.get("/v1/customers", sortBy=sort_by, startAfter=_forged(sort_by, value))
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"


async def test_malformed_json_without_a_key_is_auth_required(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/customers", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert error_code(response) == "AUTH_REQUIRED"


async def test_malformed_json_with_a_key_is_a_validation_error_at_the_body(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/v1/customers",
        content=b"{oops",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {tenant.live_key}",
            "Tenant-ID": tenant.id,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["path"] == ""
    assert "X-RateLimit-Remaining" in response.headers


async def test_put_cannot_deactivate_a_renting_customer(api: Api, database: Database) -> None:
    customer = await api.create_customer()
    async with database.transaction() as session:
        await session.execute(
            update(Customer)
            .where(Customer.id == customer["customerId"])
            .values(total_devices_rented=2)
        )
    for response in (
        await api.delete(f"/v1/customers/{customer['customerId']}"),
        await api.put(
            f"/v1/customers/{customer['customerId']}",
            {"customerId": customer["customerId"], "status": "inactive"},
        ),
    ):
        assert response.status_code == 409
        assert error_code(response) == "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS"
    fetched = (await api.get(f"/v1/customers/{customer['customerId']}")).json()
    assert fetched["status"] == "active"


async def test_custom_field_filters_read_json_values_alike_on_both_databases(api: Api) -> None:
    flagged = await api.create_customer(customFields={"vip": True, "score": 7, "ratio": 1.5})
    await api.create_customer(customFields={"vip": False, "score": 8})

    async def ids(**params: str) -> list[str]:
        return [
            c["customerId"] for c in (await api.get("/v1/customers", **params)).json()["customers"]
        ]

    assert await ids(customField_vip="true") == [flagged["customerId"]]
    assert await ids(customField_vip="1") == []
    assert await ids(customField_score="7") == [flagged["customerId"]]
    assert await ids(customField_ratio="1.5") == [flagged["customerId"]]


async def test_unexpected_errors_keep_the_rate_limit_headers(app: FastAPI, api: Api) -> None:
    async def explode() -> None:
        raise RuntimeError("internal detail")

    app.add_api_route("/v1/boom", explode, methods=["GET"])
    response = await api.get("/v1/boom")
    assert response.status_code == 500
    assert error_code(response) == "INTERNAL_ERROR"
    assert "internal detail" not in response.text
    assert "X-RateLimit-Limit" in response.headers


async def test_openapi_documents_the_error_envelope_and_numeric_amounts(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/customers/{customerId}"]["put"]
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "HTTPValidationError" not in str(spec)
    revenue = spec["components"]["schemas"]["CustomerBody"]["properties"]["totalMonthlyRevenue"]
    assert revenue["type"] == "number"
    assert "security" not in spec["paths"]["/v1/health"]["get"]
    assert spec["paths"]["/v1/customers"]["get"]["security"] == [{"apiKey": [], "tenantId": []}]
