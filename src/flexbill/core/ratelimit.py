"""Fixed-window request counters: in this process by default, in Redis when configured.

A window is one minute of the clock. The in-process counter is exact for one API process;
several processes behind a load balancer share counters through Redis (``INCR`` + expiry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from flexbill.core import clock

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    """The state of one bucket after a request was counted against it."""

    limit: int
    remaining: int
    reset_at: int  # epoch seconds at which the window ends
    allowed: bool

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - clock.now().timestamp()))


def _window() -> tuple[int, int]:
    now = int(clock.now().timestamp())
    start = now - now % WINDOW_SECONDS
    return start, start + WINDOW_SECONDS


def _quota(limit: int, count: int, reset_at: int) -> Quota:
    return Quota(
        limit=limit, remaining=max(0, limit - count), reset_at=reset_at, allowed=count <= limit
    )


class RateLimiter(Protocol):
    async def hit(self, bucket: str, limit: int) -> Quota: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._window_start = 0
        self._counts: dict[str, int] = {}

    async def hit(self, bucket: str, limit: int) -> Quota:
        start, reset_at = _window()
        if start != self._window_start:
            # A new window: the old counts can never matter again.
            self._window_start, self._counts = start, {}
        count = self._counts.get(bucket, 0) + 1
        self._counts[bucket] = count
        return _quota(limit, count, reset_at)

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def hit(self, bucket: str, limit: int) -> Quota:
        start, reset_at = _window()
        key = f"flexbill:rl:{bucket}:{start}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return _quota(limit, int(count), reset_at)

    async def close(self) -> None:
        await self._redis.aclose()


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
