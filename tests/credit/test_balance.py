"""Invoices issued in batches move balances and use credit in a few statements; an
invoice below zero becomes customer credit; the balance and ledger faces; voiding rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from flexbill.billing import invoicing, payment_lifecycle
from flexbill.billing.invoicing import Bill, LineSpec
from flexbill.billing.models import CreditNote, InvoiceStatus, LineKind
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import InvalidState
from flexbill.settings.service import get_settings
from tests.credit.support import T0, D, balance_of, ledger_of, note_of, replayed
from tests.orders.support import tenant_context
from tests.subscriptions.support import events_of, read
from tests.support import Api, Tenant, error_code

JANUARY = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


def bill(customer_id: str, price: int, key: str) -> Bill:
    """One invoice of one line computed elsewhere (a proration credit when negative)."""
    kind = LineKind.PRORATION_CREDIT if price < 0 else LineKind.PLAN
    line = LineSpec(
        kind=kind, description="Plan", price=price, subscription_id=None,
        period_start=JANUARY, period_end=date(2025, 2, 1),
    )  # fmt: skip
    return Bill(
        key=f"{key}:{JANUARY.isoformat()}", customer_id=customer_id, subscription_id=None,
        billing_group_id=None, period_start=JANUARY, period_end=date(2025, 2, 1), charges=[],
        lines=[line], rental=False,
    )  # fmt: skip


async def issue(
    database: Database, tenant: Tenant, bills: list[Bill]
) -> tuple[list[invoicing.Issued | None], int]:
    """Issue ``bills`` in one transaction; what was written and how many statements the
    balance's tables took."""
    ctx = await tenant_context(database, tenant)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        tables = ("customers", "customer_ledger_entries", "credit_notes", "credit_allocations")
        if any(f" {table}" in text for table in tables):
            statements.append(text)

    engine = database.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.transaction() as session:
            settings = await get_settings(session, ctx)
            issued = await invoicing.issue(session, ctx, settings, bills, now=clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return issued, len(statements)


async def test_an_invoice_below_zero_becomes_credit_for_the_next(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = (await api.create_customer())["customerId"]
    (credit,), _ = await issue(database, tenant, [bill(customer_id, -5000, "psub_a")])
    assert credit is not None
    assert credit.payment is None
    assert (credit.invoice.total, credit.invoice.status) == (-5000, InvoiceStatus.PAID)
    (created,) = await events_of(database, "credit_note.created")
    note = await note_of(api, created.data["creditNoteId"])
    assert (note["number"], note["amount"], note["status"], note["invoiceId"]) == (
        "CN-000001", D("50.00"), "unallocated", credit.invoice.id,
    )  # fmt: skip
    assert note["reason"] == f"Credit from invoice {credit.invoice.number}"
    assert await balance_of(api, customer_id) == (D("0.00"), D("50.00"))

    clock.advance(timedelta(days=31))
    (charge,), _ = await issue(database, tenant, [bill(customer_id, 8000, "psub_b")])
    assert charge is not None
    assert charge.payment is not None
    assert (charge.invoice.credit_applied, charge.invoice.amount_paid) == (5000, 5000)
    assert (charge.payment.amount, charge.payment.original_amount) == (3000, 3000)
    assert await replayed(api, customer_id) == [
        ("credit_note_issued", D("0.00"), D("50.00")),
        ("invoice_issued", D("80.00"), D("0.00")),
        ("credit_applied", D("-50.00"), D("-50.00")),
    ]


async def test_one_batch_gives_and_uses_credit_in_order(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """In one call: a credit invoice, then two invoices of the same customer that use it
    (the first entirely, the second the rest), and a customer without credit."""
    ada = (await api.create_customer())["customerId"]
    bob = (await api.create_customer())["customerId"]
    bills = [
        bill(ada, -3000, "a1"), bill(ada, 2000, "a2"), bill(bob, 1500, "b1"),
        bill(ada, 2500, "a3"),
    ]  # fmt: skip
    issued, _ = await issue(database, tenant, bills)
    invoices = [row.invoice for row in issued if row is not None]
    assert [(i.total, i.credit_applied, i.status) for i in invoices] == [
        (-3000, 0, "paid"), (2000, 2000, "paid"), (1500, 0, "open"), (2500, 1000, "open"),
    ]  # fmt: skip
    payments = [row.payment.amount if row and row.payment else None for row in issued]
    assert payments == [None, None, 1500, 1500]
    assert await balance_of(api, ada) == (D("15.00"), D("0.00"))
    assert await balance_of(api, bob) == (D("15.00"), D("0.00"))
    await replayed(api, ada)
    await replayed(api, bob)
    allocated = await events_of(database, "credit_note.allocated")
    assert [e.data["allocatedAmount"] for e in allocated] == [D("20.00"), D("10.00")]


async def test_a_batch_costs_the_same_statements_for_one_invoice_or_forty(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customers = [(await api.create_customer())["customerId"] for _ in range(41)]
    _, one_credit = await issue(database, tenant, [bill(customers[0], -100, "one")])
    _, many_credits = await issue(
        database, tenant, [bill(c, -100, f"many{n}") for n, c in enumerate(customers[1:])]
    )
    assert 0 < many_credits == one_credit
    _, one_charge = await issue(database, tenant, [bill(customers[0], 500, "one-b")])
    _, many_charges = await issue(
        database, tenant, [bill(c, 500, f"many-b{n}") for n, c in enumerate(customers[1:])]
    )
    assert 0 < many_charges == one_charge
    async with database.transaction() as session:
        numbers = list(await session.scalars(select(CreditNote.number).order_by(CreditNote.id)))
    assert sorted(numbers) == [f"CN-{n:06d}" for n in range(1, 42)]
    for customer_id in (customers[0], customers[-1]):
        assert await balance_of(api, customer_id) == (D("4.00"), D("0.00"))


async def test_the_ledger_pages_by_sequence(api: Api, database: Database, tenant: Tenant) -> None:
    customer_id = (await api.create_customer())["customerId"]
    for n in range(5):
        await issue(database, tenant, [bill(customer_id, 100 * (n + 1), f"k{n}")])
    oldest_first = await ledger_of(api, customer_id, limit=2)
    assert [e["sequence"] for e in oldest_first] == [1, 2, 3, 4, 5]
    assert [e["balanceAfter"] for e in oldest_first] == [
        D("1.00"), D("3.00"), D("6.00"), D("10.00"), D("15.00"),
    ]  # fmt: skip
    first = oldest_first[0]
    assert set(first) == {
        "id", "sequence", "kind", "balanceChange", "unappliedChange", "balanceAfter",
        "unappliedAfter", "invoiceId", "paymentId", "creditNoteId", "transactionId",
        "description", "createdAt",
    }  # fmt: skip
    assert (first["kind"], first["description"], first["createdAt"]) == (
        "invoice_issued", "Invoice INV-000001 issued", "2025-01-10T09:00:00Z",
    )  # fmt: skip
    newest = await read(api, f"/v1/customers/{customer_id}/ledger", sortDir="desc", limit=2)
    assert [e["sequence"] for e in newest["entries"]] == [5, 4]
    assert (newest["count"], newest["limit"], newest["hasMore"]) == (2, 2, True)
    after = await read(
        api, f"/v1/customers/{customer_id}/ledger", sortDir="desc", startAfter=newest["nextCursor"]
    )
    assert [e["sequence"] for e in after["entries"]] == [3, 2, 1]
    assert after["nextCursor"] is None
    wrong = await api.get(f"/v1/customers/{customer_id}/ledger", sortBy="createdAt")
    assert (wrong.status_code, error_code(wrong)) == (400, "VALIDATION_ERROR")
    balance = await read(api, f"/v1/customers/{customer_id}/balance")
    assert balance == {
        "customerId": customer_id, "currency": "EUR", "balance": D("15.00"),
        "unappliedAmount": D("0.00"),
    }  # fmt: skip


async def test_an_unknown_customer_has_no_balance(api: Api) -> None:
    for path in ("/v1/customers/cust_unknown/balance", "/v1/customers/cust_unknown/ledger"):
        response = await api.get(path)
        assert (response.status_code, error_code(response)) == (404, "CUSTOMER_NOT_FOUND")


@pytest.mark.parametrize(
    ("status", "amount_paid", "credit_applied", "voidable"),
    [
        (InvoiceStatus.OPEN, 0, 0, True),
        (InvoiceStatus.OPEN, 2000, 2000, True),  # partly paid by credit
        (InvoiceStatus.PAID, 5999, 5999, True),  # paid by credit alone
        (InvoiceStatus.PAID, 5999, 2000, False),  # money paid the rest
        (InvoiceStatus.PAID, 5999, 0, False),
        (InvoiceStatus.PAID, 0, 0, False),  # a total of zero
        (InvoiceStatus.PARTIALLY_PAID, 3000, 1000, False),
        (InvoiceStatus.UNCOLLECTIBLE, 1000, 1000, True),
        (InvoiceStatus.VOID, 0, 0, False),
    ],
)
def test_what_customer_credit_allows_to_void(
    status: InvoiceStatus, amount_paid: int, credit_applied: int, voidable: bool
) -> None:
    if voidable:
        assert payment_lifecycle.void_invoice(status, amount_paid, credit_applied) == "void"
        return
    with pytest.raises(InvalidState) as refused:
        payment_lifecycle.void_invoice(status, amount_paid, credit_applied)
    assert refused.value.code == "INVALID_STATUS"
