"""Table tests of the pure licensing rules: validity and the cost of a withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from flexbill.licenses.rules import (
    ChargeError,
    CurrencyTerms,
    ProductType,
    credit_amount,
    currency_charge_minor,
    is_valid,
)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)
EARLIER = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("product_type", "verified", "balance", "expires_at", "revoked", "valid"),
    [
        (ProductType.TIME_LIMITED, True, 90, LATER, False, True),
        (ProductType.TIME_LIMITED, True, 90, EARLIER, False, False),
        (ProductType.TIME_LIMITED, True, 90, NOW, False, False),
        (ProductType.TIME_LIMITED, True, 90, None, False, False),
        (ProductType.TIME_LIMITED, False, 90, LATER, False, False),
        (ProductType.INNER_CREDIT, True, 0, None, False, True),
        (ProductType.INNER_CREDIT, True, -1, None, False, False),
        (ProductType.INNER_CREDIT, False, 10, None, False, False),
        (ProductType.CURRENCY, True, 500, None, False, True),
        (ProductType.CURRENCY, True, 500, None, True, False),
    ],
)
def test_validity(
    product_type: ProductType,
    verified: bool,
    balance: int,
    expires_at: datetime | None,
    revoked: bool,
    valid: bool,
) -> None:
    verdict = is_valid(
        product_type=product_type,
        verified=verified,
        balance=balance,
        expires_at=expires_at,
        revoked=revoked,
        now=NOW,
    )
    assert verdict is valid


EUR = CurrencyTerms(
    currency="EUR",
    rate_percent=Decimal("2.5"),
    min_charge_minor=50,
    exchange_rates={"USD": Decimal("0.9"), "GBP": Decimal("1.17")},
)


@pytest.mark.parametrize(
    ("terms", "amount", "currency", "debited"),
    [
        (EUR, Decimal("10"), "EUR", 1025),  # 10 × 1.025
        (EUR, Decimal("10"), "eur", 1025),
        (EUR, Decimal("10"), "USD", 923),  # 9.00 × 1.025 = 9.225 → 9.23 (half up)
        (EUR, Decimal("1.99"), "GBP", 239),  # 2.3283 × 1.025 = 2.3865... → 2.39
        (EUR, Decimal("0.10"), "EUR", 50),  # under the minimum charge
        (CurrencyTerms("CHF", Decimal(0), 0, {}), Decimal("0.01"), "CHF", 1),
        (CurrencyTerms("USD", Decimal("100"), 0, {}), Decimal("3.333"), "USD", 667),
    ],
)
def test_currency_charge(
    terms: CurrencyTerms, amount: Decimal, currency: str, debited: int
) -> None:
    assert currency_charge_minor(terms, amount, currency) == debited


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (Decimal("10"), "CAD", "No exchange rate from CAD to EUR is set"),
        (Decimal("10"), "JPY", "Currency must be one of EUR, USD, GBP, CAD, CHF, AUD"),
        (Decimal("0"), "EUR", "Amount must be a positive number"),
        (Decimal("-5"), "EUR", "Amount must be a positive number"),
        (Decimal("NaN"), "EUR", "Amount must be a positive number"),
    ],
)
def test_currency_charge_refusals(amount: Decimal, currency: str, message: str) -> None:
    with pytest.raises(ChargeError, match=message):
        currency_charge_minor(EUR, amount, currency)


@pytest.mark.parametrize(("text", "whole"), [("10", 10), ("1", 1), ("7.0", 7), ("1e2", 100)])
def test_credit_amounts(text: str, whole: int) -> None:
    assert credit_amount(text) == whole


@pytest.mark.parametrize("text", ["0", "-3", "2.5", "ten", "", "Infinity", "NaN"])
def test_credit_amount_refusals(text: str) -> None:
    with pytest.raises(ChargeError, match="Amount must be a positive whole number"):
        credit_amount(text)
