"""The one clock. Every read of the current time goes through ``now()``.

Tests move it with ``freeze``/``advance``; billing test clocks (a later issue) build on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen_at: datetime | None = None


def now() -> datetime:
    """The current time, always timezone-aware UTC."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Stop the clock at ``at`` for the duration of the block."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("the clock only holds timezone-aware times")
    previous, _frozen_at = _frozen_at, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen_at = previous


def advance(by: timedelta) -> None:
    """Move a frozen clock forward."""
    global _frozen_at
    if _frozen_at is None:
        raise RuntimeError("only a frozen clock can be advanced")
    _frozen_at = _frozen_at + by
