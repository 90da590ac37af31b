"""The extension settings applied to one extension request: pure table tests."""

from __future__ import annotations

from datetime import date

import pytest

from flexbill.core.errors import FlexbillError
from flexbill.settings.rules import Extensions
from flexbill.subscriptions.extension_rules import check_extension, days_before_end

END = date(2025, 12, 31)
DEFAULTS = Extensions()  # lengths 6 and 12, at most 3 extensions, until the last day
STRICT = Extensions(available_lengths=(3, 24), max_extensions=1, min_days_before_end=30)
OPEN = Extensions(available_lengths=(1, 120), max_extensions=100)
NONE_ALLOWED = Extensions(max_extensions=0)


@pytest.mark.parametrize(
    ("rules", "months", "so_far", "today"),
    [
        (DEFAULTS, 6, 0, date(2025, 1, 1)),
        (DEFAULTS, 12, 2, date(2025, 12, 31)),  # on the end date itself, with 0 days required
        (STRICT, 3, 0, date(2025, 12, 1)),  # exactly 30 days before the end
        (STRICT, 24, 0, date(2025, 1, 1)),
        (OPEN, 1, 99, date(2025, 6, 30)),
        (OPEN, 120, 0, date(2025, 6, 30)),
    ],
)
def test_allowed(rules: Extensions, months: int, so_far: int, today: date) -> None:
    check_extension(rules, months=months, extensions_so_far=so_far, today=today, end_date=END)


@pytest.mark.parametrize(
    ("rules", "months", "so_far", "today", "code"),
    [
        (DEFAULTS, 7, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (DEFAULTS, 0, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (DEFAULTS, -6, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (DEFAULTS, 121, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (STRICT, 6, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),  # not offered here
        (OPEN, 0, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (OPEN, 121, 0, date(2025, 1, 1), "INVALID_EXTENSION_MONTHS"),
        (DEFAULTS, 6, 3, date(2025, 1, 1), "MAX_EXTENSIONS_REACHED"),
        (DEFAULTS, 6, 4, date(2025, 1, 1), "MAX_EXTENSIONS_REACHED"),
        (STRICT, 3, 1, date(2025, 1, 1), "MAX_EXTENSIONS_REACHED"),
        (NONE_ALLOWED, 6, 0, date(2025, 1, 1), "MAX_EXTENSIONS_REACHED"),
        (STRICT, 3, 0, date(2025, 12, 2), "EXTENSION_TOO_LATE"),  # 29 days left
        (DEFAULTS, 6, 0, date(2026, 1, 1), "EXTENSION_TOO_LATE"),  # past the end date
        (OPEN, 1, 0, date(2026, 3, 1), "EXTENSION_TOO_LATE"),
        # Months are judged first, then the count, then the date.
        (STRICT, 6, 1, date(2025, 12, 30), "INVALID_EXTENSION_MONTHS"),
        (STRICT, 3, 1, date(2025, 12, 30), "MAX_EXTENSIONS_REACHED"),
    ],
)
def test_refused(rules: Extensions, months: int, so_far: int, today: date, code: str) -> None:
    with pytest.raises(FlexbillError) as raised:
        check_extension(rules, months=months, extensions_so_far=so_far, today=today, end_date=END)
    assert raised.value.code == code


def test_invalid_months_name_the_field_and_the_offered_lengths() -> None:
    with pytest.raises(FlexbillError) as raised:
        check_extension(
            STRICT, months=12, extensions_so_far=0, today=date(2025, 1, 1), end_date=END
        )
    (detail,) = raised.value.details
    assert (detail.path, detail.code) == ("extensionMonths", "invalid_enum_value")
    assert detail.message == "must be one of: 3, 24"


@pytest.mark.parametrize(
    ("today", "days"),
    [
        (date(2025, 12, 31), 0),
        (date(2025, 12, 1), 30),
        (date(2024, 12, 31), 365),
        (date(2026, 1, 2), -2),
    ],
)
def test_days_before_end(today: date, days: int) -> None:
    assert days_before_end(today, END) == days
