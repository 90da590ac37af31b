"""What ending a contract early costs: the buyout price and the early-return fee. Pure, no
I/O: figures in, frozen quote out, so that the quote endpoints, the operations and the
tests compute the same numbers.

Money is in minor units; a percentage of an amount is rounded half up to the minor unit,
once, at the end. Months are *contract* months: they run from the start date's day of the
month (``periods``), so a contract started on the 31st has a month starting 28 February.
Counting on the contract's own month boundaries, rather than on months counted from
today, keeps the end of a short month from inventing a month: from 30 March to 28
February ``periods.time_left`` counts 11 whole months, but a contract started on
28 February has only 10 months beginning after 28 March left.

Buyout (``Buyout`` settings):

- ``remaining_months``: the contract months that begin today or later and before the end
  date. Billing is in advance, so the month in progress is already paid and not counted;
  a month beginning today is still to pay. Before the start date every month remains.
  Apart from month-end clamping this is ``periods.time_left(today, end).whole_months``.
- remaining part = ``remaining_months × monthly_amount``.
- list-price part = ``list_price × rrp_percentage / 100``. A method that needs the list
  price while it is unknown either estimates it (``allow_rrp_estimation``: the acquisition
  cost when known, otherwise ``monthly_amount × original_contract_length``) or refuses
  with ``LIST_PRICE_UNKNOWN``.
- price by method: ``flat_fee`` the flat fee; ``remaining_months`` the remaining part;
  ``rrp_percentage`` the list-price part; ``remaining_months_plus_rrp`` both parts.

Early return (``EarlyReturn`` settings):

- ``days_from_start = (today − start_date).days``; up to ``grace_period_days`` (inclusive)
  the fee is 0 whatever the method.
- ``remaining_months``: with ``charge_current_month`` the months from the start of the
  current contract month (``periods.current_period_start``) to the end date, the month in
  progress counted whole (and a partial last month, should the end date fall between
  contract months, rounded up). Without it, from today: the months beginning today or
  later, plus the rest of the month in progress rounded by ``partial_month_rounding`` (up:
  one more month, down: none).
- ``remaining_value = remaining_months × monthly_amount``.
- fee by method: ``no_fee`` 0; ``flat_fee`` the flat fee; ``remaining_months``
  ``remaining_value × fee_percentage / 100``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from flexbill.core.errors import InvalidState
from flexbill.settings.rules import Buyout, BuyoutMethod, EarlyReturn, EarlyReturnMethod, Rounding
from flexbill.subscriptions import periods

if TYPE_CHECKING:
    from flexbill.subscriptions.models import Subscription


@dataclass(frozen=True)
class Contract:
    """The figures of a subscription a quote depends on (amounts in minor units)."""

    start_date: date
    end_date: date
    monthly_amount: int
    original_contract_length: int
    list_price: int | None = None
    acquisition_cost: int | None = None

    @classmethod
    def of(cls, subscription: Subscription) -> Contract:
        return cls(
            start_date=subscription.start_date,
            end_date=subscription.end_date,
            monthly_amount=subscription.monthly_amount,
            original_contract_length=subscription.original_contract_length,
            list_price=subscription.list_price,
            acquisition_cost=subscription.acquisition_cost,
        )


class ListPriceBasis(StrEnum):
    """Where the list price a buyout quote used came from."""

    LIST_PRICE = "list_price"  # the subscription's own
    ACQUISITION_COST = "acquisition_cost"  # estimated: what the unit cost
    CONTRACT_VALUE = "contract_value"  # estimated: monthly amount × original term


@dataclass(frozen=True)
class BuyoutQuote:
    method: BuyoutMethod
    price: int
    remaining_months: int
    remaining_months_payment: int
    list_price_percentage: Decimal | None  # None when the method leaves the list price out
    list_price_amount: int  # the list-price part; 0 when the method leaves it out
    flat_fee: int  # 0 unless the method is flat_fee
    list_price: int | None  # the list price used; None when the method leaves it out
    list_price_basis: ListPriceBasis | None

    @property
    def list_price_estimated(self) -> bool:
        return self.list_price_basis not in (None, ListPriceBasis.LIST_PRICE)


@dataclass(frozen=True)
class EarlyReturnQuote:
    method: EarlyReturnMethod
    fee: int
    remaining_months: int
    remaining_value: int
    penalty_percentage: Decimal | None  # fee_percentage for remaining_months, else None
    grace_period_applied: bool
    days_from_start: int


def percent_of(amount: int, percentage: Decimal) -> int:
    """``amount × percentage / 100`` in minor units, rounded half up."""
    return int((amount * percentage / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _contract_month_index(start: date, day: date) -> int:
    """The index of the first contract month beginning on or after ``day`` (0 before the
    start)."""
    if day <= start:
        return 0
    begun = periods.months_elapsed(start, day)  # the month ``day`` falls in included
    in_progress_start = periods.add_months(start, begun - 1)
    return begun - 1 if in_progress_start == day else begun


def months_beginning_from(start: date, end: date, day: date) -> int:
    """Contract months that begin on or after ``day`` and before ``end``; a last month
    cut short by ``end`` counts as one."""
    months_before_end = periods.time_left(start, end).months(round_up=True)
    return max(months_before_end - _contract_month_index(start, day), 0)


def _in_a_month(start: date, end: date, day: date) -> bool:
    """Whether ``day`` falls inside a contract month rather than on its first day."""
    return start < day < end and periods.current_period_start(start, day) != day


def buyout_remaining_months(contract: Contract, today: date) -> int:
    return months_beginning_from(contract.start_date, contract.end_date, today)


def _list_price(contract: Contract, rules: Buyout) -> tuple[int, ListPriceBasis] | None:
    if contract.list_price is not None:
        return contract.list_price, ListPriceBasis.LIST_PRICE
    if not rules.allow_rrp_estimation:
        return None
    if contract.acquisition_cost is not None:
        return contract.acquisition_cost, ListPriceBasis.ACQUISITION_COST
    estimate = contract.monthly_amount * contract.original_contract_length
    return estimate, ListPriceBasis.CONTRACT_VALUE


def quote_buyout(
    contract: Contract, today: date, rules: Buyout, *, list_price_required: bool = True
) -> BuyoutQuote:
    """The buyout price of ``contract`` on ``today`` under ``rules`` (see the module).

    Raises ``LIST_PRICE_UNKNOWN`` when the method needs a list price that is unknown and
    may not be estimated. With ``list_price_required=False`` (a price set by hand needs no
    list price) such a quote leaves the list-price part at 0 instead.
    """
    method = rules.method
    remaining_months = buyout_remaining_months(contract, today)
    remaining_payment = remaining_months * contract.monthly_amount
    uses_remaining = method in (
        BuyoutMethod.REMAINING_MONTHS,
        BuyoutMethod.REMAINING_MONTHS_PLUS_RRP,
    )
    uses_list_price = method in (
        BuyoutMethod.RRP_PERCENTAGE,
        BuyoutMethod.REMAINING_MONTHS_PLUS_RRP,
    )
    percentage: Decimal | None = None
    list_price: int | None = None
    basis: ListPriceBasis | None = None
    list_price_amount = 0
    if uses_list_price:
        assert rules.rrp_percentage is not None  # the settings require it for these methods
        known = _list_price(contract, rules)
        if known is None and list_price_required:
            raise InvalidState(
                "LIST_PRICE_UNKNOWN",
                f"The buyout method '{method}' needs the device's list price, which is "
                "unknown; enable list-price estimation or send a buyout price",
            )
        percentage = rules.rrp_percentage
        if known is not None:
            list_price, basis = known
            list_price_amount = percent_of(list_price, percentage)
    flat_fee = (rules.flat_fee or 0) if method is BuyoutMethod.FLAT_FEE else 0
    price = flat_fee + list_price_amount + (remaining_payment if uses_remaining else 0)
    return BuyoutQuote(
        method=method, price=price, remaining_months=remaining_months,
        remaining_months_payment=remaining_payment, list_price_percentage=percentage,
        list_price_amount=list_price_amount, flat_fee=flat_fee, list_price=list_price,
        list_price_basis=basis,
    )  # fmt: skip


def early_return_remaining_months(contract: Contract, today: date, rules: EarlyReturn) -> int:
    start, end = contract.start_date, contract.end_date
    if rules.charge_current_month:
        return months_beginning_from(start, end, periods.current_period_start(start, today))
    rounds_up = rules.partial_month_rounding is Rounding.UP
    partial = 1 if rounds_up and _in_a_month(start, end, today) else 0
    return months_beginning_from(start, end, today) + partial


def quote_early_return(contract: Contract, today: date, rules: EarlyReturn) -> EarlyReturnQuote:
    """The fee for returning ``contract``'s device on ``today`` under ``rules`` (see the
    module)."""
    method = rules.method
    days_from_start = (today - contract.start_date).days
    remaining_months = early_return_remaining_months(contract, today, rules)
    remaining_value = remaining_months * contract.monthly_amount
    in_grace = days_from_start <= rules.grace_period_days
    percentage = rules.fee_percentage if method is EarlyReturnMethod.REMAINING_MONTHS else None
    if in_grace or method is EarlyReturnMethod.NO_FEE:
        fee = 0
    elif method is EarlyReturnMethod.FLAT_FEE:
        fee = rules.flat_fee or 0
    else:
        fee = percent_of(remaining_value, rules.fee_percentage)
    return EarlyReturnQuote(
        method=method, fee=fee, remaining_months=remaining_months,
        remaining_value=remaining_value, penalty_percentage=percentage,
        grace_period_applied=in_grace, days_from_start=days_from_start,
    )  # fmt: skip
