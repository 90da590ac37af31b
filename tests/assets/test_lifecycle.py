"""The asset status machine, cause by cause, as tables of every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from flexbill.assets import lifecycle
from flexbill.assets.lifecycle import AssetStatus
from flexbill.core.errors import Conflict, InvalidState, ValidationFailed

AVAILABLE, RENTED_OUT, RETURNED, SOLD, UNAVAILABLE = (
    AssetStatus.AVAILABLE,
    AssetStatus.RENTED_OUT,
    AssetStatus.RETURNED,
    AssetStatus.SOLD,
    AssetStatus.UNAVAILABLE,
)
ALL_PAIRS = list(itertools.product(AssetStatus, repeat=2))

# What a person may do through PUT, besides keeping the status as it is.
MANUAL_CHANGES = {
    (AVAILABLE, UNAVAILABLE),
    (UNAVAILABLE, AVAILABLE),
    (RETURNED, AVAILABLE),
    (RETURNED, UNAVAILABLE),
}
RELEASES = {
    (RENTED_OUT, RETURNED),
    (RENTED_OUT, AVAILABLE),
    (RENTED_OUT, UNAVAILABLE),
    (RENTED_OUT, SOLD),
}


def test_the_five_statuses_of_flexportal() -> None:
    assert [s.value for s in AssetStatus] == [
        "available",
        "rented_out",
        "returned",
        "sold",
        "unavailable",
    ]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_manual_changes(current: AssetStatus, target: AssetStatus) -> None:
    allowed = current == target or (current, target) in MANUAL_CHANGES
    assert lifecycle.can_change_manually(current, target) is allowed
    if allowed:
        lifecycle.check_manual_change(current, target)
    else:
        with pytest.raises(InvalidState) as refused:
            lifecycle.check_manual_change(current, target)
        assert refused.value.code == "INVALID_STATUS_TRANSITION"


@pytest.mark.parametrize("status", [RENTED_OUT, SOLD])
def test_rented_out_and_sold_are_neither_set_nor_left_by_hand(status: AssetStatus) -> None:
    others = [s for s in AssetStatus if s != status]
    assert not any(lifecycle.can_change_manually(other, status) for other in others)
    assert not any(lifecycle.can_change_manually(status, other) for other in others)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(AVAILABLE, True), (UNAVAILABLE, True), (RENTED_OUT, False), (RETURNED, False), (SOLD, False)],
)
def test_registration(status: AssetStatus, allowed: bool) -> None:
    assert lifecycle.can_register_as(status) is allowed
    if allowed:
        lifecycle.check_registration(status)
    else:
        with pytest.raises(ValidationFailed) as refused:
            lifecycle.check_registration(status)
        assert [(d.path, d.code) for d in refused.value.details] == [
            ("status", "invalid_enum_value")
        ]


@pytest.mark.parametrize("status", list(AssetStatus))
def test_only_available_units_are_assigned(status: AssetStatus) -> None:
    assert lifecycle.can_assign(status) is (status == AVAILABLE)
    if status != AVAILABLE:
        with pytest.raises(InvalidState) as refused:
            lifecycle.check_assign(status)
        assert refused.value.code == "ASSET_NOT_AVAILABLE"


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_releases(current: AssetStatus, target: AssetStatus) -> None:
    allowed = (current, target) in RELEASES
    assert lifecycle.can_release(current, target) is allowed
    if not allowed:
        with pytest.raises(InvalidState) as refused:
            lifecycle.check_release(current, target)
        assert refused.value.code == "INVALID_STATUS_TRANSITION"


@pytest.mark.parametrize("status", list(AssetStatus))
def test_delete_and_sku_change_are_refused_only_while_rented_out(status: AssetStatus) -> None:
    in_use = status == RENTED_OUT
    assert lifecycle.can_delete(status) is not in_use
    assert lifecycle.can_change_sku(status) is not in_use
    for check in (lifecycle.check_delete, lifecycle.check_sku_change):
        if in_use:
            with pytest.raises(Conflict) as refused:
                check(status)
            assert refused.value.code == "ASSET_IN_USE"
        else:
            check(status)
