"""`/v1/api-keys`: a key with `admin` lists, creates and revokes its environment's keys."""

from __future__ import annotations

from flexbill.core.db import Database
from tests.support import Api, Tenant, error_code, issue_key


async def test_create_use_list_and_revoke(api: Api) -> None:
    created = await api.post(
        "/v1/api-keys",
        {
            "name": "warehouse",
            "permissions": ["customers:read"],
            "tier": "starter",
            "allowedIps": ["127.0.0.1"],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret, key_id = body["apiKey"], body["keyId"]
    assert secret.startswith("pk_live_eu_")
    assert body["key"]["permissions"] == ["customers:read"]
    assert body["key"]["status"] == "active"

    new_key = api.with_key(secret)
    assert (await new_key.get("/v1/customers")).status_code == 200
    assert error_code(await new_key.get("/v1/api-keys")) == "INSUFFICIENT_PERMISSIONS"

    listed = (await api.get("/v1/api-keys")).json()
    assert key_id in [k["keyId"] for k in listed["apiKeys"]]
    assert secret not in str(listed)
    assert all(k["mode"] == "live" for k in listed["apiKeys"])

    revoked = await api.delete(f"/v1/api-keys/{key_id}")
    assert revoked.status_code == 200
    assert revoked.json()["key"]["status"] == "revoked"
    response = await new_key.get("/v1/customers")
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_test_keys_create_test_keys(api: Api, tenant: Tenant) -> None:
    test_api = api.with_key(tenant.test_key)
    created = (await test_api.post("/v1/api-keys", {"permissions": ["*"]})).json()
    assert created["apiKey"].startswith("pk_test_eu_")
    live_ids = [k["keyId"] for k in (await api.get("/v1/api-keys")).json()["apiKeys"]]
    assert created["keyId"] not in live_ids
    assert (await api.delete(f"/v1/api-keys/{created['keyId']}")).status_code == 404


async def test_a_key_cannot_grant_more_than_it_holds(
    api: Api, database: Database, tenant: Tenant
) -> None:
    admin = api.with_key(await issue_key(database, tenant, permissions=["admin", "customers:read"]))
    assert (
        await admin.post("/v1/api-keys", {"permissions": ["customers:read"]})
    ).status_code == 201
    for wanted in (["customers:write"], ["*"], ["orders:read"]):
        response = await admin.post("/v1/api-keys", {"permissions": wanted})
        assert response.status_code == 403, wanted
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"


async def test_validation(api: Api) -> None:
    cases = [
        ({"permissions": ["customers:fly"]}, "permissions"),
        ({"permissions": []}, "permissions"),
        ({"permissions": ["*"], "tier": "platinum"}, "tier"),
        ({"permissions": ["*"], "allowedIps": ["not-an-ip"]}, "allowedIps.0"),
        ({"permissions": ["*"], "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
    ]
    for body, path in cases:
        response = await api.post("/v1/api-keys", body)
        assert response.status_code == 400, (body, response.text)
        assert error_code(response) == "VALIDATION_ERROR"
        assert path in [d["path"] for d in response.json()["error"]["details"]], response.text


async def test_revoke_unknown_key(api: Api) -> None:
    response = await api.delete("/v1/api-keys/key_nope")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"
