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
