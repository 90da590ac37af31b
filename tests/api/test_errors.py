"""Every failure answers in the seed's envelope, and a failure leaves nothing behind."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from flexbill.api.unit_of_work import request_session
from flexbill.core.db import Database
from flexbill.customers.models import Customer
from flexbill.tenancy.service import authenticate
from tests.support import Api, Tenant, error_code


async def test_unknown_route(api: Api) -> None:
    response = await api.get("/v1/does-not-exist")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


async def test_method_not_allowed(api: Api) -> None:
    response = await api.request("PATCH", "/v1/customers")
    assert response.status_code == 405
    assert error_code(response) == "METHOD_NOT_ALLOWED"


async def test_malformed_json(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/customers",
        content=b'{"email": "a@b.co",',
        headers={
            "Authorization": f"Bearer {tenant.live_key}",
            "Tenant-ID": tenant.id,
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["message"] == "Request body is not valid JSON"


async def test_body_that_is_not_an_object(api: Api) -> None:
    response = await api.post("/v1/customers", ["a", "list"])
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


async def test_unexpected_error_is_a_500_without_internals_and_rolls_back(
    app: FastAPI, api: Api, database: Database, tenant: Tenant
) -> None:
    async with database.transaction() as session:
        ctx = await authenticate(
            session, secret=tenant.live_key, business_unit_id=tenant.id, client_ip=None
        )

    async def explode(request: Request) -> None:
        session = await request_session(request)
        session.add(
            Customer(
                tenant_id=ctx.tenant_id, id="cust_ghost", email="ghost@example.com",
                first_name="G", last_name="H", created_by="test",
            )
        )  # fmt: skip
        await session.flush()  # the row reached the database inside the transaction
        raise RuntimeError("secret internal detail")

    app.add_api_route("/v1/explode", explode, methods=["POST"])
    response = await api.post("/v1/explode", {})
    assert response.status_code == 500
    assert error_code(response) == "INTERNAL_ERROR"
    assert "secret" not in response.text
    assert (await api.get("/v1/customers/cust_ghost")).status_code == 404
