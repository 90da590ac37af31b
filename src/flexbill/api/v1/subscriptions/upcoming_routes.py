"""``/v1/subscriptions/{id}/upcoming-invoice``: the next invoice of any subscription."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.subscriptions.upcoming_schemas import (
    UpcomingInvoiceAnswer,
    UpcomingInvoiceBody,
)
from flexbill.billing import upcoming as rental_upcoming
from flexbill.plan_subscriptions import upcoming as plan_upcoming
from flexbill.plan_subscriptions.models import ID_PREFIX as PLAN_SUBSCRIPTION_PREFIX

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])

Reader = Annotated[Call, Depends(require("subscriptions:read"))]


@router.get("/{subscriptionId}/upcoming-invoice", response_model=UpcomingInvoiceAnswer)
async def get_upcoming_invoice(subscriptionId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """What the subscription's next invoice will hold if nothing changes before it is
    issued on `billDate`: its lines, VAT and totals, and how much of the customer's
    unapplied credit it would use (`creditAvailable`, leaving `amountDue`).

    For a general subscription (`psub_…`, see `/v1/plan-subscriptions`): the periods of
    its items due on the next billing day, usage rated from what is recorded so far (with
    the tiers used), one-time prices, and the prorations waiting in `pendingCharges`.
    For a rental: the next billing period at its monthly amount (a `proration` line for a
    part of a month) and the setup fee while it is still due; a member of a billing group
    answers its share of the group's next invoice.

    Errors: `404 SUBSCRIPTION_NOT_FOUND`, `404 NO_UPCOMING_INVOICE` (nothing more will be
    billed: cancelled, ended or expired, suspended, or a contract with no day left to
    bill).
    """
    if subscriptionId.startswith(f"{PLAN_SUBSCRIPTION_PREFIX}_"):
        upcoming = await plan_upcoming.next_invoice(call.session, call.ctx, subscriptionId)
    else:
        upcoming = await rental_upcoming.next_invoice(call.session, call.ctx, subscriptionId)
    if upcoming is None:
        raise rental_upcoming.no_upcoming_invoice(subscriptionId)
    return respond(UpcomingInvoiceAnswer(upcoming_invoice=UpcomingInvoiceBody.of(upcoming)))
