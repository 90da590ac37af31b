"""Buying out a rented device: the customer pays a price and keeps the unit for good.

The price is quoted from the business unit's buyout settings (``quotes.quote_buyout``)
unless the caller sets it by hand, which the settings may forbid. The subscription ends
as ``ended_buyout`` and its unit becomes ``sold``. A buyout may be dated back (its
effective date, between the start date and today): the price is quoted for that day and
the contract ends on it (``closing.effective_day``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets.models import Asset
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError
from flexbill.settings.rules import Buyout
from flexbill.settings.service import get_settings
from flexbill.subscriptions import quotes
from flexbill.subscriptions.closing import close, effective_day, moment_on
from flexbill.subscriptions.details import BuyoutBreakdown, BuyoutDetails
from flexbill.subscriptions.lifecycle import EndReason, SubscriptionStatus, check_active
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class BuyoutRequest:
    rental_id: str
    reason: str  # customer_request, end_of_contract, other
    buyout_price: int | None = None  # minor units; None: the quoted price
    notes: str | None = None
    effective_date: date | None = None  # None: today


@dataclass(frozen=True)
class BoughtOut:
    subscription: Subscription
    asset: Asset
    price: int
    effective_date: date


def invalid_price(message: str, code: str = "invalid") -> FlexbillError:
    return FlexbillError(
        "INVALID_BUYOUT_PRICE", message, (ErrorDetail("buyoutPrice", message, code),)
    )


def _check_override(price: int, rules: Buyout) -> None:
    if not rules.allow_manual_override:
        raise invalid_price(
            "Manual buyout prices are turned off in the buyout settings; leave buyoutPrice "
            "out to use the calculated price",
            "not_allowed",
        )
    if price < 0:
        raise invalid_price("The buyout price cannot be negative", "too_small")


async def quote_buyout(
    session: AsyncSession, ctx: TenantContext, rental_id: str
) -> quotes.BuyoutQuote:
    """What buying out the active subscription ``rental_id`` costs today.

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE`` and ``LIST_PRICE_UNKNOWN``.
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(rental_id)
    check_active(subscription.status, subscription.end_reason, "bought out")
    settings = await get_settings(session, ctx)
    return quotes.quote_buyout(
        quotes.Contract.of(subscription), clock.now().date(), settings.buyout
    )


def _breakdown(quote: quotes.BuyoutQuote) -> BuyoutBreakdown:
    percentage = quote.list_price_percentage
    return BuyoutBreakdown(
        remaining_months=quote.remaining_months,
        remaining_months_payment=quote.remaining_months_payment,
        list_price_percentage=None if percentage is None else str(percentage),
        list_price_amount=quote.list_price_amount,
        flat_fee=quote.flat_fee,
    )


async def buy_out(session: AsyncSession, ctx: TenantContext, request: BuyoutRequest) -> BoughtOut:
    """Sell the device of the active subscription ``request.rental_id`` to its customer at
    the quoted price, or at ``request.buyout_price`` when the settings allow prices set
    by hand. The subscription ends (``ended_buyout``), the unit is ``sold``, the
    customer's current counters drop and ``subscription.ended`` is recorded.

    With ``request.effective_date`` the buyout is dated back to that day: the price is
    quoted for it, and the contract ends on it (at the present time of day).

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE``, ``INVALID_BUYOUT_PRICE`` (a
    negative price, or any while manual prices are off), ``VALIDATION_ERROR`` (an
    effective date after today or before the start date) and ``LIST_PRICE_UNKNOWN`` (no
    price sent, and the quote needs a list price nobody knows).
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(
        request.rental_id, for_update=True
    )
    rules = (await get_settings(session, ctx)).buyout
    if request.buyout_price is not None:
        _check_override(request.buyout_price, rules)
    check_active(subscription.status, subscription.end_reason, "bought out")
    now = clock.now()
    effective = effective_day(request.effective_date, subscription, now)
    quote = quotes.quote_buyout(
        quotes.Contract.of(subscription), effective, rules,
        list_price_required=request.buyout_price is None,
    )  # fmt: skip
    manual = request.buyout_price is not None
    price = request.buyout_price if request.buyout_price is not None else quote.price
    details = BuyoutDetails(
        buyout_price=price,
        calculation_method="manual_override" if manual else "auto_calculated",
        calculation_breakdown=_breakdown(quote),
        reason=request.reason,
        notes=request.notes,
        processed_by=ctx.actor,
        buyout_date=effective.isoformat(),
    )
    subscription.buyout_details = dict(details)
    asset = await close(
        session, ctx, subscription, status=SubscriptionStatus.ENDED,
        end_reason=EndReason.BUYOUT, asset_status="sold", action="bought_out", at=now,
        ended_at=moment_on(effective, now), reason=request.reason,
        calculation_method=details["calculation_method"], effective_date=effective.isoformat(),
    )  # fmt: skip
    await Subscriptions(session, ctx.tenant_id).load_customers([subscription])
    return BoughtOut(subscription=subscription, asset=asset, price=price, effective_date=effective)
