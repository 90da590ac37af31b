"""Returning a rented device before the contract's end, for a fee.

The fee is quoted from the business unit's early-return settings
(``quotes.quote_early_return``) unless the caller sets it by hand, which the settings may
forbid, or waives it. The subscription ends as ``ended_early_return``; the unit comes
back ``returned`` (to be inspected before it is rented again), or ``unavailable`` when it
came back damaged. A return may be dated back (its effective date, between the start date
and today): the fee is quoted for that day and the contract ends on it
(``closing.effective_day``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets.models import Asset
from flexbill.assets.service import ReleaseStatus
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError
from flexbill.events.service import rfc3339
from flexbill.settings.rules import EarlyReturn
from flexbill.settings.service import get_settings
from flexbill.subscriptions import periods, quotes
from flexbill.subscriptions.closing import close, effective_day, moment_on
from flexbill.subscriptions.details import EarlyReturnBreakdown, EarlyReturnDetails
from flexbill.subscriptions.lifecycle import EndReason, SubscriptionStatus, check_active
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class EarlyReturnRequest:
    rental_id: str
    return_condition: str  # excellent, good, fair, poor, damaged
    reason: str
    fee: int | None = None  # minor units; None: the quoted fee
    waive_fee: bool = False
    damage_assessment: str | None = None
    notes: str | None = None
    effective_date: date | None = None  # None: today


@dataclass(frozen=True)
class ReturnedEarly:
    subscription: Subscription
    asset: Asset
    fee: int
    fee_waived: bool
    return_condition: str
    returned_at: datetime

    @property
    def return_date(self) -> date:
        return self.returned_at.date()

    @property
    def months_rented(self) -> int:
        """Contract months begun before the return."""
        return periods.months_rented(self.subscription.start_date, self.return_date)


def invalid_fee(message: str, code: str = "invalid") -> FlexbillError:
    return FlexbillError("INVALID_FEE", message, (ErrorDetail("earlyReturnFee", message, code),))


def _check_override(fee: int, rules: EarlyReturn) -> None:
    if not rules.allow_manual_override:
        raise invalid_fee(
            "Manual early-return fees are turned off in the early-return settings; leave "
            "earlyReturnFee out to use the calculated fee, or waive it",
            "not_allowed",
        )
    if fee < 0:
        raise invalid_fee("The early-return fee cannot be negative", "too_small")


async def quote_early_return(
    session: AsyncSession, ctx: TenantContext, rental_id: str
) -> quotes.EarlyReturnQuote:
    """What returning the device of the active subscription ``rental_id`` today costs.

    Raises ``NOT_FOUND`` and ``SUBSCRIPTION_NOT_ACTIVE``.
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(rental_id)
    check_active(subscription.status, subscription.end_reason, "returned early")
    settings = await get_settings(session, ctx)
    contract = quotes.Contract.of(subscription)
    return quotes.quote_early_return(contract, clock.now().date(), settings.early_return)


def _breakdown(quote: quotes.EarlyReturnQuote, *, manual: bool) -> EarlyReturnBreakdown:
    percentage = quote.penalty_percentage
    return EarlyReturnBreakdown(
        method="manual" if manual else quote.method.value,
        remaining_months=quote.remaining_months,
        remaining_value=quote.remaining_value,
        penalty_percentage=None if percentage is None else str(percentage),
        grace_period_applied=quote.grace_period_applied,
        days_from_start=quote.days_from_start,
    )


def _unit_status(return_condition: str) -> ReleaseStatus:
    # A damaged unit cannot go back to stock through inspection; it needs repair first.
    return "unavailable" if return_condition == "damaged" else "returned"


async def return_early(
    session: AsyncSession, ctx: TenantContext, request: EarlyReturnRequest
) -> ReturnedEarly:
    """End the active subscription ``request.rental_id`` before its term: the customer
    owes the quoted fee, ``request.fee`` when the settings allow fees set by hand, or
    nothing when ``request.waive_fee``. The subscription ends (``ended_early_return``),
    the unit comes back (``returned``, or ``unavailable`` when ``damaged``), the
    customer's current counters drop, and ``subscription.ended`` and ``asset.returned``
    are recorded.

    With ``request.effective_date`` the return is dated back to that day: the fee is
    quoted for it, and the contract ends on it (at the present time of day).

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE``, ``INVALID_FEE`` (a negative fee, or
    any while manual fees are off) and ``VALIDATION_ERROR`` (an effective date after
    today or before the start date).
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(
        request.rental_id, for_update=True
    )
    rules = (await get_settings(session, ctx)).early_return
    manual = request.fee is not None
    if request.fee is not None:
        _check_override(request.fee, rules)
    check_active(subscription.status, subscription.end_reason, "returned early")
    now = clock.now()
    effective = effective_day(request.effective_date, subscription, now)
    returned_at = moment_on(effective, now)
    quote = quotes.quote_early_return(quotes.Contract.of(subscription), effective, rules)
    charged = request.fee if request.fee is not None else quote.fee
    fee = 0 if request.waive_fee else charged
    details = EarlyReturnDetails(
        fee=fee,
        fee_waived=request.waive_fee,
        calculation_method="manual_override" if manual else "auto_calculated",
        calculation_breakdown=_breakdown(quote, manual=manual),
        return_condition=request.return_condition,
        reason=request.reason,
        damage_assessment=request.damage_assessment,
        notes=request.notes,
        processed_by=ctx.actor,
        returned_at=rfc3339(returned_at),
    )
    subscription.early_return_details = dict(details)
    asset = await close(
        session, ctx, subscription, status=SubscriptionStatus.ENDED,
        end_reason=EndReason.EARLY_RETURN, asset_status=_unit_status(request.return_condition),
        action="returned_early", at=now, ended_at=returned_at,
        return_condition=request.return_condition, fee_waived=request.waive_fee,
        calculation_method=details["calculation_method"], effective_date=effective.isoformat(),
    )  # fmt: skip
    await Subscriptions(session, ctx.tenant_id).load_customers([subscription])
    return ReturnedEarly(
        subscription=subscription, asset=asset, fee=fee, fee_waived=request.waive_fee,
        return_condition=request.return_condition, returned_at=returned_at,
    )  # fmt: skip
