"""Invoice numbers: gapless and unique per tenant, given back by a rollback, and safe when
transactions race for the first number (the counter row does not exist yet)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from flexbill.billing.models import InvoiceCounter
from flexbill.billing.numbering import (
    invoice_number,
    lock_counter,
    next_invoice_number,
    take_sequences,
)
from flexbill.core.db import Database
from tests.orders.support import tenant_context
from tests.support import Tenant, new_tenant


class Rollback(Exception):
    pass


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [(1, "INV-000001"), (42, "INV-000042"), (999_999, "INV-999999"), (1_000_000, "INV-1000000")],
)
def test_invoice_number(sequence: int, expected: str) -> None:
    assert invoice_number(sequence) == expected


async def _take(database: Database, tenant_id: str) -> str:
    async with database.transaction() as session:
        return await next_invoice_number(session, tenant_id)


async def _last_number(database: Database, tenant_id: str) -> int | None:
    async with database.transaction() as session:
        statement = select(InvoiceCounter.last_number).where(InvoiceCounter.tenant_id == tenant_id)
        return await session.scalar(statement)


async def test_numbers_follow_each_other_per_tenant(database: Database, tenant: Tenant) -> None:
    first = (await tenant_context(database, tenant)).tenant_id
    other = (await tenant_context(database, await new_tenant(database))).tenant_id
    assert await _last_number(database, first) is None
    assert [await _take(database, first) for _ in range(3)] == [
        "INV-000001", "INV-000002", "INV-000003",
    ]  # fmt: skip
    assert await _take(database, other) == "INV-000001"
    assert await _take(database, first) == "INV-000004"
    assert await _last_number(database, first) == 4
    assert await _last_number(database, other) == 1


async def test_a_rolled_back_number_is_taken_again(database: Database, tenant: Tenant) -> None:
    tenant_id = (await tenant_context(database, tenant)).tenant_id
    assert await _take(database, tenant_id) == "INV-000001"
    taken: list[str] = []

    async def take_two_then_fail() -> None:
        async with database.transaction() as session:
            taken.extend([await next_invoice_number(session, tenant_id) for _ in range(2)])
            raise Rollback

    with pytest.raises(Rollback):
        await take_two_then_fail()
    assert taken == ["INV-000002", "INV-000003"]
    assert await _take(database, tenant_id) == "INV-000002"


async def test_several_numbers_at_once(database: Database, tenant: Tenant) -> None:
    tenant_id = (await tenant_context(database, tenant)).tenant_id
    async with database.transaction() as session:
        assert await take_sequences(session, tenant_id, 5) == 1
        assert await take_sequences(session, tenant_id, 2) == 6
        with pytest.raises(ValueError, match="at least one"):
            await take_sequences(session, tenant_id, 0)
    assert await _take(database, tenant_id) == "INV-000008"


async def test_locking_the_counter_takes_no_number(database: Database, tenant: Tenant) -> None:
    tenant_id = (await tenant_context(database, tenant)).tenant_id
    async with database.transaction() as session:
        await lock_counter(session, tenant_id)
    assert await _last_number(database, tenant_id) == 0
    assert await _take(database, tenant_id) == "INV-000001"
    async with database.transaction() as session:
        await lock_counter(session, tenant_id)
    assert await _last_number(database, tenant_id) == 1


async def test_racing_transactions_get_distinct_gapless_numbers(
    database: Database, tenant: Tenant
) -> None:
    """Twelve transactions take numbers at once, from a tenant without a counter row; a
    third of them roll back. The others hold 1…8 between them, each once (on PostgreSQL
    they really overlap: the first inserts the row, the others wait on it)."""
    tenant_id = (await tenant_context(database, tenant)).tenant_id

    async def take(index: int) -> str | None:
        try:
            async with database.transaction() as session:
                number = await next_invoice_number(session, tenant_id)
                await asyncio.sleep(0.01)  # hold the number while others wait
                if index % 3 == 0:
                    raise Rollback
                return number
        except Rollback:
            return None

    numbers = [n for n in await asyncio.gather(*(take(i) for i in range(12))) if n is not None]
    assert sorted(numbers) == [invoice_number(n) for n in range(1, 9)]
    assert await _last_number(database, tenant_id) == 8
