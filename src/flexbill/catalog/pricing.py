"""Pricing rules of a variant: validation of its price list and the effective monthly price.

Pure: no I/O. Amounts arrive in major units (``Decimal("49.99")``) and leave as integer minor
units of the currency; an amount is never rounded into validity, it is refused instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from flexbill.catalog.errors import InvalidPricing
from flexbill.core.errors import ErrorDetail
from flexbill.core.money import PRECISION_CODE, PrecisionError, decimal_places, to_minor_exact

MIN_CONTRACT_MONTHS = 1
MAX_CONTRACT_MONTHS = 120
# Far above any price, far below the 64-bit columns that store minor units.
MAX_MINOR_UNITS = 10**15
# Bounds the digits of a major amount before any arithmetic on it (1e15 has 16 digits).
MAX_MAJOR_DIGITS = 16
BASIS_POINTS_PER_PERCENT = 100
FULL_DISCOUNT_BASIS_POINTS = 100 * BASIS_POINTS_PER_PERCENT


class DiscountType(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class PriceSource(StrEnum):
    SUGGESTED = "suggested"
    MANUAL = "manual"


@dataclass(frozen=True)
class DiscountInput:
    type: DiscountType
    value: Decimal  # a percentage (12.5) or an amount in major units (5.00)
    description: str | None = None


@dataclass(frozen=True)
class PriceInput:
    """One entry of a variant's price list as a client states it (major units)."""

    contract_length: int
    monthly_price: Decimal
    setup_fee: Decimal | None = None
    discount: DiscountInput | None = None
    source: PriceSource | None = None
    calculated_at: datetime | None = None
    preset_used: str | None = None


@dataclass(frozen=True)
class Discount:
    """``value`` is in minor units when ``type`` is fixed, in basis points when percentage."""

    type: DiscountType
    value: int
    description: str | None = None


@dataclass(frozen=True)
class PriceTerms:
    """A validated price list entry in minor units."""

    contract_length: int
    monthly_price: int
    setup_fee: int = 0
    discount: Discount | None = None
    source: PriceSource | None = None
    calculated_at: datetime | None = None
    preset_used: str | None = None


def effective_monthly_price(monthly_price: int, discount: Discount | None) -> int:
    """The monthly price after the discount, in minor units.

    A percentage discount is applied exactly and rounded half up once, to the minor unit.
    """
    if discount is None:
        return monthly_price
    if discount.type is DiscountType.FIXED:
        return max(monthly_price - discount.value, 0)
    kept = Decimal(monthly_price) * (FULL_DISCOUNT_BASIS_POINTS - discount.value)
    return int((kept / FULL_DISCOUNT_BASIS_POINTS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class PricingCheck:
    """Collects every pricing problem of a request, so that one answer can name them all.

    Each method returns its best-effort result and records problems under their path;
    ``raise_if_invalid`` then raises ``InvalidPricing`` with all of them.
    """

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.problems: list[ErrorDetail] = []

    def _problem(self, path: str, message: str, code: str) -> None:
        self.problems.append(ErrorDetail(path=path, message=message, code=code))

    def amount(self, value: Decimal, path: str, *, positive: bool = False) -> int:
        """``value`` (major units) in minor units; negative, or zero when ``positive``, is a
        problem, and so are more decimals than the currency has."""
        if not value.is_finite():
            self._problem(path, "must be a finite number", "invalid_type")
            return 0
        if value.adjusted() >= MAX_MAJOR_DIGITS:
            self._problem(path, "is too large", "too_big")
            return 0
        try:
            minor = to_minor_exact(value, self.currency)
        except PrecisionError as error:
            self._problem(path, str(error), PRECISION_CODE)
            return 0
        if minor < 0 or (positive and minor == 0):
            self._problem(
                path, "must be greater than 0" if positive else "must not be negative", "too_small"
            )
        elif minor > MAX_MINOR_UNITS:
            self._problem(path, "is too large", "too_big")
        return minor

    def optional_amount(self, value: Decimal | None, path: str) -> int | None:
        return None if value is None else self.amount(value, path)

    def discount(self, discount: DiscountInput, monthly_price: int, path: str) -> Discount:
        if discount.type is DiscountType.FIXED:
            value = self.amount(discount.value, f"{path}.value")
            if value > monthly_price:
                self._problem(
                    f"{path}.value", "a fixed discount cannot exceed the monthly price", "too_big"
                )
            return Discount(DiscountType.FIXED, value, discount.description)
        percent = discount.value
        if not percent.is_finite() or not 0 <= percent <= 100:
            self._problem(f"{path}.value", "a percentage is between 0 and 100", "out_of_range")
            return Discount(DiscountType.PERCENTAGE, 0, discount.description)
        if decimal_places(percent) > 2:
            self._problem(f"{path}.value", "a percentage has at most 2 decimals", PRECISION_CODE)
            return Discount(DiscountType.PERCENTAGE, 0, discount.description)
        basis_points = int(percent * BASIS_POINTS_PER_PERCENT)
        return Discount(DiscountType.PERCENTAGE, basis_points, discount.description)

    def price_list(self, prices: Sequence[PriceInput], path: str) -> list[PriceTerms]:
        """A variant's price list: at least one price, each contract length once."""
        if not prices:
            self._problem(path, "at least one price is required", "too_small")
        terms: list[PriceTerms] = []
        seen: set[int] = set()
        for index, price in enumerate(prices):
            at = f"{path}.{index}"
            months = price.contract_length
            if not MIN_CONTRACT_MONTHS <= months <= MAX_CONTRACT_MONTHS:
                self._problem(
                    f"{at}.contractLength",
                    f"contract length is {MIN_CONTRACT_MONTHS} to {MAX_CONTRACT_MONTHS} months",
                    "out_of_range",
                )
            elif months in seen:
                self._problem(
                    f"{at}.contractLength",
                    f"{months} months is priced more than once",
                    "duplicate",
                )
            seen.add(months)
            monthly = self.amount(price.monthly_price, f"{at}.monthlyPrice", positive=True)
            setup_fee = self.optional_amount(price.setup_fee, f"{at}.setupFee") or 0
            discount = (
                None
                if price.discount is None
                else self.discount(price.discount, monthly, f"{at}.discount")
            )
            terms.append(
                PriceTerms(
                    contract_length=months, monthly_price=monthly, setup_fee=setup_fee,
                    discount=discount, source=price.source, calculated_at=price.calculated_at,
                    preset_used=price.preset_used,
                )
            )  # fmt: skip
        return terms

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise InvalidPricing(self.problems)
