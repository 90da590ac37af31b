"""Calendar maths of contracts: months added to dates, time left, the first billing date.
Pure, no I/O.

A contract month runs from a day of the month to the same day of the next month; a day
the next month lacks becomes its last day (31 January + 1 month = 28 or 29 February).
Month arithmetic is always done from the contract's start date, so a contract started on
the 31st keeps billing on the last day of short months and on the 31st of long ones.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta

from flexbill.settings.rules import BillingCycleType, FirstPayment


class DateOutOfRange(ValueError):
    """Date arithmetic left the calendar Python knows (years 1 to 9999)."""


def add_months(start: date, months: int) -> date:
    """``start`` moved by ``months`` calendar months (negative moves back), the day kept
    or clamped to the end of a shorter month. Raises ``DateOutOfRange`` past year 9999
    (or before year 1)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not MINYEAR <= year <= MAXYEAR:
        raise DateOutOfRange(f"{start.isoformat()} + {months} months is not a date")
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True)
class TimeLeft:
    """What is left between two dates: ``whole_months`` complete contract months counted
    from the earlier date, then ``days`` more (fewer than a month)."""

    whole_months: int
    days: int

    def months(self, *, round_up: bool) -> int:
        """Months left, a partial month counted as a whole one or not at all."""
        return self.whole_months + (1 if round_up and self.days > 0 else 0)


def time_left(today: date, end: date) -> TimeLeft:
    """The time from ``today`` until ``end``; nothing once ``end`` is reached."""
    if end <= today:
        return TimeLeft(0, 0)
    months = (end.year - today.year) * 12 + end.month - today.month
    while months > 0 and add_months(today, months) > end:
        months -= 1
    return TimeLeft(months, (end - add_months(today, months)).days)


def months_elapsed(start: date, today: date) -> int:
    """Contract months begun by ``today`` (the month starting on ``start`` is the first);
    zero before ``start``."""
    if today < start:
        return 0
    months = (today.year - start.year) * 12 + today.month - start.month
    while months > 0 and add_months(start, months) > today:
        months -= 1
    return months + 1


def months_rented(start: date, returned_on: date) -> int:
    """Contract months begun before the day the device came back: a return on the day a
    contract month begins does not count that month (nor a return on the start date the
    first one)."""
    if returned_on <= start:
        return 0
    return months_elapsed(start, returned_on - timedelta(days=1))


def current_period_start(start: date, today: date) -> date:
    """The first day of the contract month ``today`` falls in (``start`` before it begins)."""
    if today <= start:
        return start
    return add_months(start, months_elapsed(start, today) - 1)


def _next_fixed_day(after: date, day_of_month: int, *, inclusive: bool) -> date:
    candidate = after.replace(day=day_of_month)
    if candidate < after or (candidate == after and not inclusive):
        candidate = add_months(candidate, 1)
    return candidate


def first_billing_date(
    start: date,
    cycle: BillingCycleType,
    first_payment: FirstPayment,
    day_of_month: int | None = None,
) -> date:
    """The date a new subscription's first payment falls due, per the business unit's
    billing cycle and first-payment rule.

    - ``full_month`` and ``prorated``: on the start date (the prorated part covers the days
      until the cycle day; the full month covers a month from the start).
    - ``free_until_cycle``: on the first cycle day after the start; with a cycle that
      follows the subscription itself, that is the start date.
    - ``collected_externally``: the first payment was taken elsewhere, so the first one
      flexbill collects is one cycle after the start.
    """
    fixed = cycle is BillingCycleType.FIXED_DAY
    if fixed and day_of_month is None:
        raise ValueError("a fixed-day billing cycle needs its day of the month")
    if first_payment in (FirstPayment.FULL_MONTH, FirstPayment.PRORATED):
        return start
    if first_payment is FirstPayment.FREE_UNTIL_CYCLE:
        if fixed:
            assert day_of_month is not None
            return _next_fixed_day(start, day_of_month, inclusive=True)
        return start
    # Collected externally: the next cycle after the one that began at the start.
    if fixed:
        assert day_of_month is not None
        return _next_fixed_day(start, day_of_month, inclusive=False)
    if cycle is BillingCycleType.EVERY_30_DAYS:
        return start + timedelta(days=30)
    return add_months(start, 1)
