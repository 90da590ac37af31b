"""Contract calendar maths (pure): months added to dates, time left, the first billing date."""

from __future__ import annotations

from datetime import date

import pytest

from flexbill.settings.rules import BillingCycleType, FirstPayment
from flexbill.subscriptions.periods import (
    DateOutOfRange,
    TimeLeft,
    add_months,
    current_period_start,
    first_billing_date,
    months_elapsed,
    months_rented,
    time_left,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 15), 1, date(2025, 2, 15)),
        (date(2025, 1, 15), 12, date(2026, 1, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 1, 31), 2, date(2025, 3, 31)),  # from the start, not month by month
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 5, 20), 0, date(2025, 5, 20)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 1), 120, date(2035, 1, 1)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "months"),
    [(date(9999, 6, 1), 12), (date(9999, 12, 31), 1), (date(1, 1, 31), -1)],
)
def test_add_months_past_the_calendar_is_out_of_range(start: date, months: int) -> None:
    with pytest.raises(DateOutOfRange):
        add_months(start, months)


@pytest.mark.parametrize(
    ("start", "returned_on", "expected"),
    [
        (date(2025, 1, 15), date(2025, 1, 15), 0),  # back on the start day
        (date(2025, 1, 15), date(2025, 1, 10), 0),  # before the start
        (date(2025, 1, 15), date(2025, 1, 16), 1),
        (date(2025, 1, 15), date(2025, 2, 15), 1),  # the month from 15 February not begun
        (date(2025, 1, 15), date(2025, 2, 16), 2),
        (date(2025, 1, 15), date(2025, 3, 20), 3),
        (date(2025, 1, 31), date(2025, 2, 28), 1),  # the clamped month begins that day
        (date(2025, 1, 31), date(2025, 3, 1), 2),
        (date(2025, 1, 15), date(2026, 1, 15), 12),
    ],
)
def test_months_rented(start: date, returned_on: date, expected: int) -> None:
    assert months_rented(start, returned_on) == expected


@pytest.mark.parametrize(
    ("today", "end", "expected"),
    [
        (date(2025, 3, 1), date(2026, 1, 15), TimeLeft(10, 14)),
        (date(2025, 3, 15), date(2026, 1, 15), TimeLeft(10, 0)),
        (date(2025, 3, 16), date(2026, 1, 15), TimeLeft(9, 30)),
        (date(2025, 1, 31), date(2025, 2, 28), TimeLeft(1, 0)),  # clamped month end
        (date(2025, 2, 28), date(2025, 3, 31), TimeLeft(1, 3)),
        (date(2025, 12, 31), date(2026, 1, 1), TimeLeft(0, 1)),
        (date(2026, 1, 15), date(2026, 1, 15), TimeLeft(0, 0)),  # the end day itself
        (date(2026, 2, 1), date(2026, 1, 15), TimeLeft(0, 0)),  # after the end
    ],
)
def test_time_left(today: date, end: date, expected: TimeLeft) -> None:
    assert time_left(today, end) == expected


@pytest.mark.parametrize(
    ("left", "round_up", "expected"),
    [
        (TimeLeft(10, 14), True, 11),
        (TimeLeft(10, 14), False, 10),
        (TimeLeft(10, 0), True, 10),
        (TimeLeft(0, 1), True, 1),
        (TimeLeft(0, 1), False, 0),
        (TimeLeft(0, 0), True, 0),
    ],
)
def test_partial_months_round_as_told(left: TimeLeft, round_up: bool, expected: int) -> None:
    assert left.months(round_up=round_up) == expected


@pytest.mark.parametrize(
    ("start", "today", "begun", "period_start"),
    [
        (date(2025, 1, 15), date(2025, 1, 10), 0, date(2025, 1, 15)),  # not started yet
        (date(2025, 1, 15), date(2025, 1, 15), 1, date(2025, 1, 15)),
        (date(2025, 1, 15), date(2025, 2, 14), 1, date(2025, 1, 15)),
        (date(2025, 1, 15), date(2025, 2, 15), 2, date(2025, 2, 15)),
        (date(2025, 1, 15), date(2025, 3, 1), 2, date(2025, 2, 15)),
        (date(2025, 1, 31), date(2025, 2, 28), 2, date(2025, 2, 28)),
        (date(2025, 1, 31), date(2025, 3, 30), 2, date(2025, 2, 28)),
        (date(2025, 1, 31), date(2025, 3, 31), 3, date(2025, 3, 31)),
        (date(2025, 1, 15), date(2026, 1, 15), 13, date(2026, 1, 15)),
    ],
)
def test_months_elapsed_and_current_period(
    start: date, today: date, begun: int, period_start: date
) -> None:
    assert months_elapsed(start, today) == begun
    assert current_period_start(start, today) == period_start


FIXED = BillingCycleType.FIXED_DAY
START = BillingCycleType.SUBSCRIPTION_START
EVERY_30 = BillingCycleType.EVERY_30_DAYS


@pytest.mark.parametrize(
    ("start", "cycle", "first", "day", "expected"),
    [
        (date(2025, 1, 20), START, FirstPayment.FULL_MONTH, None, date(2025, 1, 20)),
        (date(2025, 1, 20), FIXED, FirstPayment.PRORATED, 1, date(2025, 1, 20)),
        (date(2025, 1, 20), FIXED, FirstPayment.FREE_UNTIL_CYCLE, 1, date(2025, 2, 1)),
        (date(2025, 1, 20), FIXED, FirstPayment.FREE_UNTIL_CYCLE, 25, date(2025, 1, 25)),
        (date(2025, 1, 25), FIXED, FirstPayment.FREE_UNTIL_CYCLE, 25, date(2025, 1, 25)),
        (date(2025, 1, 25), FIXED, FirstPayment.COLLECTED_EXTERNALLY, 25, date(2025, 2, 25)),
        (date(2025, 1, 20), FIXED, FirstPayment.COLLECTED_EXTERNALLY, 28, date(2025, 1, 28)),
        (date(2025, 12, 29), FIXED, FirstPayment.FREE_UNTIL_CYCLE, 1, date(2026, 1, 1)),
        (date(2025, 1, 20), START, FirstPayment.FREE_UNTIL_CYCLE, None, date(2025, 1, 20)),
        (date(2025, 1, 31), START, FirstPayment.COLLECTED_EXTERNALLY, None, date(2025, 2, 28)),
        (date(2025, 1, 20), EVERY_30, FirstPayment.COLLECTED_EXTERNALLY, None, date(2025, 2, 19)),
        (date(2025, 1, 20), EVERY_30, FirstPayment.FULL_MONTH, None, date(2025, 1, 20)),
    ],
)
def test_first_billing_date(
    start: date, cycle: BillingCycleType, first: FirstPayment, day: int | None, expected: date
) -> None:
    assert first_billing_date(start, cycle, first, day) == expected


def test_a_fixed_day_cycle_needs_its_day() -> None:
    with pytest.raises(ValueError, match="day of the month"):
        first_billing_date(date(2025, 1, 1), FIXED, FirstPayment.FULL_MONTH)
