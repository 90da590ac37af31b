"""Refunds of credit notes: through the sandbox card that paid the invoice, or as money
the business sends itself; never twice for one attempt, nothing kept when declined."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from flexbill.billing import collection
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.payments.sandbox import SandboxGateway, default_ledger
from tests.credit.support import (
    T0,
    D,
    balance_of,
    bill_now,
    credit_note,
    latest,
    mark_paid,
    note_of,
    rented,
    replayed,
    transactions_of,
)
from tests.orders.support import tenant_context
from tests.payments.factories import auto_charge
from tests.subscriptions.support import events_of, exact
from tests.support import Api, Tenant, error_code


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def paid_by_card(
    api: Api, database: Database, tenant: Tenant, token: str = "tok_visa"
) -> tuple[str, str, str]:
    """A rental whose first invoice (84.99) was charged to a sandbox card: the customer,
    the invoice and the payment."""
    customer_id = await rented(api, database, tenant)
    await auto_charge(api, customer_id, token)
    billed = await latest(api, database, customer_id)
    assert billed.payment is not None
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        outcome = await collection.collect(session, ctx, billed.payment.id, clock.now())
    assert outcome is collection.Outcome.PAID
    return customer_id, billed.invoice["invoiceId"], billed.payment.id


async def refund(
    api: Api, note_id: str, body: dict[str, Any] | None = None, key: str | None = None
) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return await api.post(f"/v1/credit-notes/{note_id}/refund", body or {}, headers=headers)


async def test_a_refund_goes_back_through_the_card_once(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id, invoice_id, payment_id = await paid_by_card(api, database, tenant)
    note = await credit_note(api, invoice_id, "20.00", reason="Late delivery")
    assert note["status"] == "unallocated"  # a paid invoice: kept as credit
    note_id = note["creditNoteId"]

    response = await refund(api, note_id, {"amount": 15}, key="refund-cn-1")
    assert response.status_code == 200, response.text
    answer = exact(response)
    transaction = answer["transaction"]
    assert transaction == {
        "transactionId": transaction["transactionId"], "paymentId": payment_id,
        "gateway": "sandbox", "kind": "refund", "status": "succeeded",
        "amount": D("15.00"), "currency": "EUR",
        "gatewayReference": transaction["gatewayReference"],
        "idempotencyKey": f"{note_id}:refund:1", "createdAt": "2025-01-10T09:00:00Z",
    }  # fmt: skip
    assert transaction["gatewayReference"].startswith("re_sandbox_")
    refunded = answer["creditNote"]
    assert (refunded["status"], refunded["balance"]) == ("partially_allocated", D("5.00"))
    assert [(a["kind"], a["transactionId"], a["amount"]) for a in refunded["allocations"]] == [
        ("refund", transaction["transactionId"], D("15.00")),
    ]

    again = await refund(api, note_id, {"amount": 15}, key="refund-cn-1")
    assert again.status_code == 200
    assert exact(again) == answer
    sandbox = default_ledger()
    ctx = await tenant_context(database, tenant)
    (made,) = sandbox.refunds(ctx.tenant_id, f"{note_id}:")
    assert (made.amount, made.reference) == (1500, transaction["gatewayReference"])
    (charged,) = await transactions_of(database, f"{payment_id}:attempt:")
    assert made.charge_reference == charged.gateway_reference

    rest = await refund(api, note_id)  # the balance left: 5.00, attempt 2
    assert rest.status_code == 200, rest.text
    second = exact(rest)
    assert second["transaction"]["idempotencyKey"] == f"{note_id}:refund:2"
    assert second["transaction"]["amount"] == D("5.00")
    assert (second["creditNote"]["status"], second["creditNote"]["balance"]) == (
        "allocated", D("0.00"),
    )  # fmt: skip
    assert [r.amount for r in sandbox.refunds(ctx.tenant_id, f"{note_id}:")] == [1500, 500]
    rows = await transactions_of(database, f"{note_id}:refund:")
    assert [(r.kind, r.status, r.amount, r.attempt) for r in rows] == [
        ("refund", "succeeded", 1500, 1), ("refund", "succeeded", 500, 2),
    ]  # fmt: skip
    assert await replayed(api, customer_id) == [
        ("invoice_issued", D("84.99"), D("0.00")),
        ("payment_received", D("-84.99"), D("0.00")),
        ("credit_note_issued", D("0.00"), D("20.00")),
        ("credit_refunded", D("0.00"), D("-15.00")),
        ("credit_refunded", D("0.00"), D("-5.00")),
    ]
    events = await events_of(database, "credit_note.refunded")
    assert [(e.data["refundedAmount"], e.data["balance"]) for e in events] == [
        (D("15.00"), D("5.00")), (D("5.00"), D("0.00")),
    ]  # fmt: skip
    nothing_left = await refund(api, note_id)
    assert nothing_left.status_code == 422
    assert error_code(nothing_left) == "INSUFFICIENT_CREDIT"


async def test_a_refund_already_made_at_the_gateway_is_not_made_twice(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """A request that died after the gateway refunded and before its commit left nothing
    in the database: asked again, attempt 1 gets the refund already made."""
    _, invoice_id, _ = await paid_by_card(api, database, tenant)
    note = await credit_note(api, invoice_id, "10.00")
    note_id = note["creditNoteId"]
    (charge,) = await transactions_of(database, "pay_")
    ctx = await tenant_context(database, tenant)
    lost = await SandboxGateway(None, ctx.tenant_id).refund(
        charge_reference=charge.gateway_reference, amount=1000, currency="EUR",
        idempotency_key=f"{note_id}:refund:1", now=clock.now(),
    )  # fmt: skip
    response = await refund(api, note_id)
    assert response.status_code == 200, response.text
    assert exact(response)["transaction"]["gatewayReference"] == lost.reference
    assert len(default_ledger().refunds(ctx.tenant_id, f"{note_id}:")) == 1


async def test_a_declined_refund_keeps_the_credit(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id, invoice_id, _ = await paid_by_card(api, database, tenant, "tok_refund_declined")
    note = await credit_note(api, invoice_id, "10.00")
    response = await refund(api, note["creditNoteId"])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "REFUND_FAILED"
    assert error["details"] == [
        {"path": "", "message": "The card issuer declined the refund.", "code": "refund_declined"}
    ]
    kept = await note_of(api, note["creditNoteId"])
    assert (kept["status"], kept["balance"], kept["allocations"]) == (
        "unallocated", D("10.00"), [],
    )  # fmt: skip
    assert await transactions_of(database, f"{note['creditNoteId']}:") == []
    ctx = await tenant_context(database, tenant)
    assert default_ledger().refunds(ctx.tenant_id, f"{note['creditNoteId']}:") == []
    assert await balance_of(api, customer_id) == (D("0.00"), D("10.00"))
    assert await events_of(database, "credit_note.refunded") == []


async def test_more_than_the_card_charged_is_declined(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """February's invoice (59.99) was paid with 30.00 of credit and 29.99 by card: a
    credit note of its whole total goes back through the card only up to 29.99."""
    customer_id = await rented(api, database, tenant)
    first = await latest(api, database, customer_id)
    assert first.payment is not None
    await mark_paid(api, first.payment.id)
    await credit_note(api, first.invoice["invoiceId"], "30.00")
    await auto_charge(api, customer_id)
    clock.advance(timedelta(days=31))
    await bill_now(database, tenant)
    february = await latest(api, database, customer_id)
    assert february.payment is not None
    assert february.payment.amount == 2999
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await collection.collect(session, ctx, february.payment.id, clock.now())
    note = await credit_note(api, february.invoice["invoiceId"], "59.99")
    assert note["status"] == "unallocated"
    whole = await refund(api, note["creditNoteId"])
    assert (whole.status_code, error_code(whole)) == (422, "REFUND_FAILED")
    assert whole.json()["error"]["details"][0]["code"] == "amount_too_large"
    charged = await refund(api, note["creditNoteId"], {"amount": 29.99})
    assert charged.status_code == 200, charged.text
    assert exact(charged)["transaction"]["idempotencyKey"].endswith(":refund:1")
    assert await balance_of(api, customer_id) == (D("0.00"), D("30.00"))
    await replayed(api, customer_id)


async def test_an_invoice_paid_outside_the_gateways_is_refunded_by_hand(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id = await rented(api, database, tenant)
    billed = await latest(api, database, customer_id)
    assert billed.payment is not None
    await mark_paid(api, billed.payment.id)
    note = await credit_note(api, billed.invoice["invoiceId"], "84.99")
    response = await refund(api, note["creditNoteId"], {"amount": 80})
    assert response.status_code == 200, response.text
    transaction = exact(response)["transaction"]
    assert (transaction["gateway"], transaction["status"], transaction["amount"]) == (
        "manual", "succeeded", D("80.00"),
    )  # fmt: skip
    assert (transaction["paymentId"], transaction["gatewayReference"]) == (billed.payment.id, None)
    assert await balance_of(api, customer_id) == (D("0.00"), D("4.99"))


async def test_refund_refusals(api: Api, database: Database, tenant: Tenant) -> None:
    customer_id, invoice_id, _ = await paid_by_card(api, database, tenant)
    note = await credit_note(api, invoice_id, "10.00")
    too_much = await refund(api, note["creditNoteId"], {"amount": 10.01})
    assert (too_much.status_code, error_code(too_much)) == (422, "INSUFFICIENT_CREDIT")
    for body in ({"amount": 0}, {"amount": -1}, {"amount": 1.001}):
        invalid = await refund(api, note["creditNoteId"], body)
        assert (invalid.status_code, error_code(invalid)) == (400, "VALIDATION_ERROR"), body
    unknown = await refund(api, "cn_unknown")
    assert (unknown.status_code, error_code(unknown)) == (404, "CREDIT_NOTE_NOT_FOUND")
    cancel = await api.post(f"/v1/credit-notes/{note['creditNoteId']}/cancel", {})
    assert cancel.status_code == 200
    cancelled = await refund(api, note["creditNoteId"])
    assert (cancelled.status_code, error_code(cancelled)) == (409, "CREDIT_NOTE_CANCELLED")
    assert await balance_of(api, customer_id) == (D("0.00"), D("0.00"))
