from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flexbill.core.pagination import _decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), "Zorn", 0, 123456789, 'with "quotes" and ü'],
)
def test_cursor_round_trip(value: object) -> None:
    token = encode_cursor("sortField", "asc", value, "cust_1")
    assert "=" not in token
    assert "/" not in token
    assert "+" not in token
    decoded = _decode_cursor(token)
    expected = value.isoformat() if isinstance(value, datetime) else value
    assert decoded == ["sortField", "asc", expected, "cust_1"]


@pytest.mark.parametrize("token", ["cust_01abc", "", "!!!", "bnVsbA", "WzEsMiwzXQ"])
def test_ids_and_garbage_are_not_cursors(token: str) -> None:
    assert _decode_cursor(token) is None
