"""Billing periods (pure): cycles, where billing starts under each first-payment rule,
proration (one rule, rounded half up once), month ends, leap years, the contract's end."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from flexbill.billing.periods import (
    Cycle,
    Period,
    Terms,
    group_period_start,
    group_share,
    period_from,
    periods_until,
)
from flexbill.settings.rules import BillingCycleType, FirstPayment

START_CYCLE = BillingCycleType.SUBSCRIPTION_START
FIXED = BillingCycleType.FIXED_DAY
THIRTY = BillingCycleType.EVERY_30_DAYS
MONTHLY = 5999  # 59.99


def terms(
    start: date,
    end: date,
    cycle: BillingCycleType = START_CYCLE,
    first_payment: FirstPayment = FirstPayment.FULL_MONTH,
    *,
    day: int | None = None,
    monthly: int = MONTHLY,
    renews: bool = False,
) -> Terms:
    return Terms(start, end, monthly, Cycle(cycle, start, day), first_payment, renews)


def whole(start: date, end: date, amount: int = MONTHLY) -> Period:
    return Period(start, end, amount, whole=True)


def part(start: date, end: date, amount: int) -> Period:
    return Period(start, end, amount, whole=False)


@pytest.mark.parametrize(
    ("cycle", "day", "expected"),
    [
        (Cycle(START_CYCLE, date(2025, 1, 31)), date(2025, 2, 27), (date(2025, 1, 31), date(2025, 2, 28))),
        (Cycle(START_CYCLE, date(2025, 1, 31)), date(2025, 2, 28), (date(2025, 2, 28), date(2025, 3, 31))),
        (Cycle(START_CYCLE, date(2024, 1, 31)), date(2024, 2, 29), (date(2024, 2, 29), date(2024, 3, 31))),
        (Cycle(START_CYCLE, date(2025, 1, 15)), date(2025, 1, 10), (date(2024, 12, 15), date(2025, 1, 15))),
        (Cycle(FIXED, date(2025, 3, 10), 1), date(2025, 3, 10), (date(2025, 3, 1), date(2025, 4, 1))),
        (Cycle(FIXED, date(2025, 3, 10), 15), date(2025, 3, 14), (date(2025, 2, 15), date(2025, 3, 15))),
        (Cycle(FIXED, date(2025, 3, 10), 15), date(2025, 3, 15), (date(2025, 3, 15), date(2025, 4, 15))),
        (Cycle(FIXED, date(2025, 3, 10), 28), date(2025, 12, 31), (date(2025, 12, 28), date(2026, 1, 28))),
        (Cycle(THIRTY, date(2025, 1, 1)), date(2025, 1, 30), (date(2025, 1, 1), date(2025, 1, 31))),
        (Cycle(THIRTY, date(2025, 1, 1)), date(2025, 1, 31), (date(2025, 1, 31), date(2025, 3, 2))),
    ],
)  # fmt: skip
def test_the_cycle_a_day_falls_in(cycle: Cycle, day: date, expected: tuple[date, date]) -> None:
    assert cycle.around(day) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # A monthly cycle from the 31st: the last day of short months, leap years too.
        (
            terms(date(2025, 1, 31), date(2025, 4, 30)),
            [
                whole(date(2025, 1, 31), date(2025, 2, 28)),
                whole(date(2025, 2, 28), date(2025, 3, 31)),
                whole(date(2025, 3, 31), date(2025, 4, 30)),
            ],
        ),
        (
            terms(date(2024, 1, 31), date(2024, 3, 31)),
            [whole(date(2024, 1, 31), date(2024, 2, 29)), whole(date(2024, 2, 29), date(2024, 3, 31))],
        ),
        # With a cycle that follows the subscription, prorated and free-until-cycle bill
        # whole cycles from the start; collected externally starts one cycle on.
        (
            terms(date(2025, 1, 31), date(2025, 3, 31), first_payment=FirstPayment.PRORATED),
            [whole(date(2025, 1, 31), date(2025, 2, 28)), whole(date(2025, 2, 28), date(2025, 3, 31))],
        ),
        (
            terms(date(2025, 1, 31), date(2025, 3, 31), first_payment=FirstPayment.FREE_UNTIL_CYCLE),
            [whole(date(2025, 1, 31), date(2025, 2, 28)), whole(date(2025, 2, 28), date(2025, 3, 31))],
        ),
        (
            terms(date(2025, 1, 31), date(2025, 3, 31), first_payment=FirstPayment.COLLECTED_EXTERNALLY),
            [whole(date(2025, 2, 28), date(2025, 3, 31))],
        ),
        # Fixed day 1, started on the 10th of March, 2 months (ends 10 May).
        (   # prorated: 22 of March's 31 days, then whole months, then 9 of May's 31 days
            terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.PRORATED, day=1),
            [
                part(date(2025, 3, 10), date(2025, 4, 1), 4257),  # 5999 × 22/31 = 4257.35
                whole(date(2025, 4, 1), date(2025, 5, 1)),
                part(date(2025, 5, 1), date(2025, 5, 10), 1742),  # 5999 × 9/31 = 1741.65
            ],
        ),
        (   # full month: a month from the start, then 21 of April's 30 days up to the 1st
            terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.FULL_MONTH, day=1),
            [
                whole(date(2025, 3, 10), date(2025, 4, 10)),
                part(date(2025, 4, 10), date(2025, 5, 1), 4199),  # 5999 × 21/30 = 4199.3
                part(date(2025, 5, 1), date(2025, 5, 10), 1742),
            ],
        ),
        (   # free until the cycle: nothing before the 1st of April
            terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.FREE_UNTIL_CYCLE, day=1),
            [whole(date(2025, 4, 1), date(2025, 5, 1)), part(date(2025, 5, 1), date(2025, 5, 10), 1742)],
        ),
        (   # collected externally: the days to the 1st of April were paid elsewhere
            terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.COLLECTED_EXTERNALLY, day=1),
            [whole(date(2025, 4, 1), date(2025, 5, 1)), part(date(2025, 5, 1), date(2025, 5, 10), 1742)],
        ),
        # Started on the cycle day: no partial period at all; free until cycle is free of
        # nothing; collected externally skips a whole month.
        (
            terms(date(2025, 3, 1), date(2025, 5, 1), FIXED, FirstPayment.PRORATED, day=1),
            [whole(date(2025, 3, 1), date(2025, 4, 1)), whole(date(2025, 4, 1), date(2025, 5, 1))],
        ),
        (
            terms(date(2025, 3, 1), date(2025, 5, 1), FIXED, FirstPayment.FREE_UNTIL_CYCLE, day=1),
            [whole(date(2025, 3, 1), date(2025, 4, 1)), whole(date(2025, 4, 1), date(2025, 5, 1))],
        ),
        (
            terms(date(2025, 3, 1), date(2025, 5, 1), FIXED, FirstPayment.COLLECTED_EXTERNALLY, day=1),
            [whole(date(2025, 4, 1), date(2025, 5, 1))],
        ),
        # February of a leap year has 29 days, of other years 28.
        (
            terms(date(2024, 2, 20), date(2024, 3, 20), FIXED, FirstPayment.PRORATED, day=15),
            [
                part(date(2024, 2, 20), date(2024, 3, 15), 4965),  # 5999 × 24/29 = 4964.69
                part(date(2024, 3, 15), date(2024, 3, 20), 968),  # 5999 × 5/31 = 967.58
            ],
        ),
        (
            terms(date(2025, 2, 20), date(2025, 3, 20), FIXED, FirstPayment.PRORATED, day=15),
            [
                part(date(2025, 2, 20), date(2025, 3, 15), 4928),  # 5999 × 23/28 = 4927.82
                part(date(2025, 3, 15), date(2025, 3, 20), 968),
            ],
        ),
        # Every 30 days: a month's contract is 30 days and one more (31 January).
        (
            terms(date(2025, 1, 1), date(2025, 2, 1), THIRTY),
            [whole(date(2025, 1, 1), date(2025, 1, 31)), part(date(2025, 1, 31), date(2025, 2, 1), 200)],
        ),
        (
            terms(date(2025, 1, 1), date(2025, 3, 2), THIRTY, FirstPayment.COLLECTED_EXTERNALLY),
            [whole(date(2025, 1, 31), date(2025, 3, 2))],
        ),
        # Half a minor unit rounds up: 1001 × 15/30 = 500.5.
        (
            terms(date(2025, 1, 1), date(2025, 2, 15), THIRTY, monthly=1001),
            [whole(date(2025, 1, 1), date(2025, 1, 31), 1001), part(date(2025, 1, 31), date(2025, 2, 15), 501)],
        ),
        # A contract that renews is billed in whole cycles past its end.
        (
            terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.PRORATED, day=1, renews=True),
            [
                part(date(2025, 3, 10), date(2025, 4, 1), 4257),
                whole(date(2025, 4, 1), date(2025, 5, 1)),
                whole(date(2025, 5, 1), date(2025, 6, 1)),
                whole(date(2025, 6, 1), date(2025, 7, 1)),
            ],
        ),
    ],
)  # fmt: skip
def test_periods(case: Terms, expected: list[Period]) -> None:
    assert periods_until(case, date(2025, 6, 30)) == expected


@pytest.mark.parametrize("cycle", list(BillingCycleType))
@pytest.mark.parametrize("first_payment", list(FirstPayment))
@pytest.mark.parametrize("start", [date(2024, 1, 31), date(2025, 2, 28), date(2025, 3, 10)])
def test_every_day_of_the_contract_is_billed_once(
    cycle: BillingCycleType, first_payment: FirstPayment, start: date
) -> None:
    """Periods follow each other without gap or overlap from the first day billed to the
    end; over a year they add up to twelve months give or take the rounding of the parts,
    the days a year has beyond twelve 30-day cycles, and the days by which a fixed-day
    cycle's first "full month" differs from its cycles (and less what the first-payment
    rule leaves out)."""
    end = date(start.year + 1, start.month, min(start.day, 28 if start.month == 2 else 31))
    case = terms(start, end, cycle, first_payment, day=1 if cycle is FIXED else None)
    periods = periods_until(case, end)
    assert periods[0].start == case.first_day_billed
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))
    assert periods[-1].end == end
    billed = sum(period.amount for period in periods)
    months = 12
    if first_payment is FirstPayment.COLLECTED_EXTERNALLY:
        months = 11  # less the first cycle (on a fixed day: less part of one)
    slack = 2
    if cycle is THIRTY:
        slack += MONTHLY * 6 // 30
    if cycle is FIXED and first_payment is FirstPayment.FULL_MONTH:
        slack += MONTHLY * 3 // 28  # a month from the start is not quite a cycle's worth
    if cycle is FIXED and first_payment in (
        FirstPayment.FREE_UNTIL_CYCLE,
        FirstPayment.COLLECTED_EXTERNALLY,
    ):
        slack += MONTHLY * 30 // 31  # the days before the first billing day
    assert abs(billed - months * MONTHLY) <= slack


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 5, 9), Period(date(2025, 5, 9), date(2025, 5, 10), 194, whole=False)),
        (date(2025, 5, 10), None),  # the end itself: nothing left
        (date(2025, 6, 1), None),
    ],
)
def test_nothing_is_billed_past_the_end(day: date, expected: Period | None) -> None:
    case = terms(date(2025, 3, 10), date(2025, 5, 10), FIXED, FirstPayment.PRORATED, day=1)
    assert period_from(case, day) == expected  # 5999 × 1/31 = 193.52


@pytest.mark.parametrize(
    ("first_unbilled", "not_before", "expected"),
    [
        (date(2025, 3, 10), date(2025, 3, 10), date(2025, 3, 15)),
        (date(2025, 3, 15), date(2025, 3, 15), date(2025, 3, 15)),
        (date(2025, 3, 16), date(2025, 3, 16), date(2025, 4, 15)),
        (date(2025, 3, 10), date(2025, 4, 15), date(2025, 4, 15)),  # March's was billed
        (date(2025, 12, 20), date(2025, 12, 20), date(2026, 1, 15)),
    ],
)
def test_the_group_period_that_bills_a_member(
    first_unbilled: date, not_before: date, expected: date
) -> None:
    assert group_period_start(15, first_unbilled, not_before) == expected


@pytest.mark.parametrize(
    ("first_unbilled", "group_start", "end", "expected"),
    [
        # On the group's day: a whole month.
        (date(2025, 3, 15), date(2025, 3, 15), date(2026, 3, 15), whole(date(2025, 3, 15), date(2025, 4, 15))),
        # Five days of February's cycle (28 days) in arrears, then March's: 5999 × 33/28.
        (date(2025, 3, 10), date(2025, 3, 15), date(2026, 3, 10), part(date(2025, 3, 10), date(2025, 4, 15), 7070)),
        # The contract ends within the period: 5999 × 5/31 = 967.58.
        (date(2025, 3, 15), date(2025, 3, 15), date(2025, 3, 20), part(date(2025, 3, 15), date(2025, 3, 20), 968)),
    ],
)  # fmt: skip
def test_a_members_share_of_a_group_period(
    first_unbilled: date, group_start: date, end: date, expected: Period
) -> None:
    case = terms(date(2025, 3, 10), end)
    assert group_share(case, 15, first_unbilled, group_start) == expected


def test_a_renewing_members_share_runs_past_the_end() -> None:
    case = terms(date(2025, 3, 15), date(2025, 3, 20), renews=True)
    share = group_share(case, 15, date(2025, 3, 15), date(2025, 3, 15))
    assert share == whole(date(2025, 3, 15), date(2025, 4, 15))
    assert share.end - share.start == timedelta(days=31)
