"""Invoice numbers: gapless per tenant (``INV-000001``, ``INV-000002``, …).

The tenant's ``invoice_counters`` row holds the last number issued. Taking a number is one
upsert that inserts the row at the first invoice or increments it, and returns the new
value: the statement locks the row until the transaction ends, so two transactions never
get the same number, and a transaction that rolls back gives its numbers back (the next
one takes them again): no gaps, no repeats. Two first invoices racing to insert the row
are safe too: the loser of the insert waits for the winner and then increments its row.
The price is that a tenant's invoices are issued one transaction at a time.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.dml import Insert as PostgresqlInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.dml import Insert as SqliteInsert
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import InvoiceCounter

PREFIX = "INV-"
DIGITS = 6


def invoice_number(sequence: int) -> str:
    """``1`` → ``INV-000001``; numbers past 999999 simply grow longer."""
    return f"{PREFIX}{sequence:0{DIGITS}d}"


def _advance(session: AsyncSession, tenant_id: str, count: int) -> PostgresqlInsert | SqliteInsert:
    """The upsert that moves the tenant's counter ``count`` numbers on (creating it there)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InvoiceCounter)
        .values(tenant_id=tenant_id, last_number=count)
        .on_conflict_do_update(
            index_elements=[InvoiceCounter.tenant_id],
            set_={"last_number": InvoiceCounter.last_number + count},
        )
    )


async def take_sequences(session: AsyncSession, tenant_id: str, count: int = 1) -> int:
    """Reserve the next ``count`` sequence numbers of the tenant; the first of them."""
    if count < 1:
        raise ValueError("take at least one invoice number")
    statement = _advance(session, tenant_id, count).returning(InvoiceCounter.last_number)
    last = int((await session.execute(statement)).scalar_one())
    return last - count + 1


async def next_invoice_number(session: AsyncSession, tenant_id: str) -> str:
    """The tenant's next invoice number, held until the caller's transaction ends."""
    return invoice_number(await take_sequences(session, tenant_id))


async def lock_counter(session: AsyncSession, tenant_id: str) -> None:
    """Hold the tenant's counter row (inserted at zero if missing) until the caller's
    transaction ends, without taking a number: what a billing run does first, so that two
    runs of one tenant take turns instead of each holding rows the other needs."""
    await session.execute(_advance(session, tenant_id, 0))
