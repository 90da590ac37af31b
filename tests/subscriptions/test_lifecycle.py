"""The subscription status machine (pure): display statuses and the refusals."""

from __future__ import annotations

import pytest

from flexbill.core.errors import FlexbillError
from flexbill.subscriptions.lifecycle import (
    DISPLAY_STATUSES,
    EndReason,
    SubscriptionStatus,
    check_active,
    check_cancellable,
    display_status,
    parse_display_status,
)


def test_flexportal_status_vocabulary() -> None:
    assert DISPLAY_STATUSES == (
        "active", "suspended", "cancelled", "ended_completed", "ended_buyout", "ended_upgrade",
        "ended_early_return",
    )  # fmt: skip


@pytest.mark.parametrize("shown", DISPLAY_STATUSES)
def test_display_status_round_trip(shown: str) -> None:
    status, reason = parse_display_status(shown)
    assert display_status(status, reason) == shown


@pytest.mark.parametrize("value", ["ended", "ended_", "ended_lost", "ACTIVE", "", "paused"])
def test_unknown_statuses_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="unknown subscription status"):
        parse_display_status(value)


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (SubscriptionStatus.CANCELLED, None, "SUBSCRIPTION_NOT_ACTIVE"),
        (SubscriptionStatus.ENDED, EndReason.BUYOUT, "SUBSCRIPTION_NOT_ACTIVE"),
    ],
)
def test_only_active_subscriptions_change(
    status: SubscriptionStatus, reason: EndReason | None, code: str
) -> None:
    check_active(SubscriptionStatus.ACTIVE, None, "extended")
    with pytest.raises(FlexbillError) as raised:
        check_active(status, reason, "extended")
    assert raised.value.code == code
    assert display_status(status, reason) in raised.value.message


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (SubscriptionStatus.CANCELLED, None, "ALREADY_CANCELLED"),
        (SubscriptionStatus.ENDED, EndReason.COMPLETED, "ALREADY_ENDED"),
        (SubscriptionStatus.ENDED, EndReason.UPGRADE, "ALREADY_ENDED"),
    ],
)
def test_cancelling_twice_says_why_not(
    status: SubscriptionStatus, reason: EndReason | None, code: str
) -> None:
    check_cancellable(SubscriptionStatus.ACTIVE, None)
    with pytest.raises(FlexbillError) as raised:
        check_cancellable(status, reason)
    assert raised.value.code == code
