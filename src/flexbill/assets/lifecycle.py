"""The asset status machine: which status changes each cause may make. Pure, no I/O.

Causes are kept apart on purpose. A person (through ``PUT``) only moves a unit between
the warehouse states; ``rented_out`` and ``sold`` belong to subscriptions and buyouts, so
that an asset's status can never disagree with the rental that holds it.

    register            → available | unavailable
    manual (PUT)        available ↔ unavailable;  returned → available | unavailable
    assign              available → rented_out
    release             rented_out → returned | available | unavailable | sold
    delete              any but rented_out → unavailable
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flexbill.core.errors import Conflict, InvalidState, ValidationFailed


class AssetStatus(StrEnum):
    AVAILABLE = "available"
    RENTED_OUT = "rented_out"
    RETURNED = "returned"
    SOLD = "sold"
    UNAVAILABLE = "unavailable"


REGISTRATION_STATUSES = frozenset({AssetStatus.AVAILABLE, AssetStatus.UNAVAILABLE})

MANUAL_TRANSITIONS: Mapping[AssetStatus, frozenset[AssetStatus]] = {
    AssetStatus.AVAILABLE: frozenset({AssetStatus.UNAVAILABLE}),
    AssetStatus.UNAVAILABLE: frozenset({AssetStatus.AVAILABLE}),
    AssetStatus.RETURNED: frozenset({AssetStatus.AVAILABLE, AssetStatus.UNAVAILABLE}),
    AssetStatus.RENTED_OUT: frozenset(),
    AssetStatus.SOLD: frozenset(),
}

RELEASE_STATUSES = frozenset(
    {AssetStatus.RETURNED, AssetStatus.AVAILABLE, AssetStatus.UNAVAILABLE, AssetStatus.SOLD}
)


def can_register_as(status: AssetStatus) -> bool:
    return status in REGISTRATION_STATUSES


def can_change_manually(current: AssetStatus, target: AssetStatus) -> bool:
    """Keeping the current status is always allowed: a client may send back what it read."""
    return current == target or target in MANUAL_TRANSITIONS[current]


def can_assign(current: AssetStatus) -> bool:
    return current == AssetStatus.AVAILABLE


def can_release(current: AssetStatus, target: AssetStatus) -> bool:
    return current == AssetStatus.RENTED_OUT and target in RELEASE_STATUSES


def can_delete(current: AssetStatus) -> bool:
    return current != AssetStatus.RENTED_OUT


def can_change_sku(current: AssetStatus) -> bool:
    """The SKU of a unit out on rent is what its subscription bills for."""
    return current != AssetStatus.RENTED_OUT


def check_registration(status: AssetStatus) -> None:
    if not can_register_as(status):
        allowed = " or ".join(sorted(REGISTRATION_STATUSES))
        raise ValidationFailed.field(
            "status", f"A new asset's status must be {allowed}", "invalid_enum_value"
        )


def check_manual_change(current: AssetStatus, target: AssetStatus) -> None:
    if not can_change_manually(current, target):
        raise InvalidState(
            "INVALID_STATUS_TRANSITION",
            f"An asset cannot be moved from '{current}' to '{target}' by an update; "
            "rented_out and sold are set and cleared only by subscriptions and buyouts",
        )


def check_assign(current: AssetStatus) -> None:
    if not can_assign(current):
        raise InvalidState(
            "ASSET_NOT_AVAILABLE", f"The asset is '{current}'; only available assets are assigned"
        )


def check_release(current: AssetStatus, target: AssetStatus) -> None:
    if not can_release(current, target):
        raise InvalidState(
            "INVALID_STATUS_TRANSITION",
            f"An asset cannot be released from '{current}' to '{target}'",
        )


def check_delete(current: AssetStatus) -> None:
    if not can_delete(current):
        raise in_use("The asset is rented out; end its subscription before deleting it")


def check_sku_change(current: AssetStatus) -> None:
    if not can_change_sku(current):
        raise in_use("The asset is rented out; its SKU cannot change during a subscription")


def in_use(message: str) -> Conflict:
    return Conflict("ASSET_IN_USE", message)
