from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flexbill.config import get_settings
from tests.mail.support import Configure


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Point flexbill's settings at a test SMTP server (or at none)."""

    def apply(**values: Any) -> None:
        for name, value in values.items():
            variable = f"FLEXBILL_{name.upper()}"
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, str(value))
        get_settings.cache_clear()

    apply(smtp_host=None, mail_from="Acme Rentals <billing@acme.example>")
    yield apply
    get_settings.cache_clear()
