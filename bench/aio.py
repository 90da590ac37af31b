"""Running the benchmark's coroutines, on uvloop where it is installed.

The client shares a 2-core machine with the server, so every microsecond it spends is taken
from the server; uvloop makes the client's side of each request several times cheaper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a uvloop event loop when uvloop can be imported."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def event_loop_name() -> str:
    """Which loop ``run`` uses, for the report."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"
