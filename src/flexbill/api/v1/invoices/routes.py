"""``/v1/invoices``: the invoices behind scheduled payments (flexbill's addition)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.invoices.schemas import InvoiceBody, InvoiceList, InvoiceResult, VoidBody
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.billing import invoices
from flexbill.core import clock

router = APIRouter(prefix="/invoices", tags=["Invoices"])

Reader = Annotated[Call, Depends(require("invoices:read"))]
Writer = Annotated[Call, Depends(require("invoices:write"))]

_FILTERS = filter_docs(
    {
        "status": "`draft`, `open`, `partially_paid`, `paid`, `void` or `uncollectible`",
        "customerId": "Only invoices of this customer",
        "subscriptionId": "Only the individual invoices of this subscription",
        "billingGroupId": "Only the consolidated invoices of this billing group",
        "dueDateFrom": "Only invoices due on or after this date (YYYY-MM-DD)",
        "dueDateTo": "Only invoices due on or before this date (YYYY-MM-DD)",
    }
)


@router.get("", response_model=InvoiceList, openapi_extra=_FILTERS)
async def list_invoices(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List invoices with their lines, newest first by default.

    One invoice per subscription (or billing group) and billing period. Sort with
    `sortBy` = `createdAt` or `dueDate`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await invoices.list_invoices(call.session, call.ctx, query.filters, query.page)
    return respond(
        InvoiceList(
            invoices=[InvoiceBody.of(invoice, call.ctx) for invoice in page.items],
            **page_fields(page),
        )
    )


@router.get("/{invoiceId}", response_model=InvoiceBody)
async def get_invoice(invoiceId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one invoice with its lines. An unknown invoice is `404 NOT_FOUND`."""
    invoice = await invoices.get_invoice(call.session, call.ctx, invoiceId)
    return respond(InvoiceBody.of(invoice, call.ctx))


@router.post("/{invoiceId}/void", response_model=InvoiceResult)
async def void_invoice(
    invoiceId: str,  # noqa: N803
    call: Writer,
    body: VoidBody | None = None,
) -> V1JSONResponse:
    """Void an invoice nothing was paid for: nothing is owed any more, and its `pending`
    or `failed` payment is cancelled (with `reason` when given). This cannot be undone.

    A paid or void invoice, or one partly paid, is refused with `422 INVALID_STATUS`;
    while a card payment attempt for it is running, with `409 PAYMENT_PROCESSING`. An
    unknown invoice is `404 NOT_FOUND`.
    """
    reason = body.reason if body else None
    invoice = await invoices.void_invoice(
        call.session, call.ctx, invoiceId, now=clock.now(), reason=reason
    )
    return respond(
        InvoiceResult(message="Invoice voided", invoice=InvoiceBody.of(invoice, call.ctx))
    )
