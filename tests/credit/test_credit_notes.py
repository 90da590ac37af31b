"""Credit notes through /v1: kept as credit and used by the next invoices of the billing
run, applied to an open invoice at once or by hand, cancelled; every balance explained by
the customer's ledger, to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.credit.support import (
    T0,
    D,
    balance_of,
    bill_now,
    credit_note,
    invoice_row,
    invoices,
    latest,
    mark_paid,
    note_of,
    payment_of,
    rented,
    replayed,
)
from tests.subscriptions.support import events_of, exact
from tests.support import Api, Tenant

NOTE_FIELDS = {
    "creditNoteId", "number", "customerId", "invoiceId", "status", "amount", "balance",
    "currency", "reason", "reference", "allocations", "createdBy", "cancelledAt",
    "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def test_credit_kept_for_later_pays_part_of_the_next_invoice(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    note = await credit_note(
        api, first.invoice["invoiceId"], "30.00", apply="credit", reason="Scratched case",
        reference="TICKET-7",
    )  # fmt: skip
    assert set(note) == NOTE_FIELDS
    assert note == {
        "creditNoteId": note["creditNoteId"], "number": "CN-000001",
        "customerId": customer_id, "invoiceId": first.invoice["invoiceId"],
        "status": "unallocated", "amount": D("30.00"), "balance": D("30.00"),
        "currency": "EUR", "reason": "Scratched case", "reference": "TICKET-7",
        "allocations": [], "createdBy": note["createdBy"], "cancelledAt": None,
        "createdAt": "2025-01-10T09:00:00Z", "updatedAt": "2025-01-10T09:00:00Z",
    }  # fmt: skip
    assert await balance_of(api, customer_id) == (D("0.00"), D("30.00"))

    clock.advance(timedelta(days=31))  # 10 February: the second period
    assert (await bill_now(database, tenant)).invoices == 1
    second = await latest(api, database, customer_id)
    assert second.payment is not None
    assert (second.invoice["total"], second.invoice["amountPaid"]) == (D("59.99"), D("30.00"))
    assert (second.invoice["amountDue"], second.invoice["status"]) == (D("29.99"), "open")
    assert (second.payment.amount, second.payment.original_amount) == (2999, 2999)
    assert (await invoice_row(database, second.invoice["invoiceId"])).credit_applied == 3000
    (_, next_scheduled) = await events_of(database, "payment.scheduled")
    assert next_scheduled.data["amount"] == D("29.99")

    used = await note_of(api, note["creditNoteId"])
    assert (used["status"], used["balance"]) == ("allocated", D("0.00"))
    (allocation,) = used["allocations"]
    assert (allocation["kind"], allocation["invoiceId"], allocation["amount"]) == (
        "invoice", second.invoice["invoiceId"], D("30.00"),
    )  # fmt: skip
    (allocated,) = await events_of(database, "credit_note.allocated")
    assert (allocated.data["allocatedInvoiceId"], allocated.data["allocatedAmount"]) == (
        second.invoice["invoiceId"], D("30.00"),
    )  # fmt: skip
    assert (allocated.data["status"], allocated.data["balance"]) == ("allocated", D("0.00"))

    await mark_paid(api, second.payment.id)
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("payment_received", D("-84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("30.00")),
        ("invoice_issued", D("59.99"), D("0.00")),
        ("credit_applied", D("-30.00"), D("-30.00")),
        ("payment_received", D("-29.99"), D("0.00")),
    ]
    assert await balance_of(api, customer_id) == (D("0.00"), D("0.00"))
    paid = await latest(api, database, customer_id)
    assert (paid.invoice["status"], paid.invoice["amountPaid"]) == ("paid", D("59.99"))


async def test_credit_larger_than_an_invoice_is_spread_over_the_next_ones(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """70.00 of credit: the February invoice (59.99) is paid by it at once, without a
    payment; the March invoice takes the 10.01 left."""
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    note = await credit_note(api, first.invoice["invoiceId"], "70", apply="credit")

    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    february = await latest(api, database, customer_id)
    assert february.payment is None  # nothing left to collect
    assert (february.invoice["status"], february.invoice["amountDue"]) == ("paid", D("0.00"))
    assert february.invoice["paidAt"] == "2025-02-10T09:00:00Z"
    partly = await note_of(api, note["creditNoteId"])
    assert (partly["status"], partly["balance"]) == ("partially_allocated", D("10.01"))

    clock.advance(timedelta(days=28))
    await bill_now(database, tenant)
    march = await latest(api, database, customer_id)
    assert march.payment is not None
    assert (march.invoice["amountPaid"], march.payment.amount) == (D("10.01"), 4998)
    used = await note_of(api, note["creditNoteId"])
    assert (used["status"], used["balance"]) == ("allocated", D("0.00"))
    assert [(a["invoiceId"], a["amount"]) for a in used["allocations"]] == [
        (february.invoice["invoiceId"], D("59.99")),
        (march.invoice["invoiceId"], D("10.01")),
    ]
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("payment_received", D("-84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("70.00")),
        ("invoice_issued", D("59.99"), D("0.00")),
        ("credit_applied", D("-59.99"), D("-59.99")),
        ("invoice_issued", D("59.99"), D("0.00")),
        ("credit_applied", D("-10.01"), D("-10.01")),
    ]
    assert await balance_of(api, customer_id) == (D("49.98"), D("0.00"))


async def test_the_oldest_credit_note_is_used_first(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    invoice_id = first.invoice["invoiceId"]
    older = await credit_note(api, invoice_id, "50.00", apply="credit")
    clock.advance(timedelta(minutes=1))
    newer = await credit_note(api, invoice_id, "20.00", apply="credit")
    assert (older["number"], newer["number"]) == ("CN-000001", "CN-000002")
    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    assert (await note_of(api, older["creditNoteId"]))["balance"] == D("0.00")
    assert (await note_of(api, newer["creditNoteId"]))["balance"] == D("10.01")
    assert await balance_of(api, customer_id) == (D("0.00"), D("10.01"))


async def test_a_credit_note_on_an_open_invoice_lowers_its_payment(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    invoice_id = (await latest(api, database, customer_id)).invoice["invoiceId"]
    note = await credit_note(api, invoice_id, "25.00", reason="Setup waived")
    assert (note["status"], note["balance"]) == ("allocated", D("0.00"))
    assert [(a["kind"], a["invoiceId"], a["amount"]) for a in note["allocations"]] == [
        ("invoice", invoice_id, D("25.00")),
    ]
    payment = await payment_of(database, invoice_id)
    assert payment is not None
    assert (payment.status, payment.amount, payment.original_amount) == ("pending", 5999, 5999)
    invoice = (await latest(api, database, customer_id)).invoice
    assert (invoice["status"], invoice["amountPaid"], invoice["amountDue"]) == (
        "open", D("25.00"), D("59.99"),
    )  # fmt: skip

    rest = await credit_note(api, invoice_id, "59.99")
    assert rest["status"] == "allocated"
    payment = await payment_of(database, invoice_id)
    assert payment is not None
    assert (payment.status, payment.amount, payment.cancellation_reason) == (
        "cancelled", 0, "Paid by credit note",
    )  # fmt: skip
    invoice = (await latest(api, database, customer_id)).invoice
    assert (invoice["status"], invoice["amountDue"]) == ("paid", D("0.00"))
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("25.00")),
        ("credit_applied", D("-25.00"), D("-25.00")),
        ("credit_note_issued", D("0.00"), D("59.99")),
        ("credit_applied", D("-59.99"), D("-59.99")),
    ]
    assert [e.data["number"] for e in await events_of(database, "credit_note.created")] == [
        "CN-000001", "CN-000002",
    ]  # fmt: skip


async def test_credit_beyond_what_an_open_invoice_asks_stays_customer_credit(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """February's invoice (59.99) got 30.00 of older credit; a credit note of its whole
    total applies the 29.99 it still asks and keeps 30.00 as customer credit."""
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    await credit_note(api, first.invoice["invoiceId"], "30.00", apply="credit")
    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    february = (await latest(api, database, customer_id)).invoice
    note = await credit_note(api, february["invoiceId"], "59.99")
    assert (note["status"], note["balance"]) == ("partially_allocated", D("30.00"))
    assert [a["amount"] for a in note["allocations"]] == [D("29.99")]
    assert (await latest(api, database, customer_id)).invoice["status"] == "paid"
    assert await balance_of(api, customer_id) == (D("0.00"), D("30.00"))
    await replayed(api, customer_id)


async def test_allocate_applies_credit_to_another_open_invoice(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    note = await credit_note(api, first.invoice["invoiceId"], "40.00")  # paid: kept as credit
    assert note["status"] == "unallocated"
    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    # The run used the credit already; give it back by hand to see allocate at work.
    february = await latest(api, database, customer_id)
    assert february.invoice["amountPaid"] == D("40.00")
    extra = await credit_note(api, first.invoice["invoiceId"], "44.99", apply="credit")
    response = await api.post(
        f"/v1/credit-notes/{extra['creditNoteId']}/allocate",
        {"invoiceId": february.invoice["invoiceId"], "amount": 15},
    )
    assert response.status_code == 200, response.text
    allocated = exact(response)["creditNote"]
    assert (allocated["status"], allocated["balance"]) == ("partially_allocated", D("29.99"))
    payment = await payment_of(database, february.invoice["invoiceId"])
    assert payment is not None
    assert payment.amount == 499
    # Without an amount: what the invoice still asks (4.99).
    response = await api.post(
        f"/v1/credit-notes/{extra['creditNoteId']}/allocate",
        {"invoiceId": february.invoice["invoiceId"]},
    )
    assert response.status_code == 200, response.text
    assert exact(response)["creditNote"]["balance"] == D("25.00")
    payment = await payment_of(database, february.invoice["invoiceId"])
    assert payment is not None
    assert (payment.status, payment.cancellation_reason) == ("cancelled", "Paid by credit note")
    assert (await latest(api, database, customer_id)).invoice["status"] == "paid"
    assert await balance_of(api, customer_id) == (D("0.00"), D("25.00"))
    await replayed(api, customer_id)


async def test_cancel_takes_unused_credit_back(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    invoice_id = (await latest(api, database, customer_id)).invoice["invoiceId"]
    note = await credit_note(api, invoice_id, "12.50", apply="credit")
    response = await api.post(f"/v1/credit-notes/{note['creditNoteId']}/cancel", {})
    assert response.status_code == 200, response.text
    done = exact(response)["creditNote"]
    assert (done["status"], done["balance"], done["cancelledAt"]) == (
        "cancelled", D("0.00"), "2025-01-10T09:00:00Z",
    )  # fmt: skip
    again = await api.post(f"/v1/credit-notes/{note['creditNoteId']}/cancel", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CREDIT_NOTE_CANCELLED"
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("12.50")),
        ("credit_note_cancelled", D("0.00"), D("-12.50")),
    ]
    (event,) = await events_of(database, "credit_note.cancelled")
    assert (event.data["creditNoteId"], event.data["status"]) == (note["creditNoteId"], "cancelled")
    # A cancelled note no longer counts against the invoice's total.
    whole = await credit_note(api, invoice_id, "84.99")
    assert whole["status"] == "allocated"
    used = await api.post(f"/v1/credit-notes/{whole['creditNoteId']}/cancel", {})
    assert used.status_code == 422
    assert used.json()["error"]["code"] == "INVALID_STATUS"


async def test_voiding_an_invoice_paid_by_credit_gives_the_credit_back(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    note = await credit_note(api, first.invoice["invoiceId"], "84.99", apply="credit")
    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    february = (await latest(api, database, customer_id)).invoice
    assert february["status"] == "paid"
    assert await balance_of(api, customer_id) == (D("0.00"), D("25.00"))

    response = await api.post(f"/v1/invoices/{february['invoiceId']}/void", {})
    assert response.status_code == 200, response.text
    voided = exact(response)["invoice"]
    assert (voided["status"], voided["amountPaid"], voided["amountDue"]) == (
        "void", D("0.00"), D("0.00"),
    )  # fmt: skip
    back = await note_of(api, note["creditNoteId"])
    assert (back["status"], back["balance"]) == ("unallocated", D("84.99"))
    assert [(a["kind"], a["amount"]) for a in back["allocations"]] == [
        ("invoice", D("59.99")), ("reversal", D("-59.99")),
    ]  # fmt: skip
    assert await balance_of(api, customer_id) == (D("0.00"), D("84.99"))
    assert (await replayed(api, customer_id))[-3:] == [
        ("credit_applied", D("-59.99"), D("-59.99")),
        ("credit_applied", D("59.99"), D("59.99")),
        ("invoice_voided", D("-59.99"), D("0.00")),
    ]
    # Money paid for an invoice still refuses voiding.
    paid = await api.post(f"/v1/invoices/{first.invoice['invoiceId']}/void", {})
    assert paid.status_code == 422
    assert paid.json()["error"]["code"] == "INVALID_STATUS"
    # The credit given back is used by the next invoice.
    clock.advance(timedelta(days=28))
    await bill_now(database, tenant)
    march = (await latest(api, database, customer_id)).invoice
    assert (march["status"], march["amountPaid"]) == ("paid", D("59.99"))
    assert len(await invoices(api, customer_id)) == 3


async def test_voiding_an_open_invoice_partly_paid_by_credit(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    invoice_id = (await latest(api, database, customer_id)).invoice["invoiceId"]
    note = await credit_note(api, invoice_id, "20.00")
    response = await api.post(f"/v1/invoices/{invoice_id}/void", {"reason": "Order cancelled"})
    assert response.status_code == 200, response.text
    payment = await payment_of(database, invoice_id)
    assert payment is not None
    assert (payment.status, payment.cancellation_reason) == ("cancelled", "Order cancelled")
    assert (await note_of(api, note["creditNoteId"]))["balance"] == D("20.00")
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("20.00")),
        ("credit_applied", D("-20.00"), D("-20.00")),
        ("credit_applied", D("20.00"), D("20.00")),
        ("invoice_voided", D("-84.99"), D("0.00")),
    ]
    # The note's own invoice is void now: it can be cancelled, nothing of it being used.
    cancelled = await api.post(f"/v1/credit-notes/{note['creditNoteId']}/cancel", {})
    assert cancelled.status_code == 200, cancelled.text
    assert await balance_of(api, customer_id) == (D("0.00"), D("0.00"))
