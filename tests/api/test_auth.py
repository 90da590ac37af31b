"""Authentication, tenant access, trusted addresses and permissions (seed 000, seed 001)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.tenancy import service as tenancy
from tests.support import Api, Tenant, error_code, issue_key, new_tenant


async def test_missing_authorization_header(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/v1/customers", headers={"Tenant-ID": tenant.id})
    assert response.status_code == 401
    assert error_code(response) == "AUTH_REQUIRED"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer pk_live_eu_doesnotexist", "Basic dXNlcjpwYXNz", "Bearer", "pk_live_eu_x"],
)
async def test_unknown_or_malformed_key(
    client: httpx.AsyncClient, tenant: Tenant, authorization: str
) -> None:
    response = await client.get(
        "/v1/customers", headers={"Authorization": authorization, "Tenant-ID": tenant.id}
    )
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_key_revoked_elsewhere_stops_working_within_the_cache_time(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """A revocation by another process (here: the service, as the CLI does) is seen once
    this process's cached grant is older than FLEXBILL_AUTH_CACHE_SECONDS (5 s)."""
    key = await issue_key(database, tenant)
    start = clock.now()
    with clock.frozen(start):
        assert (await api.with_key(key).get("/v1/customers")).status_code == 200
    async with database.transaction() as session:
        keys = await tenancy.list_api_keys(session, business_unit_id=tenant.id)
        key_id = next(k.id for k, _ in keys if key.startswith(k.display_prefix) and k.name == "")
        await tenancy.revoke_api_key(session, business_unit_id=tenant.id, key_id=key_id)
    with clock.frozen(start + timedelta(seconds=4)):
        assert (await api.with_key(key).get("/v1/customers")).status_code == 200
    with clock.frozen(start + timedelta(seconds=5)):
        response = await api.with_key(key).get("/v1/customers")
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_expired_key(api: Api, database: Database, tenant: Tenant) -> None:
    async with database.transaction() as session:
        issued = await tenancy.create_api_key(
            session, business_unit_id=tenant.id, mode="live", permissions=["*"],
            expires_at=clock.now() + timedelta(hours=1),
        )  # fmt: skip
    assert (await api.with_key(issued.secret).get("/v1/customers")).status_code == 200
    with clock.frozen(clock.now() + timedelta(hours=2)):
        response = await api.with_key(issued.secret).get("/v1/customers")
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_missing_tenant_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/v1/customers", headers={"Authorization": f"Bearer {tenant.live_key}"}
    )
    assert response.status_code == 403
    assert error_code(response) == "NO_TENANT_ACCESS"


async def test_tenant_id_of_another_business_unit(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> None:
    other = await new_tenant(database)
    for tenant_id in (other.id, "bu_unknown"):
        response = await client.get(
            "/v1/customers",
            headers={"Authorization": f"Bearer {tenant.live_key}", "Tenant-ID": tenant_id},
        )
        assert response.status_code == 403
        assert error_code(response) == "NO_TENANT_ACCESS"


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    reader = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    writer = api.with_key(await issue_key(database, tenant, permissions=["customers:write"]))
    other = api.with_key(await issue_key(database, tenant, permissions=["orders:read"]))

    assert (await reader.get("/v1/customers")).status_code == 200
    denied = await reader.post(
        "/v1/customers", {"email": "a@b.co", "firstName": "A", "lastName": "B"}
    )
    assert denied.status_code == 403
    assert error_code(denied) == "INSUFFICIENT_PERMISSIONS"

    created = await writer.post(
        "/v1/customers", {"email": "a@b.co", "firstName": "A", "lastName": "B"}
    )
    assert created.status_code == 201
    assert (await writer.get("/v1/customers")).status_code == 200  # write includes read

    response = await other.get("/v1/customers")
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    assert error_code(await other.get("/v1/api-keys")) == "INSUFFICIENT_PERMISSIONS"


async def test_trusted_ip_list(app: object, database: Database, tenant: Tenant) -> None:
    key = await issue_key(database, tenant, allowed_ips=["10.1.0.0/16", "192.0.2.7"])

    async def status_from(address: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 5000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get(
                "/v1/customers", headers={"Authorization": f"Bearer {key}", "Tenant-ID": tenant.id}
            )

    assert (await status_from("10.1.200.3")).status_code == 200
    assert (await status_from("192.0.2.7")).status_code == 200
    refused = await status_from("203.0.113.9")
    assert refused.status_code == 403
    assert error_code(refused) == "IP_NOT_ALLOWED"


async def test_auth_errors_precede_validation_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/customers", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert error_code(response) == "AUTH_REQUIRED"
