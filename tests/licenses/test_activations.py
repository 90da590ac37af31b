"""Activations through /v1: a license limited to N machines."""

from __future__ import annotations

import asyncio

from tests.support import Api


async def test_a_license_runs_on_at_most_its_machines(api: Api) -> None:
    product = (
        await api.post("/v1/license-products", {"name": "Desk", "type": "Inner credit"})
    ).json()["licenseProduct"]
    held = (
        await api.post(
            "/v1/licenses",
            {
                "productId": product["id"],
                "email": "a@example.com",
                "balance": 3,
                "maxActivations": 2,
            },
        )
    ).json()["license"]
    base = f"/v1/licenses/{held['id']}"
    first = await api.post(f"{base}/activate", {"fingerprint": "laptop"})
    assert first.status_code == 200
    again = await api.post(f"{base}/activate", {"fingerprint": "laptop"})
    assert again.json()["activation"]["id"] == first.json()["activation"]["id"]
    # Two machines race for the last place: one gets it.
    racing = await asyncio.gather(
        api.post(f"{base}/activate", {"fingerprint": "desktop"}),
        api.post(f"{base}/activate", {"fingerprint": "tablet"}),
    )
    assert sorted(r.status_code for r in racing) == [200, 409]
    refused = next(r for r in racing if r.status_code == 409)
    assert refused.json()["error"]["code"] == "ACTIVATION_LIMIT_REACHED"
    winner = next(r for r in racing if r.status_code == 200).json()["activation"]["fingerprint"]

    checked = (await api.post(f"{base}/validate", {"fingerprint": winner})).json()
    assert (checked["valid"], checked["code"], checked["activations"]) == (True, "VALID", 2)
    phone = (await api.post(f"{base}/validate", {"fingerprint": "phone"})).json()
    assert (phone["valid"], phone["code"]) == (False, "NOT_ACTIVATED")
    freed = await api.post(f"{base}/deactivate", {"fingerprint": "laptop"})
    assert freed.status_code == 200
    assert (await api.post(f"{base}/activate", {"fingerprint": "phone"})).status_code == 200
    unknown = await api.post(f"{base}/deactivate", {"fingerprint": "laptop"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ACTIVATION_NOT_FOUND")
    await api.post(f"{base}/revoke", {})
    revoked = (await api.post(f"{base}/validate", {})).json()
    assert (revoked["valid"], revoked["code"]) == (False, "NOT_VALID")
