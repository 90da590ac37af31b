"""Table tests of the calendar maths of general subscriptions (``terms.py``) and of the
effective day of each change option (``options.py``)."""

from __future__ import annotations

from datetime import date

import pytest

from flexbill.catalog.plan_models import PeriodUnit
from flexbill.core.errors import ValidationFailed
from flexbill.plan_subscriptions.models import ChangeOption, TrialUnit
from flexbill.plan_subscriptions.options import Dates, effective_on
from flexbill.plan_subscriptions.terms import (
    Span,
    period_containing,
    period_index,
    period_start,
    term,
    trial_end,
)

d = date.fromisoformat
DAY, WEEK, MONTH, YEAR = PeriodUnit.DAY, PeriodUnit.WEEK, PeriodUnit.MONTH, PeriodUnit.YEAR


@pytest.mark.parametrize(
    ("anchor", "length", "unit", "index", "start"),
    [
        # Months are counted from the anchor, never from the previous period: no drift.
        ("2025-01-31", 1, MONTH, 1, "2025-02-28"),
        ("2025-01-31", 1, MONTH, 2, "2025-03-31"),
        ("2025-01-31", 1, MONTH, 3, "2025-04-30"),
        ("2024-01-31", 1, MONTH, 1, "2024-02-29"),
        ("2025-01-15", 3, MONTH, 2, "2025-07-15"),
        ("2024-02-29", 1, YEAR, 1, "2025-02-28"),
        ("2024-02-29", 1, YEAR, 4, "2028-02-29"),
        ("2025-01-01", 14, DAY, 2, "2025-01-29"),
        ("2025-01-01", 2, WEEK, 1, "2025-01-15"),
        ("2025-03-10", 1, MONTH, -1, "2025-02-10"),
        ("2025-01-01", 1, MONTH, 0, "2025-01-01"),
    ],
)
def test_period_k_starts_k_periods_after_the_anchor(
    anchor: str, length: int, unit: PeriodUnit, index: int, start: str
) -> None:
    assert period_start(d(anchor), length, unit, index) == d(start)


@pytest.mark.parametrize(
    ("anchor", "length", "unit", "day", "index", "span"),
    [
        ("2025-01-31", 1, MONTH, "2025-01-31", 0, ("2025-01-31", "2025-02-28")),
        ("2025-01-31", 1, MONTH, "2025-02-27", 0, ("2025-01-31", "2025-02-28")),
        ("2025-01-31", 1, MONTH, "2025-02-28", 1, ("2025-02-28", "2025-03-31")),
        ("2025-01-31", 1, MONTH, "2025-03-30", 1, ("2025-02-28", "2025-03-31")),
        ("2025-01-31", 1, MONTH, "2025-03-31", 2, ("2025-03-31", "2025-04-30")),
        ("2025-01-15", 3, MONTH, "2025-04-14", 0, ("2025-01-15", "2025-04-15")),
        ("2025-01-15", 3, MONTH, "2025-04-15", 1, ("2025-04-15", "2025-07-15")),
        ("2025-01-01", 1, WEEK, "2025-01-08", 1, ("2025-01-08", "2025-01-15")),
        ("2025-01-01", 10, DAY, "2025-01-10", 0, ("2025-01-01", "2025-01-11")),
        ("2025-01-01", 1, YEAR, "2026-12-31", 1, ("2026-01-01", "2027-01-01")),
        # Before the anchor (the period a suspended subscription would be in).
        ("2025-03-10", 1, MONTH, "2025-03-09", -1, ("2025-02-10", "2025-03-10")),
    ],
)
def test_the_period_containing_a_day(
    anchor: str, length: int, unit: PeriodUnit, day: str, index: int, span: tuple[str, str]
) -> None:
    assert period_index(d(anchor), length, unit, d(day)) == index
    found = period_containing(d(anchor), length, unit, d(day))
    assert (found.start, found.end) == (d(span[0]), d(span[1]))
    assert found.contains(d(day))


def test_a_span_counts_its_days_and_knows_its_last() -> None:
    span = Span(d("2025-02-01"), d("2025-03-01"))
    assert (span.days, span.last_day) == (28, d("2025-02-28"))
    assert not span.contains(d("2025-03-01"))


