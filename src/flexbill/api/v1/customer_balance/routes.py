"""``/v1/customers/{customerId}/balance`` and ``…/ledger``: what a customer owes and holds."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from flexbill.api.v1.customer_balance.schemas import BalanceBody, LedgerEntryBody, LedgerList
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.billing import ledger
from flexbill.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest

router = APIRouter(prefix="/customers", tags=["Customers"])

Reader = Annotated[Call, Depends(require("customers:read"))]


async def ledger_page(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (max {MAX_LIMIT})")
    ] = DEFAULT_LIMIT,
    start_after: Annotated[
        str | None, Query(alias="startAfter", description="`nextCursor` of the previous page")
    ] = None,
    sort_by: Annotated[str, Query(alias="sortBy", description="`sequence`")] = "sequence",
    sort_dir: Annotated[
        Literal["asc", "desc"], Query(alias="sortDir", description="Default `asc`: oldest first")
    ] = "asc",
) -> PageRequest:
    return PageRequest(
        limit=limit, start_after=start_after or None, sort_by=sort_by, sort_dir=sort_dir
    )


@router.get("/{customerId}/balance", response_model=BalanceBody)
async def get_balance(customerId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """What the customer owes on issued invoices (`balance`) and the credit it holds
    (`unappliedAmount`: credit notes not yet applied or refunded). Every change of either
    is an entry of `GET /v1/customers/{customerId}/ledger`.

    An unknown customer is `404 CUSTOMER_NOT_FOUND`.
    """
    view = await ledger.customer_balance(call.session, call.ctx, customerId)
    return respond(BalanceBody.of(view, call.ctx.currency))


@router.get("/{customerId}/ledger", response_model=LedgerList)
async def list_ledger(
    customerId: str,  # noqa: N803
    call: Reader,
    page: Annotated[PageRequest, Depends(ledger_page)],
) -> V1JSONResponse:
    """The movements of the customer's balance and credit under the key `entries`, oldest
    first by default (`sortBy` = `sequence`, `sortDir` = `asc` or `desc`): invoices issued
    and voided, payments received, credit notes issued, applied, refunded and cancelled.
    Each entry holds both values after it, so the entries explain the balance. Pass
    `nextCursor` as `startAfter` to get the next page.

    An unknown customer is `404 CUSTOMER_NOT_FOUND`.
    """
    found = await ledger.ledger_entries(call.session, call.ctx, customerId, page)
    currency = call.ctx.currency
    return respond(
        LedgerList(
            entries=[LedgerEntryBody.of(entry, currency) for entry in found.items],
            **page_fields(found),
        )
    )
