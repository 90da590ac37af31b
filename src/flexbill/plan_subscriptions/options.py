"""The day a suspension, resumption or cancellation takes effect, by SubscriptionFlow's
four options (seed 004). Pure.

- ``today``: today.
- ``end_of_last_invoice_period``: the end (exclusive) of the last period invoiced in
  advance; today when nothing was invoiced in advance, or when that end has passed.
- ``specific_date``: the date given, which is required, and not before today.
- ``end_of_current_term``: a termed subscription's current term end; for an evergreen
  one, the end of its current in-advance period (today when it has none).

A date is given only with ``specific_date``; any other option with a date is refused,
so that a client never believes a date was taken when it was not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flexbill.core.errors import ValidationFailed
from flexbill.plan_subscriptions.models import ChangeOption


@dataclass(frozen=True)
class Dates:
    """What the options read from a subscription, as of ``today``."""

    today: date
    last_invoice_period_end: date | None = None
    current_term_end: date | None = None  # termed subscriptions only
    current_period_end: date | None = None  # the current in-advance period's end


def effective_on(option: ChangeOption, dates: Dates, on: date | None = None) -> date:
    """The day ``option`` (with ``on`` for ``specific_date``) takes effect."""
    today = dates.today
    if option is ChangeOption.SPECIFIC_DATE:
        if on is None:
            raise ValidationFailed.field("date", "specific_date needs a date", "required")
        if on < today:
            raise ValidationFailed.field(
                "date", f"The date must not be before today ({today.isoformat()})", "too_small"
            )
        return on
    if on is not None:
        raise ValidationFailed.field(
            "date", f"A date is only taken with the option {ChangeOption.SPECIFIC_DATE.value}"
        )
    if option is ChangeOption.TODAY:
        return today
    if option is ChangeOption.END_OF_LAST_INVOICE_PERIOD:
        end = dates.last_invoice_period_end
    else:
        end = dates.current_term_end or dates.current_period_end
    return today if end is None or end < today else end
