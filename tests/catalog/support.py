"""Request bodies and calls for product tests, shaped like FlexPortal's examples."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Api


def pricing(months: int = 12, monthly: Any = 49.99, **extra: Any) -> dict[str, Any]:
    return {"contractLength": months, "monthlyPrice": monthly, **extra}


def variant(sku: str = "IPH-15-BLK-A", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "variantSku": sku,
        "variantName": "Black",
        "grade": "A",
        "pricing": [pricing(12, 49.99), pricing(24, 39.99)],
    }
    body.update(overrides)
    return body


def product(sku: str = "IPH-15", *variants: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "productSku": sku,
        "name": "iPhone 15",
        "specification": "6.1-inch, 128 GB",
        "category": "Phones",
        "brand": "Apple",
        "variants": list(variants) or [variant(f"{sku}-BLK-A")],
    }
    body.update(overrides)
    return body


async def create_product(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST the body (expecting a new product) and return the product as GET shows it."""
    response = await api.post("/v1/products", body)
    assert response.status_code == 201, response.text
    fetched = await api.get(f"/v1/products/{response.json()['productId']}")
    assert fetched.status_code == 200, fetched.text
    created: dict[str, Any] = fetched.json()
    return created


async def upload_csv(api: Api, data: bytes, field: str = "csvFile") -> httpx.Response:
    """``POST /v1/products/csv`` as multipart, the way FlexPortal's docs send it."""
    headers = {k: v for k, v in api.headers.items() if k != "Content-Type"}
    return await api.client.post(
        "/v1/products/csv", files={field: ("products.csv", data, "text/csv")}, headers=headers
    )


async def all_products(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/products", limit=100, **params)
    assert response.status_code == 200, response.text
    products: list[dict[str, Any]] = response.json()["products"]
    return products
