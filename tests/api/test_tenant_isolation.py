"""A key never sees another business unit's or another environment's data, not even as a 403."""

from __future__ import annotations

import httpx

from flexbill.core.db import Database
from tests.support import Api, Tenant, error_code, new_tenant


async def test_other_business_unit_sees_nothing(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    mine = await api.create_customer(email="mine@example.com")
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    theirs = await other.create_customer(email="mine@example.com")  # same e-mail is fine elsewhere

    customer_id = mine["customerId"]
    for response in (
        await other.get(f"/v1/customers/{customer_id}"),
        await other.put(
            f"/v1/customers/{customer_id}", {"customerId": customer_id, "firstName": "X"}
        ),
        await other.delete(f"/v1/customers/{customer_id}"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"
    listed = (await other.get("/v1/customers")).json()["customers"]
    assert [c["customerId"] for c in listed] == [theirs["customerId"]]
    # a cursor naming a foreign row is not a way in either
    response = await other.get("/v1/customers", startAfter=customer_id)
    assert error_code(response) == "VALIDATION_ERROR"
    assert (await api.get(f"/v1/customers/{customer_id}")).json()["firstName"] == "Ada"


async def test_live_and_test_environments_are_separate(
    api: Api, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    test_api = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    live_customer = await api.create_customer(email="same@example.com")
    test_customer = await test_api.create_customer(email="same@example.com")

    assert (await test_api.get(f"/v1/customers/{live_customer['customerId']}")).status_code == 404
    assert (await api.get(f"/v1/customers/{test_customer['customerId']}")).status_code == 404
    live_ids = [c["customerId"] for c in (await api.get("/v1/customers")).json()["customers"]]
    test_ids = [c["customerId"] for c in (await test_api.get("/v1/customers")).json()["customers"]]
    assert live_ids == [live_customer["customerId"]]
    assert test_ids == [test_customer["customerId"]]
    assert live_customer["tenantId"] == test_customer["tenantId"] == tenant.id
