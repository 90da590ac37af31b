from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from flexbill.config import get_settings
from tests.webhooks.support import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on loopback (stop it to refuse connections)."""
    running = await Receiver().start()
    yield running
    await running.stop()


@pytest.fixture
def webhook_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    """Set how long the worker waits for a receiver."""

    def apply(seconds: float) -> None:
        monkeypatch.setenv("FLEXBILL_WEBHOOK_TIMEOUT_SECONDS", str(seconds))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()
