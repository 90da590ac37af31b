"""`GET /v1/health`, the OpenAPI document and the offline docs page."""

from __future__ import annotations

import re

import httpx

from flexbill import __version__


async def test_health(client: httpx.AsyncClient, database_url: str) -> None:
    response = await client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "region": "eu",
        "database": "sqlite" if database_url.startswith("sqlite") else "postgresql",
    }
    assert "X-RateLimit-Limit" in response.headers


async def test_openapi_describes_the_v1_face(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    customers = spec["paths"]["/v1/customers/{customerId}"]
    assert set(customers) == {"get", "put", "delete"}
    assert customers["put"]["description"].startswith("Update a customer")
    listed = [p["name"] for p in spec["paths"]["/v1/customers"]["get"]["parameters"]]
    assert {"limit", "startAfter", "sortBy", "sortDir", "status", "hasActiveRentals"} <= set(listed)
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


async def test_docs_page_needs_no_internet(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/docs/assets/") for s in sources)
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200
        assert len(asset.content) > 1000
