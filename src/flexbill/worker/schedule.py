"""The periodic schedule: jobs every worker would start on a timer, enqueued exactly once
per time slot however many workers run (the slot is the job's ``dedup_key``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.jobs import enqueue

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta


def slot_start(moment: datetime, every: timedelta) -> datetime:
    """The start of the time slot of length ``every`` that ``moment`` falls in."""
    slots = (moment - _EPOCH) // every
    return _EPOCH + slots * every


async def enqueue_due(session: AsyncSession, schedule: tuple[Periodic, ...], now: datetime) -> int:
    """Enqueue each periodic job of the current slot that is not queued yet; how many were."""
    added = 0
    for periodic in schedule:
        start = slot_start(now, periodic.every)
        key = f"periodic:{periodic.kind}:{start.isoformat()}"
        if await enqueue(
            session, periodic.kind, {"slot": start.isoformat()}, run_at=start, dedup_key=key
        ):
            added += 1
    return added