@pytest.mark.parametrize(
    ("start", "length", "unit", "end"),
    [
        ("2025-01-31", 3, MONTH, "2025-04-30"),
        ("2025-01-01", 2, MONTH, "2025-03-01"),
        ("2025-01-01", 1, YEAR, "2026-01-01"),
        ("2025-01-01", 6, WEEK, "2025-02-12"),
        ("2025-01-01", 30, DAY, "2025-01-31"),
    ],
)
def test_a_term_lasts_its_units(start: str, length: int, unit: PeriodUnit, end: str) -> None:
    assert term(d(start), length, unit) == Span(d(start), d(end))


@pytest.mark.parametrize(
    ("start", "length", "unit", "end"),
    [
        ("2025-01-01", 14, TrialUnit.DAYS, "2025-01-15"),
        ("2025-01-31", 1, TrialUnit.MONTHS, "2025-02-28"),
        ("2025-12-20", 14, TrialUnit.DAYS, "2026-01-03"),
    ],
)
def test_a_trial_ends_after_its_days_or_months(
    start: str, length: int, unit: TrialUnit, end: str
) -> None:
    assert trial_end(d(start), length, unit) == d(end)


@pytest.mark.parametrize("length", [0, -1])
def test_nothing_lasts_less_than_one_unit(length: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        term(d("2025-01-01"), length, MONTH)
    with pytest.raises(ValueError, match="at least one"):
        period_index(d("2025-01-01"), length, MONTH, d("2025-02-01"))
    with pytest.raises(ValueError, match="at least one"):
        trial_end(d("2025-01-01"), length, TrialUnit.DAYS)


TODAY = d("2025-03-10")
BILLED = Dates(
    today=TODAY,
    last_invoice_period_end=d("2025-04-01"),
    current_term_end=d("2025-07-01"),
    current_period_end=d("2025-04-01"),
)
EVERGREEN = Dates(
    today=TODAY, last_invoice_period_end=d("2025-04-01"), current_period_end=d("2025-04-01")
)
NOTHING_BILLED = Dates(today=TODAY)
LONG_AGO = Dates(
    today=TODAY, last_invoice_period_end=d("2025-01-01"), current_term_end=d("2025-02-01")
)


@pytest.mark.parametrize(
    ("option", "dates", "on", "effective"),
    [
        (ChangeOption.TODAY, BILLED, None, TODAY),
        (ChangeOption.END_OF_LAST_INVOICE_PERIOD, BILLED, None, d("2025-04-01")),
        (ChangeOption.END_OF_LAST_INVOICE_PERIOD, NOTHING_BILLED, None, TODAY),
        (ChangeOption.END_OF_LAST_INVOICE_PERIOD, LONG_AGO, None, TODAY),
        (ChangeOption.SPECIFIC_DATE, BILLED, d("2025-05-17"), d("2025-05-17")),
        (ChangeOption.SPECIFIC_DATE, BILLED, TODAY, TODAY),
        (ChangeOption.END_OF_CURRENT_TERM, BILLED, None, d("2025-07-01")),
        (ChangeOption.END_OF_CURRENT_TERM, EVERGREEN, None, d("2025-04-01")),
        (ChangeOption.END_OF_CURRENT_TERM, NOTHING_BILLED, None, TODAY),
        (ChangeOption.END_OF_CURRENT_TERM, LONG_AGO, None, TODAY),
    ],
)
def test_the_day_each_option_takes_effect(
    option: ChangeOption, dates: Dates, on: date | None, effective: date
) -> None:
    assert effective_on(option, dates, on) == effective


@pytest.mark.parametrize(
    ("option", "on", "code"),
    [
        (ChangeOption.SPECIFIC_DATE, None, "required"),
        (ChangeOption.SPECIFIC_DATE, d("2025-03-09"), "too_small"),
        (ChangeOption.TODAY, d("2025-05-01"), "invalid"),
        (ChangeOption.END_OF_CURRENT_TERM, d("2025-05-01"), "invalid"),
    ],
)
def test_a_date_only_with_specific_date_and_never_in_the_past(
    option: ChangeOption, on: date | None, code: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        effective_on(option, BILLED, on)
    assert [(detail.path, detail.code) for detail in raised.value.details] == [("date", code)]
