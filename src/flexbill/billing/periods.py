"""Billing periods: which stretch of days each invoice bills, and for how much. Pure, no I/O.

**Cycles.** The settings' billing cycle cuts time into cycles between two billing days:

- ``subscription_start``: monthly from the start date, counted from the start
  (``subscriptions.periods.add_months``: a contract started on the 31st bills on the last
  day of short months and on the 31st of long ones);
- ``fixed_day``: from one day ``d`` (1–28) of a month to day ``d`` of the next;
- ``every_30_days``: 30 days at a time from the start date.

A billing group has its own cycle: fixed on the group's billing day.

**Periods.** A subscription is billed in advance from its first unbilled day (its
``next_billing_date``): a period runs from there to the next billing day, and never past
the contract's end unless the contract renews (then the period is a whole cycle and the
renewal moves the end). Where billing starts is the first-payment rule's
(``subscriptions.periods.first_billing_date``):

- ``full_month``: billed from the start; the first period is a whole month from the start
  (on a fixed-day cycle the next period is then the part of a cycle up to the next billing
  day, so every day of the contract is billed once);
- ``prorated``: billed from the start; on a fixed-day cycle the first period is the part of
  a cycle from the start to the first billing day (with a cycle that follows the
  subscription it is a whole cycle);
- ``free_until_cycle``: nothing is billed before the first billing day on or after the start;
- ``collected_externally``: the first cycle was paid elsewhere; billing starts one cycle on.

**Proration, the one rule.** A part of a cycle costs ``monthly × days / days of that
cycle``; the days of a monthly cycle are those of the month it starts in (for a fixed day
``d`` ≤ 28, from ``d`` March to ``d`` April is 31 days), of a 30-day cycle 30. A span over
several cycles (a group member's first share) adds its parts. The sum is exact (a
fraction) and rounded half up to the minor unit once. A whole cycle costs exactly
``monthly``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flexbill.settings.rules import BillingCycleType, FirstPayment
from flexbill.subscriptions.periods import add_months, first_billing_date

THIRTY_DAYS = timedelta(days=30)


@dataclass(frozen=True)
class Cycle:
    """How a subscription's days are cut into cycles: the settings' cycle type, anchored on
    the subscription's start date or on a day of the month."""

    type: BillingCycleType
    start: date  # anchors the subscription_start and every_30_days cycles
    day_of_month: int | None = None  # the fixed_day cycle's day

    @classmethod
    def fixed_day(cls, day_of_month: int) -> Cycle:
        return cls(BillingCycleType.FIXED_DAY, date.min, day_of_month)

    def around(self, day: date) -> tuple[date, date]:
        """The cycle ``[first day, next cycle's first day)`` that ``day`` falls in."""
        if self.type is BillingCycleType.FIXED_DAY:
            assert self.day_of_month is not None, "a fixed-day cycle needs its day"
            first = day.replace(day=self.day_of_month)
            if first > day:
                first = add_months(first, -1)
            return first, add_months(first, 1)
        if self.type is BillingCycleType.EVERY_30_DAYS:
            first = self.start + ((day - self.start) // THIRTY_DAYS) * THIRTY_DAYS
            return first, first + THIRTY_DAYS
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        while add_months(self.start, months) > day:
            months -= 1
        while add_months(self.start, months + 1) <= day:
            months += 1
        return add_months(self.start, months), add_months(self.start, months + 1)

    def next_start(self, day: date) -> date:
        """The first billing day on or after ``day``."""
        first, following = self.around(day)
        return day if first == day else following


@dataclass(frozen=True)
class Terms:
    """What a subscription's billing depends on."""

    start: date
    end: date  # exclusive end of the contract
    monthly_amount: int  # minor units
    cycle: Cycle
    first_payment: FirstPayment
    renews: bool  # renewed at its end: periods may run past ``end``

    @property
    def first_day_billed(self) -> date:
        """The first day an invoice covers (``Subscription.next_billing_date`` at start)."""
        return first_billing_date(
            self.start, self.cycle.type, self.first_payment, self.cycle.day_of_month
        )

    def over(self, day: date) -> bool:
        """Whether nothing is billed from ``day`` on: the contract ended and does not renew."""
        return not self.renews and day >= self.end

    def limit(self, day: date) -> date:
        """``day``, or the contract's end when that comes first and nothing renews."""
        return day if self.renews else min(day, self.end)


@dataclass(frozen=True)
class Period:
    """Days ``[start, end)`` billed for ``amount`` (minor units); ``whole`` when that is a
    whole month's price (a rental line), not a part of one (a proration line)."""

    start: date
    end: date
    amount: int
    whole: bool


def round_half_up(value: Fraction) -> int:
    # Amounts are never negative, so "half up" and "half away from zero" agree.
    return math.floor(value + Fraction(1, 2))


def share_of_cycles(cycle: Cycle, start: date, end: date) -> Fraction:
    """How many cycles the days ``[start, end)`` are: each part of a cycle counts its days
    over the cycle's days."""
    share = Fraction(0)
    day = start
    while day < end:
        first, following = cycle.around(day)
        part_end = min(end, following)
        share += Fraction((part_end - day).days, (following - first).days)
        day = part_end
    return share


def price(monthly_amount: int, share: Fraction) -> int:
    """``monthly_amount`` × ``share`` of a cycle, rounded half up once."""
    return round_half_up(monthly_amount * share)


def period_from(terms: Terms, day: date) -> Period | None:
    """The period billed from ``day`` (the first unbilled day); ``None`` when the contract
    has no day left to bill (``day`` at or past its end, and it does not renew)."""
    if terms.over(day):
        return None
    full_month_first = (
        day == terms.start
        and terms.first_payment is FirstPayment.FULL_MONTH
        and terms.cycle.type is BillingCycleType.FIXED_DAY
    )
    if full_month_first:
        # A whole month from the start, whatever the cycle's day (see the module's text).
        end = terms.limit(add_months(day, 1))
        share = Fraction((end - day).days, (add_months(day, 1) - day).days)
    else:
        end = terms.limit(terms.cycle.around(day)[1])
        share = share_of_cycles(terms.cycle, day, end)
    return Period(day, end, price(terms.monthly_amount, share), whole=share == 1)


def periods_until(terms: Terms, last_start: date, first: date | None = None) -> list[Period]:
    """Every period billed from ``first`` (the first day billed by default) that starts on
    or before ``last_start``, in order."""
    periods: list[Period] = []
    day = terms.first_day_billed if first is None else first
    while day <= last_start:
        period = period_from(terms, day)
        if period is None:
            break
        periods.append(period)
        day = period.end
    return periods


def group_period_start(billing_day: int, first_unbilled: date, not_before: date) -> date:
    """The group billing day whose invoice bills a member from ``first_unbilled``: the first
    one on or after it (and on or after ``not_before``, when that period was invoiced
    before the member was in it)."""
    return Cycle.fixed_day(billing_day).next_start(max(first_unbilled, not_before))


def group_share(terms: Terms, billing_day: int, first_unbilled: date, group_start: date) -> Period:
    """A member's line on the group's invoice of the period starting ``group_start``: from
    its first unbilled day (days before ``group_start`` are billed here, in arrears) to the
    end of that period, or the contract's end. Priced on the group's cycles."""
    cycle = Cycle.fixed_day(billing_day)
    end = terms.limit(add_months(group_start, 1))
    share = share_of_cycles(cycle, first_unbilled, end)
    return Period(first_unbilled, end, price(terms.monthly_amount, share), whole=share == 1)
