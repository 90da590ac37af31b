"""Money is an integer count of the currency's minor unit plus an ISO 4217 code.

Faces that speak in major units (``49.99``) convert at the edge with these functions; the
conversion is exact because it goes through ``Decimal``, never through ``float``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 exponents that differ from the usual 2.
_EXPONENTS: dict[str, int] = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``4999, "EUR"`` → ``Decimal("49.99")``."""
    return Decimal(amount_minor).scaleb(-exponent(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("49.99"), "EUR"`` → ``4999``; sub-minor digits round half up, once."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    return int(amount.quantize(quantum, rounding=ROUND_HALF_UP).scaleb(exponent(currency)))


PRECISION_CODE = "not_multiple_of"
"""The validation code of an amount with more decimals than its currency has."""


class PrecisionError(ValueError):
    """An amount that cannot be stored without rounding (its message is for clients)."""


def decimal_places(value: Decimal) -> int:
    """Significant digits after the point: ``49.990`` has 2. Exact for numbers of any size
    (no arithmetic, so the decimal context's precision never rounds anything away)."""
    _sign, digits, power = value.as_tuple()
    if not isinstance(power, int):
        raise ValueError("only finite numbers have decimal places")
    if value.is_zero() or power >= 0:
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(-power - trailing_zeros, 0)


def to_minor_exact(amount: Decimal, currency: str) -> int:
    """Major → minor units without rounding: an amount a client typed is stored as typed,
    or refused (``PrecisionError``) when it has digits the currency does not have."""
    digits = exponent(currency)
    if not amount.is_finite():
        raise PrecisionError("amounts must be finite numbers")
    if decimal_places(amount) > digits:
        raise PrecisionError(f"{currency.upper()} amounts have at most {digits} decimal places")
    return int(amount.scaleb(digits))
