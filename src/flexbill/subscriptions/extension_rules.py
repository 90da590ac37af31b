"""Whether a running contract may be extended, by the business unit's extension settings.
Pure, no I/O.

FlexPortal's settings (seed reference §1.5) offer a list of extension lengths, a maximum
number of extensions per subscription and a minimum number of days before the contract's
end after which it is too late to extend. ``approval_required`` is not checked here: it is
a dashboard workflow, and whoever calls the API with a key is the approver.
"""

from __future__ import annotations

from datetime import date

from flexbill.core.errors import ErrorDetail, FlexbillError, InvalidState
from flexbill.settings.rules import Extensions

MIN_MONTHS = 1
MAX_MONTHS = 120


def invalid_months(months: int, available: tuple[int, ...]) -> FlexbillError:
    offered = ", ".join(str(length) for length in sorted(available)) or "none"
    return FlexbillError(
        "INVALID_EXTENSION_MONTHS",
        f"Subscriptions are extended by {offered} months, not {months}",
        (
            ErrorDetail(
                path="extensionMonths",
                message=f"must be one of: {offered}",
                code="invalid_enum_value",
            ),
        ),
    )


def days_before_end(today: date, end_date: date) -> int:
    """Days from ``today`` until the contract ends; negative once the end has passed."""
    return (end_date - today).days


def check_extension(
    rules: Extensions, *, months: int, extensions_so_far: int, today: date, end_date: date
) -> None:
    """Refuse an extension by ``months`` of a contract ending on ``end_date`` that was
    extended ``extensions_so_far`` times, asked for on ``today``.

    Raises ``INVALID_EXTENSION_MONTHS`` (outside 1–120 months or not an offered length),
    ``MAX_EXTENSIONS_REACHED`` or ``EXTENSION_TOO_LATE`` (fewer than
    ``min_days_before_end`` days left; a contract past its end date is always too late).
    """
    if not MIN_MONTHS <= months <= MAX_MONTHS or months not in rules.available_lengths:
        raise invalid_months(months, rules.available_lengths)
    if extensions_so_far >= rules.max_extensions:
        raise InvalidState(
            "MAX_EXTENSIONS_REACHED",
            f"This subscription was extended {extensions_so_far} times; "
            f"the limit is {rules.max_extensions}",
        )
    days_left = days_before_end(today, end_date)
    if days_left < rules.min_days_before_end:
        left = f"{days_left} days are left" if days_left >= 0 else "that date has passed"
        raise InvalidState(
            "EXTENSION_TOO_LATE",
            f"Extensions must be made at least {rules.min_days_before_end} days before the "
            f"contract ends on {end_date.isoformat()}; {left}",
        )
