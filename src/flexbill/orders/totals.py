"""An order's totals: the monthly amount of its items and the VAT on it. Pure, no I/O.

Amounts are integer minor units of one currency, so "rounded to the minor unit" is
"rounded to an integer" whatever the currency's exponent (cents, yen, fils). The only
rounding is the tax's, done once, half up, on the exact value (``Fraction``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flexbill.settings.rules import Vat, VatMode

HUNDRED = 100


@dataclass(frozen=True)
class VatRule:
    """The tenant's VAT setting; ``rate`` is a percentage (``Decimal("19")`` is 19 %)."""

    rate: Decimal
    mode: VatMode

    def __post_init__(self) -> None:
        if not self.rate.is_finite() or not 0 <= self.rate <= HUNDRED:
            raise ValueError(f"a VAT rate is a percentage from 0 to 100, not {self.rate}")


NO_VAT = VatRule(Decimal(0), VatMode.EXCLUSIVE)


def vat_rule(vat: Vat) -> VatRule:
    """The rule a business unit's VAT settings give its orders."""
    return VatRule(rate=vat.rate, mode=vat.mode) if vat.enabled else NO_VAT


@dataclass(frozen=True)
class Line:
    quantity: int
    unit_price: int  # monthly, per device, after discounts


@dataclass(frozen=True)
class Totals:
    subtotal: int
    tax_amount: int
    total: int
    total_devices: int


def _round_half_up(value: Fraction) -> int:
    # Amounts are never negative, so "half up" and "half away from zero" agree.
    return math.floor(value + Fraction(1, 2))


def tax_on(amount: int, vat: VatRule) -> int:
    """The VAT in ``amount``: added on top when exclusive, contained in it when inclusive."""
    rate = Fraction(vat.rate)
    if vat.mode is VatMode.EXCLUSIVE:
        return _round_half_up(amount * rate / HUNDRED)
    net = amount * Fraction(HUNDRED) / (HUNDRED + rate)
    return _round_half_up(amount - net)


def order_totals(lines: Iterable[Line], vat: VatRule = NO_VAT) -> Totals:
    """The totals of an order's lines.

    ``subtotal`` is Σ quantity × unit price: the order's **monthly** amount (setup fees,
    charged once, are not in it). Exclusive VAT: ``tax = subtotal × rate / 100`` and
    ``total = subtotal + tax``. Inclusive VAT: ``total = subtotal`` and
    ``tax = total − total × 100 / (100 + rate)``. The tax is rounded half up, once.
    """
    lines = list(lines)
    subtotal = sum(line.quantity * line.unit_price for line in lines)
    devices = sum(line.quantity for line in lines)
    tax = tax_on(subtotal, vat)
    total = subtotal + tax if vat.mode is VatMode.EXCLUSIVE else subtotal
    return Totals(subtotal=subtotal, tax_amount=tax, total=total, total_devices=devices)
