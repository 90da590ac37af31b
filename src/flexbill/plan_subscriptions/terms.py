"""Calendar maths of general subscriptions: billing periods, terms and trials. Pure.

**Periods never drift.** A price billed every N units has its period k start at
``anchor + k·N units``, always counted from the subscription's billing anchor (its start,
its trial's end, or the day it resumed), never by adding to the previous period's end:
a monthly price anchored on 31 January bills on 28 February, 31 March, 30 April, …
Months go through ``subscriptions.periods.add_months`` (a day the month lacks becomes its
last day); years are 12 months; days and weeks are plain day counts. Every ``end`` is
exclusive: the first day no longer in.

**Terms** run ``initial_period`` units from ``term_start``; a renewal starts a new term of
``renewal_period`` units on the day the previous one ended. **Trials** last N days or N
calendar months from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flexbill.catalog.plan_models import PeriodUnit
from flexbill.plan_subscriptions.models import TrialUnit
from flexbill.subscriptions.periods import add_months

DAYS_PER_UNIT = {PeriodUnit.DAY: 1, PeriodUnit.WEEK: 7}
MONTHS_PER_UNIT = {PeriodUnit.MONTH: 1, PeriodUnit.YEAR: 12}


@dataclass(frozen=True)
class Span:
    """Days from ``start`` up to ``end`` (exclusive)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def shift(start: date, count: int, unit: PeriodUnit) -> date:
    """``start`` moved by ``count`` units (negative moves back)."""
    if unit in DAYS_PER_UNIT:
        return start + timedelta(days=count * DAYS_PER_UNIT[unit])
    return add_months(start, count * MONTHS_PER_UNIT[unit])


def period_start(anchor: date, length: int, unit: PeriodUnit, index: int) -> date:
    """The first day of period ``index`` (0 is the one starting on ``anchor``)."""
    return shift(anchor, index * length, unit)


def period_index(anchor: date, length: int, unit: PeriodUnit, day: date) -> int:
    """The index of the period containing ``day`` (negative before ``anchor``)."""
    if length < 1:
        raise ValueError("a billing period lasts at least one unit")
    if unit in DAYS_PER_UNIT:
        return (day - anchor).days // (length * DAYS_PER_UNIT[unit])
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = months // (length * MONTHS_PER_UNIT[unit])
    # Month lengths differ: step to the period whose [start, end) holds ``day``.
    while period_start(anchor, length, unit, index) > day:
        index -= 1
    while period_start(anchor, length, unit, index + 1) <= day:
        index += 1
    return index


def period_containing(anchor: date, length: int, unit: PeriodUnit, day: date) -> Span:
    """The billing period that contains ``day``."""
    index = period_index(anchor, length, unit, day)
    return Span(
        period_start(anchor, length, unit, index), period_start(anchor, length, unit, index + 1)
    )


def term(start: date, length: int, unit: PeriodUnit) -> Span:
    """A term of ``length`` units from ``start``."""
    if length < 1:
        raise ValueError("a term lasts at least one unit")
    return Span(start, shift(start, length, unit))


def trial_end(start: date, length: int, unit: TrialUnit) -> date:
    """The first day after a trial of ``length`` days or months from ``start``."""
    if length < 1:
        raise ValueError("a trial lasts at least one day")
    if unit is TrialUnit.DAYS:
        return start + timedelta(days=length)
    return add_months(start, length)
