"""`flexbill webhooks …` as an operator uses it: add, list, deliveries, retry,
rotate-secret, remove, with errors as the /v1 envelope and a non-zero exit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from flexbill.cli import app
from flexbill.config import get_settings
from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import EventType
from flexbill.tenancy import service as tenancy
from tests.support import new_tenant

runner = CliRunner()


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FLEXBILL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def flexbill(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


async def _tenant_with_an_event(database_url: str) -> str:
    database = Database(database_url)
    try:
        tenant = await new_tenant(database)
        async with database.transaction() as session:
            ctx = await tenancy.environment_context(session, tenant.id, "live")
            await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": "ord_1"})
        return tenant.id
    finally:
        await database.dispose()


async def _emit(database_url: str, tenant_id: str) -> None:
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            ctx = await tenancy.environment_context(session, tenant_id, "live")
            await service.emit(session, ctx, EventType.PAYMENT_FAILED, {"paymentId": "pay_1"})
    finally:
        await database.dispose()


def test_manage_endpoints_and_deliveries(cli_database: str) -> None:
    tenant = asyncio.run(_tenant_with_an_event(cli_database))
    added = flexbill(
        "webhooks", "add", "https://erp.example.com/hooks", "--tenant", tenant,
        "--event", "payment.failed", "--description", "ERP",
    )  # fmt: skip
    endpoint_id = added["webhookEndpointId"]
    assert added["secret"].startswith("whsec_")
    assert (added["events"], added["enabled"]) == (["payment.failed"], True)

    [listed] = flexbill("webhooks", "list", "--tenant", tenant)["webhookEndpoints"]
    assert listed["webhookEndpointId"] == endpoint_id
    assert added["secret"] not in json.dumps(listed)
    assert flexbill("webhooks", "list", "--tenant", tenant, "--mode", "test") == {
        "webhookEndpoints": []
    }

    # The event before the endpoint existed is not sent to it; the next one is.
    assert flexbill("webhooks", "deliveries", endpoint_id, "--tenant", tenant) == {"deliveries": []}
    asyncio.run(_emit(cli_database, tenant))
    [pending] = flexbill("webhooks", "deliveries", endpoint_id, "--tenant", tenant)["deliveries"]
    assert (pending["event"], pending["status"], pending["attemptCount"]) == (
        "payment.failed",
        "pending",
        0,
    )
    retried = flexbill("webhooks", "retry", endpoint_id, pending["deliveryId"], "--tenant", tenant)
    assert (retried["deliveryId"], retried["status"]) == (pending["deliveryId"], "pending")
    only_failed = flexbill(
        "webhooks", "deliveries", endpoint_id, "--tenant", tenant, "--status", "failed"
    )
    assert only_failed == {"deliveries": []}

    rotated = flexbill("webhooks", "rotate-secret", endpoint_id, "--tenant", tenant)
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != added["secret"]

    removed = flexbill("webhooks", "remove", endpoint_id, "--tenant", tenant)
    assert removed["webhookEndpointId"] == endpoint_id
    assert flexbill("webhooks", "list", "--tenant", tenant) == {"webhookEndpoints": []}

    missing = runner.invoke(app, ["webhooks", "remove", endpoint_id, "--tenant", tenant])
    assert missing.exit_code == 1
    assert json.loads(missing.stderr)["error"]["code"] == "WEBHOOK_ENDPOINT_NOT_FOUND"
    invalid = runner.invoke(app, ["webhooks", "add", "ftp://x", "--tenant", tenant])
    assert invalid.exit_code == 1
    assert json.loads(invalid.stderr)["error"]["code"] == "VALIDATION_ERROR"
