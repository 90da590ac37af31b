"""`Idempotency-Key` on POST: replay the first answer, refuse a different body, forget after 24 h."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from flexbill.core import clock
from tests.support import Api, Tenant, error_code

BODY = {"email": "idem@example.com", "firstName": "Ida", "lastName": "Em"}


async def _count(api: Api) -> int:
    return int((await api.get("/v1/customers")).json()["count"])


async def test_same_key_same_body_replays(api: Api) -> None:
    headers = {"Idempotency-Key": "create-ida-1"}
    first = await api.post("/v1/customers", BODY, headers=headers)
    second = await api.post(
        "/v1/customers",
        {"lastName": "Em", "firstName": "Ida", "email": "idem@example.com"},
        headers=headers,
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await _count(api) == 1


async def test_same_key_different_body_conflicts(api: Api) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert (await api.post("/v1/customers", BODY, headers=headers)).status_code == 201
    response = await api.post(
        "/v1/customers", {**BODY, "email": "other@example.com"}, headers=headers
    )
    assert response.status_code == 409
    assert error_code(response) == "IDEMPOTENCY_KEY_REUSED"
    assert await _count(api) == 1


async def test_concurrent_requests_with_one_key_act_once(api: Api) -> None:
    headers = {"Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(api.post("/v1/customers", BODY, headers=headers) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    created = [r.json() for r in responses if r.status_code == 201]
    assert set(statuses) <= {201, 409}
    assert created
    assert all(body == created[0] for body in created)
    assert await _count(api) == 1


async def test_failed_request_is_not_remembered(api: Api) -> None:
    headers = {"Idempotency-Key": "retry-after-fix"}
    bad = await api.post("/v1/customers", {**BODY, "email": "nope"}, headers=headers)
    assert bad.status_code == 400
    fixed = await api.post("/v1/customers", BODY, headers=headers)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers


async def test_keys_are_kept_24_hours(api: Api) -> None:
    headers = {"Idempotency-Key": "daily"}
    start = clock.now()
    with clock.frozen(start):
        assert (await api.post("/v1/customers", BODY, headers=headers)).status_code == 201
    with clock.frozen(start + timedelta(hours=23)):
        replay = await api.post("/v1/customers", BODY, headers=headers)
        assert replay.headers.get("Idempotent-Replayed") == "true"
    with clock.frozen(start + timedelta(hours=25)):
        fresh = await api.post(
            "/v1/customers", {**BODY, "email": "next@example.com"}, headers=headers
        )
        assert fresh.status_code == 201
        assert "Idempotent-Replayed" not in fresh.headers
    assert await _count(api) == 2


async def test_keys_belong_to_one_tenant(api: Api, tenant: Tenant) -> None:
    test_api = Api(api.client, key=tenant.test_key, tenant_id=tenant.id)
    headers = {"Idempotency-Key": "shared-name"}
    live = await api.post("/v1/customers", BODY, headers=headers)
    test = await test_api.post("/v1/customers", BODY, headers=headers)
    assert live.status_code == test.status_code == 201
    assert live.json()["customerId"] != test.json()["customerId"]
