"""What people do with deliveries: re-send one by hand (the same ``webhook-id``), see an
endpoint disabled after the last retry (its owner told by e-mail) and bring it back,
rotate the signing secret (the old one no longer verifies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import EventType
from flexbill.mail.models import OutgoingMail
from flexbill.webhooks.retry_schedule import DELAYS, MAX_ATTEMPTS
from tests.orders.support import tenant_context
from tests.support import Api, Tenant, error_code
from tests.webhooks.support import Receiver, deliver, deliveries, delivery, listen

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


async def _emit(database: Database, tenant: Tenant, *order_ids: str) -> None:
    ctx = await tenant_context(database, tenant)
    for order_id in order_ids:
        async with database.transaction() as session:
            await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": order_id})


async def test_a_delivery_resent_by_hand_keeps_its_webhook_id(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint_id = await listen(api, receiver)
    await _emit(database, tenant, "ord_1")
    await deliver(database)
    [sent] = await deliveries(api, endpoint_id)
    path = f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{sent['deliveryId']}/retry"

    receiver.reply = "é".encode() * 3000  # 6 KB: the attempt keeps the first 2 KB
    queued = await api.post(path, {})
    assert queued.status_code == 202, queued.text
    assert queued.json()["delivery"]["status"] == "pending"
    assert len(receiver.received) == 1  # queued, not sent from the request
    await deliver(database)

    first, again = receiver.received
    assert first.webhook_id == again.webhook_id == sent["deliveryId"]
    assert first.body == again.body
    assert again.verified
    assert first.headers["webhook-signature"] != ""
    assert again.answered == 200
    details = await delivery(api, endpoint_id, sent["deliveryId"])
    assert (details["status"], details["attemptCount"], len(details["attempts"])) == (
        "succeeded",
        2,
        2,
    )
    assert details["attempts"][0]["responseBody"] == f'{{"received": "{sent["deliveryId"]}"}}'
    assert details["attempts"][1]["responseBody"] == "é" * 1024

    unknown = await api.post(f"/v1/webhook-endpoints/{endpoint_id}/deliveries/msg_nope/retry", {})
    assert (unknown.status_code, error_code(unknown)) == (404, "WEBHOOK_DELIVERY_NOT_FOUND")
    other_id = await listen(api, receiver, "other")
    elsewhere = await api.get(f"/v1/webhook-endpoints/{other_id}/deliveries/{sent['deliveryId']}")
    assert (elsewhere.status_code, error_code(elsewhere)) == (404, "WEBHOOK_DELIVERY_NOT_FOUND")


async def test_an_endpoint_failing_past_its_last_retry_is_disabled_and_its_owner_told(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    owner = {"company": {"name": "Acme Rentals", "email": "ops@acme.example"}}
    assert (await api.patch("/v1/settings", owner)).status_code == 200
    receiver.status = 500
    with clock.frozen(T0):
        endpoint_id = await listen(api, receiver)
        await _emit(database, tenant, "ord_1", "ord_2")
        await deliver(database)
        for wait in DELAYS:
            clock.advance(wait)
            await deliver(database)
        disabled_at = clock.now()

    first, second = await deliveries(api, endpoint_id)
    assert (first["status"], first["attemptCount"], first["nextAttemptAt"]) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    assert (second["status"], second["attemptCount"]) == ("pending", 0)  # kept, in order
    assert len(receiver.received) == MAX_ATTEMPTS
    endpoint = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).json()["webhookEndpoint"]
    assert endpoint["enabled"] is False
    assert endpoint["disabledAt"] == disabled_at.isoformat().replace("+00:00", "Z")
    assert endpoint["disabledReason"] == (
        f"Delivery {first['deliveryId']} failed 11 attempts in a row since "
        "2025-03-10T09:00:00Z; the last: The receiver answered HTTP 500"
    )
    async with database.transaction() as session:
        mails = (
            await session.scalars(
                select(OutgoingMail).where(OutgoingMail.template == "webhook_endpoint_disabled")
            )
        ).all()
    [mail] = mails
    assert mail.recipient == "ops@acme.example"
    assert receiver.url() in mail.subject
    assert receiver.url() in mail.text_body

    # Fixed: re-send the failed one, enable the endpoint; both arrive in order.
    receiver.status = 200
    retry = f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{first['deliveryId']}/retry"
    assert (await api.post(retry, {})).status_code == 202
    await deliver(database)
    assert receiver.delivered() == []  # still disabled
    enabled = await api.patch(f"/v1/webhook-endpoints/{endpoint_id}", {"enabled": True})
    assert enabled.json()["webhookEndpoint"]["failingSince"] is None
    await deliver(database)
    assert [r.payload["data"]["orderId"] for r in receiver.delivered()] == ["ord_1", "ord_2"]
    statuses = [d["status"] for d in await deliveries(api, endpoint_id)]
    assert statuses == ["succeeded", "succeeded"]


async def test_after_rotating_only_the_new_secret_verifies(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint_id = await listen(api, receiver)
    old_secret = receiver.secrets["hooks"]
    await _emit(database, tenant, "ord_1")
    await deliver(database)
    assert receiver.received[-1].verified

    rotated = await api.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", {})
    new_secret = rotated.json()["secret"]
    with clock.frozen(T0):
        await _emit(database, tenant, "ord_2")
        await deliver(database)  # the receiver still checks with the old secret: 401
        refused = receiver.received[-1]
        assert (refused.verified, refused.answered) == (False, 401)
        with pytest.raises(WebhookVerificationError, match="No matching signature"):
            Webhook(old_secret).verify(refused.body, refused.headers)
        Webhook(new_secret).verify(refused.body, refused.headers)

        receiver.secrets["hooks"] = new_secret
        clock.advance(DELAYS[0])
        await deliver(database)
    assert receiver.received[-1].verified
    assert receiver.received[-1].answered == 200
    assert [r.payload["data"]["orderId"] for r in receiver.delivered()] == ["ord_1", "ord_2"]


@pytest.mark.parametrize("owner_email", [None, "not an address"])
async def test_without_a_usable_owner_address_the_endpoint_is_disabled_all_the_same(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver, owner_email: str | None
) -> None:
    settings = {"company": {"name": "Acme Rentals", "email": owner_email}}
    assert (await api.patch("/v1/settings", settings)).status_code == 200
    receiver.status = 410
    with clock.frozen(T0):
        endpoint_id = await listen(api, receiver)
        await _emit(database, tenant, "ord_1")
        for wait in (timedelta(), *DELAYS):
            clock.advance(wait)
            await deliver(database)
    endpoint = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).json()["webhookEndpoint"]
    assert endpoint["enabled"] is False
    assert endpoint["disabledReason"].endswith("The receiver answered HTTP 410")
    async with database.transaction() as session:
        mails = (await session.scalars(select(OutgoingMail))).all()
    assert mails == []
