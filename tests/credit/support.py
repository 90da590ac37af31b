"""What the credit tests share: a laptop rented through the API and billed by the real
billing run, credit notes and balances read through /v1, and the ledger replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from flexbill.billing import run
from flexbill.billing.models import Invoice, Payment
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.payments.models import Transaction
from tests.billing.run_support import rent
from tests.orders.support import tenant_context
from tests.subscriptions.support import exact, read
from tests.support import Api, Tenant

T0 = datetime(2025, 1, 10, 9, tzinfo=UTC)
D = Decimal


async def bill_now(database: Database, tenant: Tenant) -> run.RunResult:
    """The billing run at the clock's time, as the worker runs it."""
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        return await run.bill_due(session, ctx, clock.now())


@dataclass(frozen=True)
class Billed:
    invoice: dict[str, Any]
    payment: Payment | None


async def invoices(api: Api, customer_id: str) -> list[dict[str, Any]]:
    """The customer's invoices, oldest first."""
    body = await read(api, "/v1/invoices", customerId=customer_id, sortDir="asc")
    found: list[dict[str, Any]] = body["invoices"]
    return found


async def payment_of(database: Database, invoice_id: str) -> Payment | None:
    async with database.transaction() as session:
        statement = select(Payment).where(Payment.invoice_id == invoice_id)
        return (await session.scalars(statement)).first()


async def latest(api: Api, database: Database, customer_id: str) -> Billed:
    """The customer's newest invoice and its payment."""
    invoice = (await invoices(api, customer_id))[-1]
    return Billed(invoice, await payment_of(database, invoice["invoiceId"]))


async def rented(
    api: Api, database: Database, tenant: Tenant, serial: str = "SN-1", *, catalog: bool = True
) -> str:
    """A 12-month laptop (59.99 a month, 25.00 setup fee, no VAT) rented now and its first
    invoice issued by the run (84.99); the customer's id (the same for every rental)."""
    laptop = await rent(api, serial, catalog=catalog)
    await bill_now(database, tenant)
    customer_id: str = laptop["customerId"]
    return customer_id


async def mark_paid(api: Api, payment_id: str) -> None:
    response = await api.post(f"/v1/payments/{payment_id}/mark-paid", {})
    assert response.status_code == 200, response.text


async def credit_note(api: Api, invoice_id: str, amount: str, **fields: Any) -> dict[str, Any]:
    response = await post_credit_note(api, invoice_id, amount, **fields)
    assert response.status_code == 201, response.text
    note: dict[str, Any] = exact(response)["creditNote"]
    return note


async def post_credit_note(api: Api, invoice_id: str, amount: str, **fields: Any) -> httpx.Response:
    # A JSON number as a client writes it (Python's float prints the shortest digits).
    return await api.post(
        "/v1/credit-notes", {"invoiceId": invoice_id, "amount": float(amount), **fields}
    )


async def note_of(api: Api, note_id: str) -> dict[str, Any]:
    note: dict[str, Any] = (await read(api, f"/v1/credit-notes/{note_id}"))["creditNote"]
    return note


async def balance_of(api: Api, customer_id: str) -> tuple[Decimal, Decimal]:
    """(balance, unappliedAmount) of the customer."""
    body = await read(api, f"/v1/customers/{customer_id}/balance")
    return body["balance"], body["unappliedAmount"]


async def ledger_of(api: Api, customer_id: str, limit: int = 3) -> list[dict[str, Any]]:
    """Every entry of the customer's ledger, oldest first, page by page."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["startAfter"] = cursor
        page = await read(api, f"/v1/customers/{customer_id}/ledger", **params)
        entries.extend(page["entries"])
        cursor = page["nextCursor"]
        if cursor is None:
            return entries


async def replayed(api: Api, customer_id: str) -> list[tuple[str, Decimal, Decimal]]:
    """The ledger's (kind, balance change, unapplied change) in order, after checking that
    the entries, replayed from zero, explain the customer's balance and credit."""
    entries = await ledger_of(api, customer_id)
    balance = unapplied = D(0)
    for sequence, entry in enumerate(entries, start=1):
        assert entry["sequence"] == sequence
        balance += entry["balanceChange"]
        unapplied += entry["unappliedChange"]
        assert (entry["balanceAfter"], entry["unappliedAfter"]) == (balance, unapplied), entry
    assert (balance, unapplied) == await balance_of(api, customer_id)
    return [(e["kind"], e["balanceChange"], e["unappliedChange"]) for e in entries]


async def transactions_of(database: Database, key_prefix: str) -> list[Transaction]:
    async with database.transaction() as session:
        statement = (
            select(Transaction)
            .where(Transaction.idempotency_key.startswith(key_prefix, autoescape=True))
            .order_by(Transaction.attempt)
        )
        return list((await session.scalars(statement)).all())


async def invoice_row(database: Database, invoice_id: str) -> Invoice:
    async with database.transaction() as session:
        return (await session.scalars(select(Invoice).where(Invoice.id == invoice_id))).one()
