"""``/v1/webhook-endpoints`` over HTTP: create (the secret shown once), read, list,
change, delete, rotate the secret; validation, permissions and tenants."""

from __future__ import annotations

import base64

from flexbill.core.db import Database
from tests.support import Api, Tenant, error_code, issue_key, new_tenant
from tests.webhooks.support import create_endpoint

URL = "https://hooks.example.com/flexbill"


async def test_create_read_list_change_delete(api: Api) -> None:
    response = await api.post(
        "/v1/webhook-endpoints",
        {"url": URL, "events": ["payment.failed", "order.created"], "description": "ERP"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    created = body["webhookEndpoint"]
    endpoint_id = created["webhookEndpointId"]
    assert endpoint_id.startswith("we_")
    assert (created["url"], created["description"], created["enabled"]) == (URL, "ERP", True)
    # Kept in the order of the event list, whatever order they were sent in.
    assert created["events"] == ["order.created", "payment.failed"]
    assert created["disabledReason"] is None

    fetched = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).json()["webhookEndpoint"]
    assert fetched == created
    assert secret not in (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).text

    changed = await api.patch(
        f"/v1/webhook-endpoints/{endpoint_id}",
        {"url": "http://10.0.0.5:8080/in", "events": ["*"], "enabled": False},
    )
    assert changed.status_code == 200, changed.text
    endpoint = changed.json()["webhookEndpoint"]
    assert endpoint["url"] == "http://10.0.0.5:8080/in"
    assert endpoint["events"] == ["*"]
    assert (endpoint["enabled"], endpoint["disabledReason"]) == (False, "Disabled by request")
    assert endpoint["description"] == "ERP"  # left out: unchanged

    enabled = await api.patch(f"/v1/webhook-endpoints/{endpoint_id}", {"enabled": True})
    assert enabled.json()["webhookEndpoint"]["disabledReason"] is None

    second_id, _ = await create_endpoint(api, URL)
    listed = (await api.get("/v1/webhook-endpoints")).json()
    assert [e["webhookEndpointId"] for e in listed["webhookEndpoints"]] == [second_id, endpoint_id]
    assert secret not in str(listed)
    first_page = (await api.get("/v1/webhook-endpoints", limit=1)).json()
    assert (first_page["count"], first_page["hasMore"]) == (1, True)
    rest = (
        await api.get("/v1/webhook-endpoints", limit=1, startAfter=first_page["nextCursor"])
    ).json()
    assert [e["webhookEndpointId"] for e in rest["webhookEndpoints"]] == [endpoint_id]
    assert rest["hasMore"] is False

    deleted = await api.delete(f"/v1/webhook-endpoints/{endpoint_id}")
    assert deleted.status_code == 200
    assert deleted.json()["webhookEndpoint"]["webhookEndpointId"] == endpoint_id
    gone = await api.get(f"/v1/webhook-endpoints/{endpoint_id}")
    assert (gone.status_code, error_code(gone)) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")


async def test_rotating_gives_a_new_secret_shown_once(api: Api) -> None:
    endpoint_id, first = await create_endpoint(api, URL)
    rotated = await api.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", {})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    assert second.startswith("whsec_")
    assert second != first
    # A replay of the same request does not hand out the secret again.
    key = {"Idempotency-Key": "rotate-1"}
    path = f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret"
    third = (await api.post(path, {}, headers=key)).json()["secret"]
    replayed = await api.post(path, {}, headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["secret"] is None
    assert third not in (second, first)


async def test_a_replayed_create_does_not_show_the_secret(api: Api) -> None:
    key = {"Idempotency-Key": "create-1"}
    first = await api.post("/v1/webhook-endpoints", {"url": URL}, headers=key)
    again = await api.post("/v1/webhook-endpoints", {"url": URL}, headers=key)
    assert first.json()["secret"].startswith("whsec_")
    assert again.json()["secret"] is None
    endpoint = first.json()["webhookEndpoint"]
    assert again.json()["webhookEndpoint"]["webhookEndpointId"] == endpoint["webhookEndpointId"]
    assert endpoint["events"] == ["*"]


INVALID: list[tuple[dict[str, object], str, str | None]] = [
    ({"url": "ftp://hooks.example.com/x"}, "url", "invalid_string"),
    ({"url": "hooks.example.com/x"}, "url", "invalid_string"),
    ({"url": "https:///no-host"}, "url", "invalid_string"),
    ({"url": "https://hooks.example.com/a b"}, "url", "invalid_string"),
    ({"url": "http://hooks.example.com:99999/"}, "url", "invalid_string"),
    ({"url": URL, "events": []}, "events", "too_small"),
    ({"url": URL, "events": ["order.created", "order.exploded"]}, "events.1", None),
    ({"url": URL, "enabled": "yes"}, "enabled", None),
    ({"url": URL, "description": "x" * 501}, "description", "too_big"),
]


async def test_invalid_endpoints_are_refused(api: Api) -> None:
    endpoint_id, _ = await create_endpoint(api, URL)
    for body, path, code in INVALID:
        for response in (
            await api.post("/v1/webhook-endpoints", body),
            await api.patch(f"/v1/webhook-endpoints/{endpoint_id}", body),
        ):
            assert response.status_code == 400, (body, response.text)
            assert error_code(response) == "VALIDATION_ERROR"
            details = response.json()["error"]["details"]
            assert path in [d["path"] for d in details]
            if code is not None:
                assert code in [d["code"] for d in details if d["path"] == path]
    listed = (await api.get("/v1/webhook-endpoints")).json()["webhookEndpoints"]
    assert [(e["url"], e["events"]) for e in listed] == [(URL, ["*"])]  # nothing changed


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    endpoint_id, _ = await create_endpoint(api, URL)
    reader = api.with_key(await issue_key(database, tenant, permissions=["webhooks:read"]))
    assert (await reader.get(f"/v1/webhook-endpoints/{endpoint_id}")).status_code == 200
    assert (await reader.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")).status_code == 200
    for response in (
        await reader.post("/v1/webhook-endpoints", {"url": URL}),
        await reader.patch(f"/v1/webhook-endpoints/{endpoint_id}", {"enabled": False}),
        await reader.delete(f"/v1/webhook-endpoints/{endpoint_id}"),
        await reader.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", {}),
    ):
        assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    stranger = api.with_key(await issue_key(database, tenant, permissions=["events:read"]))
    response = await stranger.get("/v1/webhook-endpoints")
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")


async def test_another_tenants_endpoints_are_not_found(
    api: Api, database: Database, tenant: Tenant
) -> None:
    endpoint_id, _ = await create_endpoint(api, URL)
    other = await new_tenant(database)
    theirs = Api(api.client, key=other.live_key, tenant_id=other.id)
    for response in (
        await theirs.get(f"/v1/webhook-endpoints/{endpoint_id}"),
        await theirs.patch(f"/v1/webhook-endpoints/{endpoint_id}", {"enabled": False}),
        await theirs.delete(f"/v1/webhook-endpoints/{endpoint_id}"),
        await theirs.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries"),
    ):
        assert (response.status_code, error_code(response)) == (404, "WEBHOOK_ENDPOINT_NOT_FOUND")
    assert (await theirs.get("/v1/webhook-endpoints")).json()["webhookEndpoints"] == []
    # The same business unit's test environment is another tenant too.
    sandbox = Api(api.client, key=tenant.test_key, tenant_id=tenant.id)
    assert (await sandbox.get(f"/v1/webhook-endpoints/{endpoint_id}")).status_code == 404
    assert (await sandbox.get("/v1/webhook-endpoints")).json()["webhookEndpoints"] == []
