"""When a failed payment is tried again, and when its failure is final (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flexbill.billing.retry_schedule import RetryPolicy, is_final, next_attempt_at
from flexbill.settings.rules import DunningOutcome, PaymentRetry

FAILED_AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("automatic", "attempts", "total"),
    [(False, 1, 1), (False, 3, 1), (False, 5, 1), (True, 1, 2), (True, 3, 4), (True, 5, 6)],
)
def test_a_payment_is_tried_once_plus_its_automatic_retries(
    automatic: bool, attempts: int, total: int
) -> None:
    assert RetryPolicy(automatic, attempts, 3).total_attempts == total


@pytest.mark.parametrize(
    ("automatic", "attempts", "interval_days", "attempts_made", "expected"),
    [
        # Without automatic retries the first failure is the last.
        (False, 3, 3, 1, None),
        (False, 5, 1, 1, None),
        # Retries follow each failure by interval_days, attempts times.
        (True, 3, 3, 1, FAILED_AT + timedelta(days=3)),
        (True, 3, 3, 2, FAILED_AT + timedelta(days=3)),
        (True, 3, 3, 3, FAILED_AT + timedelta(days=3)),
        (True, 3, 3, 4, None),
        (True, 1, 7, 1, FAILED_AT + timedelta(days=7)),
        (True, 1, 7, 2, None),
        (True, 5, 30, 5, FAILED_AT + timedelta(days=30)),
        (True, 5, 30, 6, None),
        (True, 2, 1, 9, None),  # more tries than the policy allows (it changed since)
    ],
)
def test_next_attempt(
    automatic: bool,
    attempts: int,
    interval_days: int,
    attempts_made: int,
    expected: datetime | None,
) -> None:
    policy = RetryPolicy(automatic, attempts, interval_days)
    assert next_attempt_at(policy, attempts_made, FAILED_AT) == expected
    assert is_final(policy, attempts_made) is (expected is None)


def test_the_policy_reads_the_settings() -> None:
    rules = PaymentRetry(
        automatic=True, attempts=2, interval_days=5, final_outcome=DunningOutcome.SUSPEND
    )
    assert RetryPolicy.of(rules) == RetryPolicy(automatic=True, attempts=2, interval_days=5)
    assert RetryPolicy.of(PaymentRetry()) == RetryPolicy(False, 3, 3)
