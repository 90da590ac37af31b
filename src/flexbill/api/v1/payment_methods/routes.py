"""``/v1/payment-methods`` and customers' auto-charge switch (flexbill's addition)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.payment_methods.schemas import (
    AutoChargeBody,
    AutoChargeResult,
    PaymentMethodAnswer,
    PaymentMethodBody,
    PaymentMethodCreateBody,
    PaymentMethodList,
    PaymentMethodResult,
)
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.payments import methods

router = APIRouter(tags=["Payment methods"])

Reader = Annotated[Call, Depends(require("payments:read"))]
Writer = Annotated[Call, Depends(require("payments:write"))]

_FILTERS = filter_docs(
    {
        "customerId": "Required: the customer whose payment methods to list",
        "gateway": "`sandbox` or `manual`",
    }
)


@router.post("/payment-methods", response_model=PaymentMethodResult, status_code=201)
async def create_payment_method(call: Writer, body: PaymentMethodCreateBody) -> V1JSONResponse:
    """Attach a payment method to a customer: a gateway and the gateway's token for the
    card or account (never card data).

    The `sandbox` gateway behaves like a card processor and takes its test tokens:
    `tok_visa` and `tok_mastercard` succeed, `tok_insufficient_funds`, `tok_lost_card`,
    `tok_expired_card` and `tok_card_declined` are declined with that reason,
    `tok_network_error` never reaches the processor (the charge is retried later),
    `tok_delayed` is pending for 30 minutes and then succeeds, `tok_delayed_decline` is
    pending and then declined. Any other sandbox token is `400 VALIDATION_ERROR`.
    `manual` (bank transfer, cash) is never charged: its payments are marked paid.

    The customer's first method is the default; `isDefault: true` makes a new method the
    default instead of the current one. An unknown `customerId` is `404 CUSTOMER_NOT_FOUND`.
    """
    method = await methods.add_method(call.session, call.ctx, body.to_domain())
    return respond(
        PaymentMethodResult(
            message="Payment method created successfully",
            payment_method=PaymentMethodBody.of(method),
        ),
        status_code=201,
    )


@router.get("/payment-methods", response_model=PaymentMethodList, openapi_extra=_FILTERS)
async def list_payment_methods(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List one customer's payment methods (`customerId` is required) under the key
    `paymentMethods`, newest first by default.

    Sort with `sortBy` = `createdAt`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page. Removed methods are not listed.
    """
    page = await methods.list_methods(call.session, call.ctx, query.filters, query.page)
    return respond(
        PaymentMethodList(
            payment_methods=[PaymentMethodBody.of(method) for method in page.items],
            **page_fields(page),
        )
    )


@router.get("/payment-methods/{paymentMethodId}", response_model=PaymentMethodAnswer)
async def get_payment_method(paymentMethodId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one payment method. A removed or unknown one is `404 NOT_FOUND`."""
    method = await methods.get_method(call.session, call.ctx, paymentMethodId)
    return respond(PaymentMethodAnswer(payment_method=PaymentMethodBody.of(method)))


@router.delete("/payment-methods/{paymentMethodId}", response_model=PaymentMethodResult)
async def delete_payment_method(paymentMethodId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Remove a payment method: it is never charged again and is gone from the list
    (answered once more here with `status: removed`). When it was the default, the
    customer's newest remaining method becomes the default.

    A removed or unknown method is `404 NOT_FOUND`.
    """
    method = await methods.remove_method(call.session, call.ctx, paymentMethodId)
    return respond(
        PaymentMethodResult(
            message="Payment method removed successfully",
            payment_method=PaymentMethodBody.of(method),
        )
    )


@router.post("/customers/{customerId}/auto-charge", response_model=AutoChargeResult)
async def set_auto_charge(
    customerId: str,  # noqa: N803
    body: AutoChargeBody,
    call: Writer,
) -> V1JSONResponse:
    """Switch automatic collection on or off for a customer: with `enabled: true`, due
    payments are charged to the customer's default payment method, and failed ones are
    retried per the business unit's payment retry settings.

    Switching it on needs a default payment method a gateway can charge (not `manual`):
    otherwise `422 NO_PAYMENT_METHOD`. An unknown customer is `404 CUSTOMER_NOT_FOUND`.
    """
    customer = await methods.set_auto_charge(
        call.session, call.ctx, customerId, enabled=body.enabled
    )
    return respond(AutoChargeResult(customer_id=customer.id, auto_charge=customer.auto_charge))
