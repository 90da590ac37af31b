"""``/v1/customers``: list, get, create, update (seed 003) and soft delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.customers.schemas import (
    CustomerBody,
    CustomerCreateBody,
    CustomerList,
    CustomerResult,
    CustomerUpdateBody,
)
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.core.errors import ValidationFailed
from flexbill.customers import service

router = APIRouter(prefix="/customers", tags=["Customers"])

Reader = Annotated[Call, Depends(require("customers:read"))]
Writer = Annotated[Call, Depends(require("customers:write"))]

_FILTERS = filter_docs(
    {
        "status": "`active` or `inactive`",
        "customerType": "`individual` or `business`",
        "email": "Exact e-mail address (case-insensitive)",
        "hasActiveRentals": "`true`: only customers renting at least one device",
    },
    custom_fields=True,
)


@router.get("", response_model=CustomerList, openapi_extra=_FILTERS)
async def list_customers(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List customers, newest first by default.

    Sort with `sortBy` = `createdAt`, `updatedAt`, `firstName`, `lastName`, `email`,
    `totalMonthlyRevenue` or `totalDevicesRented`. Pass `nextCursor` as `startAfter` to get
    the next page; `nextCursor` is `null` on the last page.
    """
    page = await service.list_customers(call.session, call.ctx, query.filters, query.page)
    return respond(
        CustomerList(
            customers=[CustomerBody.of(c, call.ctx) for c in page.items],
            **page_fields(page),
        )
    )


@router.post("", response_model=CustomerResult, status_code=201)
async def create_customer(call: Writer, body: CustomerCreateBody) -> V1JSONResponse:
    """Create a customer (a flexbill addition: FlexPortal creates customers from orders).

    The e-mail is unique within the business unit; a second customer with the same e-mail
    is refused with `409 CUSTOMER_EXISTS`.
    """
    customer = await service.create_customer(call.session, call.ctx, body.to_domain())
    return respond(
        CustomerResult(
            message="Customer created successfully",
            customer_id=customer.id,
            customer=CustomerBody.of(customer, call.ctx),
        ),
        status_code=201,
    )


@router.get("/{customerId}", response_model=CustomerBody)
async def get_customer(customerId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one customer by ID."""
    customer = await service.get_customer(call.session, call.ctx, customerId)
    return respond(CustomerBody.of(customer, call.ctx))


@router.put("/{customerId}", response_model=CustomerResult)
async def update_customer(
    customerId: str,  # noqa: N803
    body: CustomerUpdateBody,
    call: Writer,
) -> V1JSONResponse:
    """Update a customer's name, company, phone, type, status and addresses.

    `customerId` in the body must match the path. A `billingAddress` or `shippingAddress`
    becomes the customer's `lastBillingAddress` / `lastShippingAddress`. Fields left out
    keep their value; the e-mail cannot be changed.
    """
    if body.customer_id != customerId:
        raise ValidationFailed.field(
            "customerId",
            "customerId in the body must match the customerId in the path",
            "invalid_string",
        )
    customer = await service.update_customer(call.session, call.ctx, customerId, body.to_domain())
    return respond(
        CustomerResult(
            message="Customer updated successfully",
            customer_id=customer.id,
            customer=CustomerBody.of(customer, call.ctx),
        )
    )


@router.delete("/{customerId}", response_model=CustomerResult)
async def delete_customer(customerId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Deactivate a customer (soft delete: the status becomes `inactive`).

    Refused with `409 CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS` while the customer rents devices.
    """
    customer = await service.deactivate_customer(call.session, call.ctx, customerId)
    return respond(
        CustomerResult(
            message="Customer deactivated",
            customer_id=customer.id,
            customer=CustomerBody.of(customer, call.ctx),
        )
    )
