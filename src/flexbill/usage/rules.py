"""What makes a usage record acceptable. Pure: no I/O, no clock.

A record is judged in two steps: on its own (``shape_problem``: quantity, dates, lengths)
and against the subscription item it names (``placement_problem``). Each gives the first
problem found as an error whose one detail names the field (``quantity``, ``startDate``,
…), so that a batch can prefix the record's position (``records.3.startDate``).

**Quantities** are decimals of at most 6 places below one billion. The limit keeps every
quantity within 15 significant digits, which both databases store exactly (SQLite keeps
``NUMERIC`` values as 64-bit floats, exact up to 15 digits), so a recorded quantity is
read back and rated as it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flexbill.catalog.plan_models import BillingTiming, ChargeModel
from flexbill.core.errors import (
    Conflict,
    ErrorDetail,
    FlexbillError,
    InvalidState,
    ValidationFailed,
)
from flexbill.core.money import decimal_places
from flexbill.plan_subscriptions.models import PlanSubscriptionStatus
from flexbill.usage.models import MAX_CLIENT_ID_LENGTH

QUANTITY_PLACES = 6
QUANTITY_LIMIT = Decimal(1_000_000_000)  # exclusive
MAX_NAME_LENGTH = 200

# A subscription in these states is not billed, so usage recorded for it would never be.
NOT_BILLABLE = frozenset(
    {PlanSubscriptionStatus.DRAFT, PlanSubscriptionStatus.CANCELLED, PlanSubscriptionStatus.EXPIRED}
)


@dataclass(frozen=True)
class NewUsage:
    """One usage record as a client sends it. ``client_id`` makes a retry harmless; without
    one, the record's own id serves as its client id."""

    subscription_id: str
    item_id: str
    quantity: Decimal
    start_date: date
    end_date: date
    client_id: str | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Target:
    """What a record is judged against: its item and the item's subscription."""

    subscription_id: str
    subscription_status: str
    item_subscription_id: str
    started_on: date
    ended_on: date | None  # exclusive
    billed_through: date | None  # the first day not rated yet
    billing_timing: str
    charge_model: str


def _one(path: str, message: str, code: str) -> tuple[ErrorDetail, ...]:
    return (ErrorDetail(path=path, message=message, code=code),)


def _invalid(path: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, _one(path, message, code))


def shape_problem(new: NewUsage) -> FlexbillError | None:
    """What is wrong with ``new`` on its own, or ``None``."""
    quantity = new.quantity
    if not quantity.is_finite():
        return _invalid("quantity", "quantity must be a number", "invalid_type")
    if quantity < 0:
        return _invalid("quantity", "quantity must not be negative", "too_small")
    if quantity >= QUANTITY_LIMIT:
        return _invalid("quantity", f"quantity must be below {QUANTITY_LIMIT:,}", "too_big")
    if decimal_places(quantity) > QUANTITY_PLACES:
        message = f"quantity has at most {QUANTITY_PLACES} decimal places"
        return _invalid("quantity", message, "not_multiple_of")
    if new.end_date < new.start_date:
        return _invalid("endDate", "endDate must not be before startDate", "too_small")
    if new.client_id is not None and not 1 <= len(new.client_id) <= MAX_CLIENT_ID_LENGTH:
        message = f"id must be 1 to {MAX_CLIENT_ID_LENGTH} characters long"
        return _invalid("id", message, "too_big" if new.client_id else "too_small")
    if new.name is not None and len(new.name) > MAX_NAME_LENGTH:
        return _invalid("name", f"name has at most {MAX_NAME_LENGTH} characters", "too_big")
    return None


def subscription_not_found(subscription_id: str) -> FlexbillError:
    message = f"Subscription '{subscription_id}' not found"
    return FlexbillError(
        "SUBSCRIPTION_NOT_FOUND", message, _one("subscriptionId", message, "not_found")
    )


def item_not_found(item_id: str, subscription_id: str) -> FlexbillError:
    message = f"Subscription '{subscription_id}' has no item '{item_id}'"
    return FlexbillError(
        "SUBSCRIPTION_ITEM_NOT_FOUND", message, _one("itemId", message, "not_found")
    )


def is_metered(billing_timing: str, charge_model: str) -> bool:
    """Whether a price is rated from recorded usage: billed in arrears, by quantity."""
    return billing_timing == BillingTiming.IN_ARREARS and charge_model != ChargeModel.FLAT_FEE


def placement_problem(new: NewUsage, target: Target) -> FlexbillError | None:
    """What keeps ``new`` from being recorded on ``target``, or ``None``."""
    if target.item_subscription_id != new.subscription_id:
        return item_not_found(new.item_id, new.subscription_id)
    if target.subscription_status in NOT_BILLABLE:
        message = (
            f"Subscription '{new.subscription_id}' is {target.subscription_status}; "
            "usage can only be recorded for a subscription that is billed"
        )
        return InvalidState(
            "SUBSCRIPTION_NOT_BILLABLE", message, _one("subscriptionId", message, "not_billable")
        )
    if not is_metered(target.billing_timing, target.charge_model):
        message = (
            f"Item '{new.item_id}' is not rated from usage: its price is "
            f"{target.charge_model}, billed {target.billing_timing}"
        )
        return InvalidState("USAGE_NOT_METERED", message, _one("itemId", message, "not_metered"))
    if new.start_date < target.started_on:
        message = f"startDate is before the item started ({target.started_on.isoformat()})"
        return _invalid("startDate", message, "too_small")
    if target.ended_on is not None and new.start_date >= target.ended_on:
        message = f"startDate is on or after the item ended ({target.ended_on.isoformat()})"
        return _invalid("startDate", message, "too_big")
    if target.billed_through is not None and new.start_date < target.billed_through:
        message = (
            f"The period of {new.start_date.isoformat()} is invoiced already; usage is "
            f"accepted from {target.billed_through.isoformat()} on"
        )
        return Conflict("USAGE_PERIOD_CLOSED", message, _one("startDate", message, "closed"))
    return None


def same_content(new: NewUsage, stored: NewUsage) -> bool:
    """Whether ``new`` repeats ``stored`` (quantities compare by value: 2.5 = 2.500)."""
    return (
        new.subscription_id == stored.subscription_id
        and new.item_id == stored.item_id
        and new.quantity == stored.quantity
        and new.start_date == stored.start_date
        and new.end_date == stored.end_date
        and new.name == stored.name
        and new.description == stored.description
    )


def id_conflict(client_id: str) -> Conflict:
    message = (
        f"A different usage record was already sent with id '{client_id}'; "
        "a retry must repeat the same content"
    )
    return Conflict("USAGE_ID_CONFLICT", message, _one("id", message, "conflict"))
