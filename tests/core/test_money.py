from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.core.money import exponent, to_major, to_minor


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (4999, "EUR", "49.99"),
        (0, "EUR", "0.00"),
        (-150, "USD", "-1.50"),
        (1, "GBP", "0.01"),
        (1234, "JPY", "1234"),
        (1234, "KWD", "1.234"),
        (123456789012345678, "EUR", "1234567890123456.78"),
    ],
)
def test_minor_to_major_and_back(minor: int, currency: str, major: str) -> None:
    assert to_major(minor, currency) == Decimal(major)
    assert str(to_major(minor, currency)) == major
    assert to_minor(Decimal(major), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("0.005", "EUR", 1),  # half up, once
        ("0.004", "EUR", 0),
        ("-0.005", "EUR", -1),  # half away from zero
        ("19.999", "USD", 2000),
        ("1.5", "JPY", 2),
        ("0.0005", "BHD", 1),
    ],
)
def test_sub_minor_amounts_round_half_up(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor


def test_exponents() -> None:
    assert [exponent(c) for c in ("EUR", "usd", "JPY", "KWD", "QAR")] == [2, 2, 0, 3, 2]
