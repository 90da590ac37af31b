"""A device's setup fee is billed once: on the first invoice flexbill issues for its
contract, whatever the first-payment rule, unless that first payment (and the fee with
it) was collected outside flexbill. An upgrade's new contract has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.billing.models import Invoice
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.worker.handlers import worker
from tests.subscriptions.support import confirmed_order, register, subscribe
from tests.support import Api

SETUP_FEE = 2500  # the test catalog's laptop, 12 months: 59.99 a month and 25.00 once


async def _settings(api: Api, body: dict[str, Any]) -> None:
    response = await api.patch("/v1/settings", body)
    assert response.status_code == 200, response.text


async def _travel(database: Database, days: int) -> None:
    runner = worker(database)
    await runner.run_until_idle()
    for _ in range(days):
        clock.advance(timedelta(days=1))
        await runner.run_until_idle()


async def _lines(database: Database) -> list[tuple[str, str, str, int]]:
    """(invoice number, period start, line kind, line total) of every line, in order."""
    async with database.transaction() as session:
        invoices = (await session.scalars(select(Invoice).order_by(Invoice.number))).all()
        return [
            (invoice.number, str(line.period_start), line.kind, line.total)
            for invoice in invoices
            for line in invoice.lines
        ]


@pytest.mark.parametrize(
    ("first_payment", "expected"),
    [
        (
            "full_month",
            [
                ("INV-000001", "2025-03-10", "rental", 5999),
                ("INV-000001", "2025-03-10", "setup_fee", SETUP_FEE),
                ("INV-000002", "2025-04-10", "rental", 5999),
            ],
        ),
        (
            "free_until_cycle",  # billed on the 1st: the fee waits for the first invoice
            [
                ("INV-000001", "2025-04-01", "rental", 5999),
                ("INV-000001", "2025-04-01", "setup_fee", SETUP_FEE),
                ("INV-000002", "2025-05-01", "rental", 5999),
            ],
        ),
        (
            "collected_externally",  # the first month and the fee were paid elsewhere
            [("INV-000001", "2025-04-10", "rental", 5999)],
        ),
    ],
)
async def test_the_setup_fee_is_billed_once(
    api: Api, database: Database, first_payment: str, expected: list[tuple[str, str, str, int]]
) -> None:
    cycle = "fixed_day" if first_payment == "free_until_cycle" else "subscription_start"
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        await _settings(
            api,
            {
                "firstPayment": first_payment,
                "billingCycle": {"type": cycle, "dayOfMonth": 1 if cycle == "fixed_day" else None},
            },
        )
        order = await confirmed_order(api)
        await register(api, "SN-1")
        rental = await subscribe(api, order, "SN-1")
        await _travel(database, 40 if first_payment != "free_until_cycle" else 55)
        await _travel(database, 0)  # a second run over the same days adds nothing
    assert await _lines(database) == expected
    answer = await api.get(
        "/v1/payments", rentalId=rental["rentalId"], sortBy="dueDate", sortDir="asc"
    )
    first = answer.json()["payments"][0]
    with_fee = first_payment != "collected_externally"
    assert Decimal(str(first["amount"])) == Decimal("84.99" if with_fee else "59.99")


async def test_an_upgrade_starts_a_contract_without_a_setup_fee(
    api: Api, database: Database
) -> None:
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        order = await confirmed_order(api)
        await register(api, "SN-1")
        await register(api, "SN-2")
        rental = await subscribe(api, order, "SN-1")
        await _travel(database, 1)
        upgraded = await api.post(
            f"/v1/subscriptions/{rental['rentalId']}/upgrade",
            {
                "newSerialNumber": "SN-2",
                "newSku": "LAPTOP-16-A",
                "contractLength": 12,
                "newMonthlyAmount": 69.99,
                "reason": "customer_request",
            },
        )
        assert upgraded.status_code in (200, 201), upgraded.text
        await _travel(database, 1)
    kinds = [(number, kind) for number, _, kind, _ in await _lines(database)]
    assert kinds == [
        ("INV-000001", "rental"), ("INV-000001", "setup_fee"), ("INV-000002", "rental"),
    ]  # fmt: skip
