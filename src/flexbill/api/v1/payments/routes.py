"""``/v1/payments``: scheduled payments (FlexPortal's Payments)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.payments.schemas import (
    CancelBody,
    MarkPaidBody,
    PaymentAnswer,
    PaymentBody,
    PaymentList,
    PaymentResult,
)
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.billing import payments
from flexbill.core import clock

router = APIRouter(prefix="/payments", tags=["Payments"])

Reader = Annotated[Call, Depends(require("payments:read"))]
Writer = Annotated[Call, Depends(require("payments:write"))]

_FILTERS = filter_docs(
    {
        "status": "`pending`, `processing`, `paid`, `failed` or `cancelled`",
        "customerId": "Only payments of this customer",
        "rentalId": "Only the individual payments of this subscription",
        "billingGroupId": "Only the consolidated payments of this billing group",
        "dueDateFrom": "Only payments due on or after this date (YYYY-MM-DD)",
        "dueDateTo": "Only payments due on or before this date (YYYY-MM-DD)",
    }
)


@router.get("", response_model=PaymentList, openapi_extra=_FILTERS)
async def list_payments(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List scheduled payments under the key `payments`, newest first by default.

    Sort with `sortBy` = `createdAt`, `updatedAt`, `dueDate` or `amount`. Pass
    `nextCursor` as `startAfter` to get the next page; `nextCursor` is `null` on the last
    page. A billing group's payments are `consolidated`: find them with `billingGroupId`.
    """
    page = await payments.list_payments(call.session, call.ctx, query.filters, query.page)
    return respond(
        PaymentList(
            payments=[PaymentBody.of(view, call.ctx) for view in page.items],
            **page_fields(page),
        )
    )


@router.get("/{paymentId}", response_model=PaymentAnswer)
async def get_payment(paymentId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one payment with its invoice number and line items.

    An unknown payment is `404 NOT_FOUND`.
    """
    view = await payments.get_payment(call.session, call.ctx, paymentId)
    return respond(PaymentAnswer(payment=PaymentBody.of(view, call.ctx)))


@router.post("/{paymentId}/mark-paid", response_model=PaymentResult)
async def mark_payment_paid(
    paymentId: str,  # noqa: N803
    call: Writer,
    body: MarkPaidBody | None = None,
) -> V1JSONResponse:
    """Record a payment received outside automated collection (bank transfer, cheque,
    cash).

    Only a `pending` or `failed` payment can be marked paid. It becomes `paid` with
    `manuallyMarked: true` and provider `manual`; `paidAt` (default now, never in the
    future) is when the money arrived, `paymentReference` (or `reference`) the bank
    reference or cheque number. Its invoice is paid, the subscriptions it bills count the
    money in their cost recovery (`totalCollected`) and the customer in
    `lifetimeCollected`; a `payment.succeeded` event is sent.

    Refused with `409 ALREADY_PAID`, `409 PAYMENT_CANCELLED`, or `409 PAYMENT_PROCESSING`
    while a card payment attempt is running. An unknown payment is `404 NOT_FOUND`.
    """
    received = (body or MarkPaidBody()).to_domain()
    view = await payments.mark_paid(call.session, call.ctx, paymentId, received, now=clock.now())
    return respond(
        PaymentResult(message="Payment marked as paid", payment=PaymentBody.of(view, call.ctx))
    )


@router.post("/{paymentId}/cancel", response_model=PaymentResult)
async def cancel_payment(
    paymentId: str,  # noqa: N803
    body: CancelBody,
    call: Writer,
) -> V1JSONResponse:
    """Cancel a `pending` or `failed` payment, with a required `reason`: it will never be
    collected, and its invoice becomes `void`. This cannot be undone.

    Refused with `409 ALREADY_PAID` (refund it instead), `409 PAYMENT_CANCELLED`, or
    `409 PAYMENT_PROCESSING` while a card payment attempt is running. An unknown payment
    is `404 NOT_FOUND`.
    """
    view = await payments.cancel_payment(
        call.session, call.ctx, paymentId, body.reason, now=clock.now()
    )
    return respond(
        PaymentResult(message="Payment cancelled", payment=PaymentBody.of(view, call.ctx))
    )
