"""``/v1/credit-notes``: money owed back to customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.credit_notes.schemas import (
    AllocateBody,
    CreditNoteAnswer,
    CreditNoteBody,
    CreditNoteCreateBody,
    CreditNoteList,
    CreditNoteResult,
    RefundBody,
    RefundResult,
    TransactionBody,
)
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.billing import credit_notes, refunds
from flexbill.core import clock

router = APIRouter(prefix="/credit-notes", tags=["Credit notes"])

Reader = Annotated[Call, Depends(require("credit-notes:read"))]
Writer = Annotated[Call, Depends(require("credit-notes:write"))]

_FILTERS = filter_docs(
    {
        "customerId": "Only credit notes of this customer",
        "invoiceId": "Only credit notes against this invoice",
        "status": "`unallocated`, `partially_allocated`, `allocated` or `cancelled`",
    }
)


def _result(message: str, view: credit_notes.CreditNoteView, call: Call) -> CreditNoteResult:
    return CreditNoteResult(message=message, credit_note=CreditNoteBody.of(view, call.ctx))


@router.post("", response_model=CreditNoteResult, status_code=201)
async def create_credit_note(call: Writer, body: CreditNoteCreateBody) -> V1JSONResponse:
    """Issue a credit note of `amount` against an invoice: the customer is owed that
    much back, as credit (`unappliedAmount` of `GET /v1/customers/{customerId}/balance`).

    With `apply` = `invoice` (the default) the credit goes to the invoice at once if it is
    open: its payment asks for that much less, and an invoice left with nothing to pay is
    `paid` (its payment cancelled: "Paid by credit note"). What the invoice does not need,
    and all of it with `apply` = `credit` or an invoice already paid, stays customer
    credit: the next invoices of the customer use it as they are issued, oldest credit
    note first. While a card payment of the invoice is being collected the credit stays
    customer credit too.

    Refusals: an unknown invoice is `404 INVOICE_NOT_FOUND`; a draft or void invoice
    `422 INVALID_STATUS`; credit notes adding up to more than the invoice's total
    `422 CREDIT_EXCEEDS_INVOICE`.
    """
    view = await credit_notes.create_credit_note(
        call.session, call.ctx, body.to_domain(call.ctx), now=clock.now()
    )
    return respond(_result("Credit note created", view, call), status_code=201)


@router.get("", response_model=CreditNoteList, openapi_extra=_FILTERS)
async def list_credit_notes(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List credit notes with their allocations under the key `creditNotes`, newest first
    by default.

    Sort with `sortBy` = `createdAt`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await credit_notes.list_credit_notes(call.session, call.ctx, query.filters, query.page)
    return respond(
        CreditNoteList(
            credit_notes=[CreditNoteBody.of(view, call.ctx) for view in page.items],
            **page_fields(page),
        )
    )


@router.get("/{creditNoteId}", response_model=CreditNoteAnswer)
async def get_credit_note(creditNoteId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one credit note with its allocations (to invoices, refunds, and
    allocations given back when an invoice was voided). An unknown credit note is
    `404 CREDIT_NOTE_NOT_FOUND`."""
    view = await credit_notes.get_credit_note(call.session, call.ctx, creditNoteId)
    return respond(CreditNoteAnswer(credit_note=CreditNoteBody.of(view, call.ctx)))


@router.post("/{creditNoteId}/allocate", response_model=CreditNoteResult)
async def allocate_credit_note(
    creditNoteId: str,  # noqa: N803
    body: AllocateBody,
    call: Writer,
) -> V1JSONResponse:
    """Apply part of the credit note's balance to an open invoice of the same customer;
    without `amount`, as much as the invoice still asks (up to the balance). The
    invoice's payment asks for that much less; an invoice left with nothing to pay is
    `paid`.

    Refusals: `404 CREDIT_NOTE_NOT_FOUND`, `404 INVOICE_NOT_FOUND`; another customer's
    invoice `400 VALIDATION_ERROR`; a cancelled note `409 CREDIT_NOTE_CANCELLED`; an
    invoice not open `422 INVALID_STATUS`; a payment of it being collected
    `409 PAYMENT_PROCESSING`; more than the balance `422 INSUFFICIENT_CREDIT`; more than
    the invoice asks `422 CREDIT_EXCEEDS_INVOICE`.
    """
    view = await credit_notes.allocate_credit_note(
        call.session, call.ctx, creditNoteId, body.invoice_id, body.amount_minor(call.ctx),
        now=clock.now(),
    )  # fmt: skip
    return respond(_result("Credit note allocated", view, call))


@router.post("/{creditNoteId}/refund", response_model=RefundResult)
async def refund_credit_note(
    creditNoteId: str,  # noqa: N803
    call: Writer,
    body: RefundBody | None = None,
) -> V1JSONResponse:
    """Pay back `amount` of the credit note's balance (all of it by default) as money:
    through the gateway of the card payment that paid its invoice, or, for an invoice
    paid another way, as a `manual` transaction (money you send yourself). The answer
    holds the refund's transaction.

    Send an `Idempotency-Key`: a request retried after a lost answer is answered again,
    never refunded twice.

    Refusals: `404 CREDIT_NOTE_NOT_FOUND`; a cancelled note `409 CREDIT_NOTE_CANCELLED`;
    more than the balance (or nothing left) `422 INSUFFICIENT_CREDIT`; a refund the
    gateway declines or a gateway that cannot be reached `422 REFUND_FAILED`, the
    gateway's reason in `details`. After a refusal nothing is refunded and the credit
    stays on the note.
    """
    amount = body.amount_minor(call.ctx) if body is not None else None
    refunded = await refunds.refund_credit_note(
        call.session, call.ctx, creditNoteId, amount, now=clock.now()
    )
    return respond(
        RefundResult(
            message="Credit note refunded",
            credit_note=CreditNoteBody.of(refunded.view, call.ctx),
            transaction=TransactionBody.of(refunded.transaction, call.ctx.currency),
        )
    )


@router.post("/{creditNoteId}/cancel", response_model=CreditNoteResult)
async def cancel_credit_note(creditNoteId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Cancel a credit note nothing of which was allocated or refunded: the customer's
    credit loses its amount.

    Refusals: `404 CREDIT_NOTE_NOT_FOUND`; already cancelled `409 CREDIT_NOTE_CANCELLED`;
    partly used `422 INVALID_STATUS`.
    """
    view = await credit_notes.cancel_credit_note(
        call.session, call.ctx, creditNoteId, now=clock.now()
    )
    return respond(_result("Credit note cancelled", view, call))
