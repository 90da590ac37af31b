"""Helpers for order tests: a small catalog created through the API, an order body like a
FlexPortal client sends, and a tenant context for service-level calls."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from flexbill.core.db import Database
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import authenticate
from tests.support import Api, Tenant

LAPTOP = "LAPTOP-16-A"  # 6, 12 and 24 months; list price and acquisition cost known
PHONE = "PHONE-B"  # 12 months only; neither list price nor acquisition cost known

ADDRESS = {
    "contactName": "Grace Hopper",
    "company": "Navy",
    "buildingInfo": "Bldg 7",
    "streetAddress": "1 Navy Way",
    "locality": "Crystal City",
    "city": "Arlington",
    "adminArea": "VA",
    "postalCode": "22202",
    "country": "US",
}

CATALOG = {
    "productSku": "LAPTOP-16",
    "name": "Laptop Pro 16",
    "specification": "16-inch, 32 GB",
    "category": "Laptops",
    "brand": "Acme",
    "variants": [
        {
            "variantSku": LAPTOP,
            "variantName": "Space grey, grade A",
            "grade": "A",
            "listPrice": 1999,
            "acquisitionCost": 1200.5,
            "pricing": [
                {"contractLength": 12, "monthlyPrice": 59.99, "setupFee": 25},
                {"contractLength": 6, "monthlyPrice": 79.99},
                {
                    "contractLength": 24,
                    "monthlyPrice": 49.99,
                    "discount": {"type": "percentage", "value": 10},
                },
            ],
        },
        {
            "variantSku": PHONE,
            "variantName": "Phone, grade B",
            "grade": "B",
            "pricing": [{"contractLength": 12, "monthlyPrice": 19.99}],
        },
    ],
}


def exact(response: httpx.Response) -> Any:
    """The response body with numbers as ``Decimal``: amounts compare digit for digit."""
    return json.loads(response.text, parse_float=Decimal)


async def create_catalog(api: Api) -> dict[str, Any]:
    response = await api.post("/v1/products", CATALOG)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def order_body(email: str = "ada@example.com", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"email": email, "firstName": "Ada", "lastName": "Lovelace"},
        "billingAddress": ADDRESS,
        "items": [{"sku": LAPTOP, "quantity": 2, "contractLength": 12}],
    }
    body.update(overrides)
    return body


async def place(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Place an order that must be created; the order object, amounts as ``Decimal``."""
    response = await api.post("/v1/orders", body or order_body())
    assert response.status_code == 201, response.text
    order: dict[str, Any] = exact(response)["order"]
    return order


async def tenant_context(
    database: Database, tenant: Tenant, *, test_mode: bool = False
) -> TenantContext:
    async with database.transaction() as session:
        return await authenticate(
            session,
            secret=tenant.test_key if test_mode else tenant.live_key,
            business_unit_id=tenant.id,
            client_ip=None,
        )
