"""The subscription status machine. Pure, no I/O.

The domain keeps a status and, for ended subscriptions, why they ended; FlexPortal shows
the two as one word (``ended_buyout``), which ``display_status`` builds and
``parse_display_status`` reads back.

    (create)        ─► active
    extend, replace     active ─► active
    upgrade             active ─► ended (upgrade)       a new active subscription follows
    buyout              active ─► ended (buyout)
    early return        active ─► ended (early_return)
    cancel              active | suspended ─► cancelled
    contract end        active ─► ended (completed)     the billing worker's decision
    dunning             active ─► suspended ─(paid)─► active

``cancelled`` and ``ended`` are final.
"""

from __future__ import annotations

from enum import StrEnum

from flexbill.core.errors import Conflict, InvalidState


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # payments failed for good; the business unit chose to suspend
    CANCELLED = "cancelled"
    ENDED = "ended"


class EndReason(StrEnum):
    COMPLETED = "completed"
    BUYOUT = "buyout"
    UPGRADE = "upgrade"
    EARLY_RETURN = "early_return"


DISPLAY_STATUSES: tuple[str, ...] = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.SUSPENDED,  # flexbill's: FlexPortal has no dunning
    SubscriptionStatus.CANCELLED,
    *(f"{SubscriptionStatus.ENDED}_{reason}" for reason in EndReason),
)
"""What FlexPortal calls the statuses: ``active``, ``cancelled``, ``ended_completed``, …"""


def display_status(status: str, end_reason: str | None) -> str:
    if status == SubscriptionStatus.ENDED and end_reason is not None:
        return f"{status}_{end_reason}"
    return status


def parse_display_status(value: str) -> tuple[SubscriptionStatus, EndReason | None]:
    """``ended_buyout`` → (ended, buyout); ``active`` → (active, None). ``ValueError`` for
    anything that is not one of ``DISPLAY_STATUSES``."""
    if value not in DISPLAY_STATUSES:
        raise ValueError(f"unknown subscription status: {value!r}")
    if value.startswith(f"{SubscriptionStatus.ENDED}_"):
        return SubscriptionStatus.ENDED, EndReason(value.split("_", 1)[1])
    return SubscriptionStatus(value), None


def is_active(status: str) -> bool:
    return status == SubscriptionStatus.ACTIVE


def check_active(status: str, end_reason: str | None, operation: str) -> None:
    """Extend, upgrade, buyout, replace and early return need an active subscription."""
    if not is_active(status):
        raise InvalidState(
            "SUBSCRIPTION_NOT_ACTIVE",
            f"Only active subscriptions can be {operation}; this one is "
            f"'{display_status(status, end_reason)}'",
        )


def is_live(status: str) -> bool:
    """Still a contract: the device is with the customer (active, or suspended for
    non-payment)."""
    return status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)


def check_cancellable(status: str, end_reason: str | None) -> None:
    if status == SubscriptionStatus.CANCELLED:
        raise Conflict("ALREADY_CANCELLED", "The subscription is already cancelled")
    if status == SubscriptionStatus.ENDED:
        raise Conflict(
            "ALREADY_ENDED",
            f"The subscription has already ended ('{display_status(status, end_reason)}')",
        )
