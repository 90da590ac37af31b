"""The pure rules of licensing: product types, validity, and what a withdrawal costs.

Seed 002: a license is valid unless "date has expired, balance is negative or the account
is not yet verified". A revoked license (flexbill's addition) is never valid.

A Currency product keeps balances in its currency's minor unit. A withdrawal of ``amount``
in ``currency`` costs, in the product's currency::

    converted = amount × exchange rate           (1 when the currencies are the same)
    charge    = converted × (1 + rate % / 100)
    debited   = max(charge, min charge)          rounded half up to the minor unit, once
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from flexbill.core.money import exponent

CURRENCIES = ("EUR", "USD", "GBP", "CAD", "CHF", "AUD")
DAYS = "days"


class ProductType(StrEnum):
    """The seed's four product types, by the name its API answers with."""

    TIME_LIMITED = "Time limited"
    INNER_CREDIT = "Inner credit"
    CURRENCY = "Currency"
    CUSTOM = "Custom"


WITHDRAWABLE = frozenset({ProductType.INNER_CREDIT, ProductType.CURRENCY})


def is_valid(
    *,
    product_type: ProductType,
    verified: bool,
    balance: int,
    expires_at: datetime | None,
    revoked: bool,
    now: datetime,
) -> bool:
    """Whether a license unlocks the product (seed 002's ``valid``)."""
    if revoked or not verified or balance < 0:
        return False
    if product_type is ProductType.TIME_LIMITED:
        return expires_at is not None and now < expires_at
    return True


class ChargeError(ValueError):
    """A withdrawal that cannot be priced (its message is for the client)."""


@dataclass(frozen=True)
class CurrencyTerms:
    currency: str  # the product's currency
    rate_percent: Decimal
    min_charge_minor: int
    exchange_rates: dict[str, Decimal]  # product-currency units per unit of each currency


def exchange_rate(terms: CurrencyTerms, currency: str) -> Decimal:
    code = currency.upper()
    if code == terms.currency:
        return Decimal(1)
    if code not in CURRENCIES:
        raise ChargeError(f"Currency must be one of {', '.join(CURRENCIES)}")
    rate = terms.exchange_rates.get(code)
    if rate is None:
        raise ChargeError(f"No exchange rate from {code} to {terms.currency} is set")
    return rate


def currency_charge_minor(terms: CurrencyTerms, amount: Decimal, currency: str) -> int:
    """What withdrawing ``amount`` (major units of ``currency``) debits, in minor units of
    the product's currency."""
    if not amount.is_finite() or amount <= 0:
        raise ChargeError("Amount must be a positive number")
    converted = amount * exchange_rate(terms, currency)
    charge = converted * (1 + terms.rate_percent / 100)
    digits = exponent(terms.currency)
    minor = int(charge.scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(minor, terms.min_charge_minor)


def credit_amount(text: str) -> int:
    """An Inner credit withdrawal: a positive whole number of credits."""
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise ChargeError("Amount must be a positive whole number") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
        raise ChargeError("Amount must be a positive whole number")
    return int(amount)


def parse_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip())
    except ArithmeticError:
        raise ChargeError("Amount must be a positive number") from None
    if not amount.is_finite() or amount <= 0:
        raise ChargeError("Amount must be a positive number")
    return amount
