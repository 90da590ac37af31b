"""/v1/license-products and /v1/licenses, and the FlexLicense face on what they create."""

from __future__ import annotations

import httpx

from tests.support import Api


async def test_a_vendor_manages_products_keys_and_licenses(
    api: Api, client: httpx.AsyncClient
) -> None:
    created = await api.post(
        "/v1/license-products",
        {
            "name": "Pro Tools", "type": "Currency", "unit": "eur", "freeTrial": "5.00",
            "ratePercent": "10", "minCharge": "0.50", "exchangeRates": {"USD": "0.9"},
        },
    )  # fmt: skip
    assert created.status_code == 201
    product = created.json()["licenseProduct"]
    assert (product["unit"], product["freeTrial"], product["minCharge"]) == ("EUR", 5, 0.5)
    refused = await api.post(
        "/v1/license-products", {"name": "X", "type": "Currency", "unit": "JPY"}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    updated = await api.patch(f"/v1/license-products/{product['id']}", {"ratePercent": "0"})
    assert updated.json()["licenseProduct"]["ratePercent"] == 0

    key = (await api.post(f"/v1/license-products/{product['id']}/api-keys", {})).json()["apiKey"]
    listed_keys = (await api.get(f"/v1/license-products/{product['id']}/api-keys")).json()
    assert [k["key"] for k in listed_keys["apiKeys"]] == [None]

    issued = await api.post(
        "/v1/licenses",
        {"productId": product["id"], "email": "Client@Example.com", "balance": "20.00"},
    )
    assert issued.status_code == 201
    held = issued.json()["license"]
    assert (held["email"], held["balance"], held["valid"]) == (
        "client@example.com",
        20,
        True,
    )
    face = f"apikey={key['key']}&licensekey={held['key']}"
    debit = await client.get(f"/withdraw-client?{face}&amount=7.25")
    assert debit.json()["amount"] == 7.25
    credited = await api.post(f"/v1/licenses/{held['id']}/credit", {"amount": "1.01"})
    assert credited.json()["license"]["balance"] == 13.76
    refused_precision = await api.post(f"/v1/licenses/{held['id']}/credit", {"amount": "0.001"})
    assert refused_precision.status_code == 400

    second = await api.post("/v1/licenses", {"productId": product["id"], "email": "b@example.com"})
    assert second.json()["license"]["balance"] == 5
    first_page = (await api.get("/v1/licenses", limit=1)).json()
    assert [x["email"] for x in first_page["licenses"]] == ["b@example.com"]
    next_page = (await api.get("/v1/licenses", limit=1, startAfter=first_page["nextCursor"])).json()
    assert [x["email"] for x in next_page["licenses"]] == ["client@example.com"]
    assert next_page["hasMore"] is False

    revoked = await api.post(f"/v1/licenses/{held['id']}/revoke", {})
    assert revoked.json()["license"]["valid"] is False
    assert (await client.get(f"/license-status?{face}")).json()["valid"] is False
    await api.delete(f"/v1/license-products/{product['id']}/api-keys/{key['id']}")
    gone = await client.get(f"/license-status?{face}")
    assert (gone.status_code, gone.json()) == (401, {"msg": "Unknown or revoked API key"})
    missing = await api.get("/v1/licenses/lic_nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "LICENSE_NOT_FOUND")
