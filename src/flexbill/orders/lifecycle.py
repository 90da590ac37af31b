"""The order status machine and the fulfilment of its items. Pure, no I/O.

    pending ──confirm──► confirmed ──rent──► partial ──rent (last device)──► fulfilled
                              └──────────rent (last device)──────────────────┘
    pending | confirmed ──cancel──► cancelled     (only while no device is rented)

A device is "rented" when a subscription is created for it. Each item moves the same way,
by its own count: pending (none rented) → partial → completed (all ``quantity`` rented).
``fulfilled`` and ``cancelled`` are final.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flexbill.core.errors import Conflict, FlexbillError, InvalidState


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class RentalStatus(StrEnum):
    """How far one order item is fulfilled."""

    PENDING = "pending"
    PARTIAL = "partial"
    COMPLETED = "completed"


class Action(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RENT = "rent"  # a device is rented and others remain
    RENT_LAST = "rent_last"  # the order's last device is rented


TRANSITIONS: Mapping[OrderStatus, Mapping[Action, OrderStatus]] = {
    OrderStatus.PENDING: {
        Action.CONFIRM: OrderStatus.CONFIRMED,
        Action.CANCEL: OrderStatus.CANCELLED,
    },
    OrderStatus.CONFIRMED: {
        Action.CANCEL: OrderStatus.CANCELLED,
        Action.RENT: OrderStatus.PARTIAL,
        Action.RENT_LAST: OrderStatus.FULFILLED,
    },
    OrderStatus.PARTIAL: {
        Action.RENT: OrderStatus.PARTIAL,
        Action.RENT_LAST: OrderStatus.FULFILLED,
    },
    OrderStatus.FULFILLED: {},
    OrderStatus.CANCELLED: {},
}


def next_status(current: OrderStatus, action: Action) -> OrderStatus | None:
    """The status ``action`` leads to from ``current``, or ``None`` if it is not allowed."""
    return TRANSITIONS[current].get(action)


def confirm(current: OrderStatus) -> OrderStatus:
    target = next_status(current, Action.CONFIRM)
    if target is None:
        raise InvalidState(
            "INVALID_ORDER_STATUS",
            f"Only pending orders can be confirmed; this order is '{current}'",
        )
    return target


def cancel(current: OrderStatus, rented_devices: int) -> OrderStatus:
    """Cancelling is refused once any device of the order is rented, whatever the status
    says: a subscription would otherwise outlive its order."""
    target = next_status(current, Action.CANCEL)
    if target is None or rented_devices > 0:
        raise FlexbillError(
            "ORDER_NOT_CANCELLABLE",
            f"Only pending or confirmed orders without subscriptions can be cancelled; "
            f"this order is '{current}'",
        )
    return target


def rent(current: OrderStatus, rented_devices: int, total_devices: int) -> OrderStatus:
    """The order's status once one more device is rented (``rented_devices`` counts the
    devices rented before this one)."""
    if rented_devices >= total_devices:
        raise fully_fulfilled("Every device of this order is already rented")
    last = rented_devices + 1 == total_devices
    target = next_status(current, Action.RENT_LAST if last else Action.RENT)
    if target is None:
        raise not_confirmed(current)
    return target


def can_rent(current: OrderStatus) -> bool:
    """Whether devices may be rented for an order in ``current`` (if any are left)."""
    return bool(TRANSITIONS[current].get(Action.RENT_LAST))


def not_confirmed(current: OrderStatus) -> InvalidState:
    return InvalidState(
        "ORDER_NOT_CONFIRMED",
        f"Devices are rented only for confirmed orders; this order is '{current}'",
    )


def item_status(rented: int, quantity: int) -> RentalStatus:
    if rented <= 0:
        return RentalStatus.PENDING
    return RentalStatus.COMPLETED if rented >= quantity else RentalStatus.PARTIAL


def fully_fulfilled(message: str) -> Conflict:
    return Conflict("ITEM_FULLY_FULFILLED", message)
