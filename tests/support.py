"""Test helpers: tenants with keys, and a client that sends the seed's headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.tenancy import service as tenancy
from flexbill.tenancy.models import Organization


@dataclass(frozen=True)
class Tenant:
    id: str
    live_key: str
    test_key: str


async def new_tenant(database: Database, *, currency: str = "EUR") -> Tenant:
    """A new organization with one business unit and a `*` key for each environment."""
    async with database.transaction() as session:
        organization = Organization(id=new_id("org"), name="Test organization")
        session.add(organization)
        await session.flush()
        unit = await tenancy.create_business_unit(
            session,
            organization_id=organization.id,
            name="Test unit",
            region="eu",
            currency=currency,
        )
        live = await tenancy.create_api_key(
            session, business_unit_id=unit.id, mode="live", permissions=["*"], tier="enterprise"
        )
        test = await tenancy.create_api_key(
            session, business_unit_id=unit.id, mode="test", permissions=["*"], tier="enterprise"
        )
        return Tenant(id=unit.id, live_key=live.secret, test_key=test.secret)


async def issue_key(
    database: Database,
    tenant: Tenant,
    *,
    permissions: Sequence[str] = ("*",),
    mode: str = "live",
    tier: str = "enterprise",
    allowed_ips: Sequence[str] = (),
) -> str:
    async with database.transaction() as session:
        issued = await tenancy.create_api_key(
            session, business_unit_id=tenant.id, mode=mode, permissions=permissions, tier=tier,
            allowed_ips=allowed_ips,
        )  # fmt: skip
        return issued.secret


class Api:
    """An HTTP client that sends `Authorization: Bearer …` and `Tenant-ID` like the seed."""

    def __init__(self, client: httpx.AsyncClient, *, key: str, tenant_id: str) -> None:
        self.client = client
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Tenant-ID": tenant_id,
            "Content-Type": "application/json",
        }

    def with_key(self, key: str) -> Api:
        return Api(self.client, key=key, tenant_id=self.headers["Tenant-ID"])

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.request(
            method, path, json=json, params=params, headers={**self.headers, **(headers or {})}
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.request("GET", path, params=params)

    async def post(
        self, path: str, json: Any, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return await self.request("POST", path, json=json, headers=headers)

    async def put(self, path: str, json: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json)

    async def patch(self, path: str, json: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json)

    async def delete(self, path: str) -> httpx.Response:
        return await self.request("DELETE", path)

    async def create_customer(self, **overrides: Any) -> dict[str, Any]:
        body = {"email": f"{new_id('c')}@example.com", "firstName": "Ada", "lastName": "Lovelace"}
        body.update(overrides)
        response = await self.post("/v1/customers", body)
        assert response.status_code == 201, response.text
        customer: dict[str, Any] = response.json()["customer"]
        return customer


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    code: str = body["error"]["code"]
    return code
