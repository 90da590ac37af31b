"""The order status machine, as tables of every (status, action) pair."""

from __future__ import annotations

import itertools

import pytest

from flexbill.core.errors import Conflict, FlexbillError, InvalidState
from flexbill.orders import lifecycle
from flexbill.orders.lifecycle import Action, OrderStatus, RentalStatus

PENDING, CONFIRMED, PARTIAL, FULFILLED, CANCELLED = (
    OrderStatus.PENDING,
    OrderStatus.CONFIRMED,
    OrderStatus.PARTIAL,
    OrderStatus.FULFILLED,
    OrderStatus.CANCELLED,
)

ALLOWED = {
    (PENDING, Action.CONFIRM): CONFIRMED,
    (PENDING, Action.CANCEL): CANCELLED,
    (CONFIRMED, Action.CANCEL): CANCELLED,
    (CONFIRMED, Action.RENT): PARTIAL,
    (CONFIRMED, Action.RENT_LAST): FULFILLED,
    (PARTIAL, Action.RENT): PARTIAL,
    (PARTIAL, Action.RENT_LAST): FULFILLED,
}


def test_the_five_statuses_of_flexportal() -> None:
    assert [s.value for s in OrderStatus] == [
        "pending", "confirmed", "partial", "fulfilled", "cancelled",
    ]  # fmt: skip
    assert [s.value for s in RentalStatus] == ["pending", "partial", "completed"]


@pytest.mark.parametrize(("status", "action"), list(itertools.product(OrderStatus, Action)))
def test_transitions(status: OrderStatus, action: Action) -> None:
    assert lifecycle.next_status(status, action) == ALLOWED.get((status, action))


@pytest.mark.parametrize("status", list(OrderStatus))
def test_confirm(status: OrderStatus) -> None:
    if status is PENDING:
        assert lifecycle.confirm(status) is CONFIRMED
        return
    with pytest.raises(InvalidState) as refused:
        lifecycle.confirm(status)
    assert refused.value.code == "INVALID_ORDER_STATUS"


@pytest.mark.parametrize(
    ("status", "rented", "allowed"),
    [
        (PENDING, 0, True),
        (CONFIRMED, 0, True),
        (CONFIRMED, 1, False),  # a subscription exists, whatever the status says
        (PARTIAL, 1, False),
        (FULFILLED, 3, False),
        (CANCELLED, 0, False),
    ],
)
def test_cancel(status: OrderStatus, rented: int, allowed: bool) -> None:
    if allowed:
        assert lifecycle.cancel(status, rented) is CANCELLED
        return
    with pytest.raises(FlexbillError) as refused:
        lifecycle.cancel(status, rented)
    assert refused.value.code == "ORDER_NOT_CANCELLABLE"


@pytest.mark.parametrize(
    ("status", "rented", "total", "outcome"),
    [
        (CONFIRMED, 0, 3, PARTIAL),
        (CONFIRMED, 0, 1, FULFILLED),
        (PARTIAL, 1, 3, PARTIAL),
        (PARTIAL, 2, 3, FULFILLED),
        (PENDING, 0, 3, "ORDER_NOT_CONFIRMED"),
        (CANCELLED, 0, 3, "ORDER_NOT_CONFIRMED"),
        (FULFILLED, 3, 3, "ITEM_FULLY_FULFILLED"),
        (PARTIAL, 3, 3, "ITEM_FULLY_FULFILLED"),
    ],
)
def test_rent(status: OrderStatus, rented: int, total: int, outcome: OrderStatus | str) -> None:
    if isinstance(outcome, OrderStatus):
        assert lifecycle.rent(status, rented, total) is outcome
        return
    with pytest.raises(FlexbillError) as refused:
        lifecycle.rent(status, rented, total)
    assert refused.value.code == outcome
    expected_kind = Conflict if outcome == "ITEM_FULLY_FULFILLED" else InvalidState
    assert isinstance(refused.value, expected_kind)


@pytest.mark.parametrize(
    ("rented", "quantity", "status"),
    [
        (0, 1, RentalStatus.PENDING),
        (0, 3, RentalStatus.PENDING),
        (1, 3, RentalStatus.PARTIAL),
        (2, 3, RentalStatus.PARTIAL),
        (3, 3, RentalStatus.COMPLETED),
        (1, 1, RentalStatus.COMPLETED),
    ],
)
def test_item_status(rented: int, quantity: int, status: RentalStatus) -> None:
    assert lifecycle.item_status(rented, quantity) is status
