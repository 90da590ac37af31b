"""When a failed webhook delivery is tried again (pure): Standard Webhooks' schedule,
continued to about three days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flexbill.webhooks import retry_schedule


@pytest.mark.parametrize(
    ("failures", "wait"),
    [
        (1, timedelta(seconds=5)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=5)),
        (6, timedelta(hours=10)),
        (7, timedelta(hours=10)),
        (8, timedelta(hours=12)),
        (9, timedelta(hours=12)),
        (10, timedelta(hours=20)),
        (11, None),  # the eleventh attempt was the last
        (12, None),
        (40, None),
    ],
)
def test_the_wait_grows_after_each_failure(failures: int, wait: timedelta | None) -> None:
    assert retry_schedule.delay_after(failures) == wait


@pytest.mark.parametrize("failures", [0, -1])
def test_a_wait_only_follows_a_failure(failures: int) -> None:
    with pytest.raises(ValueError, match="follows a failed attempt"):
        retry_schedule.delay_after(failures)


def test_the_last_attempt_comes_about_three_days_after_the_first() -> None:
    assert retry_schedule.MAX_ATTEMPTS == 11
    assert retry_schedule.total_span() == timedelta(hours=71, minutes=35, seconds=5)
    # A receiver down for a whole day is tried again after it: nothing is given up.
    elapsed = timedelta()
    for wait in retry_schedule.DELAYS:
        elapsed += wait
        if elapsed > timedelta(days=1):
            break
    assert elapsed == timedelta(hours=27, minutes=35, seconds=5)
