"""When a failed webhook delivery is tried again (pure).

The first attempt is made at once; after each failure the next waits a little longer, as
Standard Webhooks suggests (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), continued so that
the last attempt comes about three days after the first. A receiver that is down for a
day or two therefore loses nothing; one still failing after three days is disabled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DELAYS: Final[tuple[timedelta, ...]] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=20),
)
"""The wait after the 1st, 2nd, … failed attempt."""

MAX_ATTEMPTS: Final = len(DELAYS) + 1


def delay_after(failures: int) -> timedelta | None:
    """The wait before the next attempt after ``failures`` failed ones in a row, or
    ``None`` when that was the last attempt."""
    if failures < 1:
        raise ValueError("a delay follows a failed attempt")
    if failures > len(DELAYS):
        return None
    return DELAYS[failures - 1]


def total_span() -> timedelta:
    """From the first attempt to the last, when every attempt fails."""
    return sum(DELAYS, timedelta())
