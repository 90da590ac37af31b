"""The pricing rules of a variant, as tables of cases (pure: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.catalog.errors import InvalidPricing
from flexbill.catalog.pricing import (
    Discount,
    DiscountInput,
    DiscountType,
    PriceInput,
    PricingCheck,
    effective_monthly_price,
)
from flexbill.core.money import decimal_places

PERCENT, FIXED = DiscountType.PERCENTAGE, DiscountType.FIXED


def _problems(prices: list[PriceInput], currency: str = "EUR") -> list[tuple[str, str]]:
    check = PricingCheck(currency)
    check.price_list(prices, "pricing")
    return [(problem.path, problem.code) for problem in check.problems]


def _price(
    months: int = 12,
    monthly: str = "49.99",
    *,
    setup_fee: Decimal | None = None,
    discount: DiscountInput | None = None,
) -> PriceInput:
    return PriceInput(
        contract_length=months,
        monthly_price=Decimal(monthly),
        setup_fee=setup_fee,
        discount=discount,
    )


@pytest.mark.parametrize(
    ("months", "valid"),
    [
        (0, False),
        (1, True),
        (2, True),
        (36, True),
        (119, True),
        (120, True),
        (121, False),
        (-6, False),
    ],
)
def test_contract_length_is_1_to_120_months(months: int, valid: bool) -> None:
    problems = _problems([_price(months)])
    assert problems == ([] if valid else [("pricing.0.contractLength", "out_of_range")])


def test_a_contract_length_is_priced_once_per_variant() -> None:
    prices = [_price(12), _price(24), _price(12, "39.99")]
    assert _problems(prices) == [("pricing.2.contractLength", "duplicate")]


def test_a_price_list_is_never_empty() -> None:
    assert _problems([]) == [("pricing", "too_small")]


@pytest.mark.parametrize(
    ("monthly", "currency", "expected"),
    [
        ("0.01", "EUR", []),
        ("0", "EUR", [("pricing.0.monthlyPrice", "too_small")]),
        ("0.00", "EUR", [("pricing.0.monthlyPrice", "too_small")]),
        ("-0.01", "EUR", [("pricing.0.monthlyPrice", "too_small")]),
        ("49.99", "EUR", []),
        ("49.990", "EUR", []),  # trailing zeros are not extra precision
        ("49.999", "EUR", [("pricing.0.monthlyPrice", "not_multiple_of")]),
        ("5000", "JPY", []),
        ("5000.5", "JPY", [("pricing.0.monthlyPrice", "not_multiple_of")]),
        ("1.234", "KWD", []),
        ("1.2345", "KWD", [("pricing.0.monthlyPrice", "not_multiple_of")]),
        ("1e20", "EUR", [("pricing.0.monthlyPrice", "too_big")]),
        ("NaN", "EUR", [("pricing.0.monthlyPrice", "invalid_type")]),
    ],
)
def test_monthly_price_is_positive_in_the_currency_precision(
    monthly: str, currency: str, expected: list[tuple[str, str]]
) -> None:
    assert _problems([_price(monthly=monthly)], currency) == expected


@pytest.mark.parametrize(
    ("setup_fee", "expected"),
    [
        ("0", []),
        ("0.01", []),
        ("-0.01", [("pricing.0.setupFee", "too_small")]),
        ("9.999", [("pricing.0.setupFee", "not_multiple_of")]),
    ],
)
def test_setup_fee_may_be_zero_but_not_negative(setup_fee: str, expected: list[object]) -> None:
    assert _problems([_price(setup_fee=Decimal(setup_fee))]) == expected


@pytest.mark.parametrize(
    ("discount", "expected"),
    [
        (DiscountInput(PERCENT, Decimal("0")), []),
        (DiscountInput(PERCENT, Decimal("12.5")), []),
        (DiscountInput(PERCENT, Decimal("100")), []),
        (DiscountInput(PERCENT, Decimal("100.01")), [("pricing.0.discount.value", "out_of_range")]),
        (DiscountInput(PERCENT, Decimal("-1")), [("pricing.0.discount.value", "out_of_range")]),
        (
            DiscountInput(PERCENT, Decimal("12.345")),
            [("pricing.0.discount.value", "not_multiple_of")],
        ),
        (DiscountInput(FIXED, Decimal("0")), []),
        (DiscountInput(FIXED, Decimal("49.99")), []),  # equal to the monthly price
        (DiscountInput(FIXED, Decimal("50.00")), [("pricing.0.discount.value", "too_big")]),
        (DiscountInput(FIXED, Decimal("-1")), [("pricing.0.discount.value", "too_small")]),
        (DiscountInput(FIXED, Decimal("1.001")), [("pricing.0.discount.value", "not_multiple_of")]),
    ],
)
def test_discount_bounds(discount: DiscountInput, expected: list[tuple[str, str]]) -> None:
    assert _problems([_price(monthly="49.99", discount=discount)]) == expected


def test_every_problem_is_named_and_raised_at_once() -> None:
    check = PricingCheck("EUR")
    terms = check.price_list(
        [_price(12, "10.00"), _price(150, "-1"), _price(24, "1.001")], "variants.3.pricing"
    )
    assert len(terms) == 3
    with pytest.raises(InvalidPricing) as raised:
        check.raise_if_invalid()
    assert raised.value.code == "INVALID_PRICING"
    assert [d.path for d in raised.value.details] == [
        "variants.3.pricing.1.contractLength",
        "variants.3.pricing.1.monthlyPrice",
        "variants.3.pricing.2.monthlyPrice",
    ]


def test_valid_prices_become_minor_units() -> None:
    check = PricingCheck("EUR")
    [terms] = check.price_list(
        [
            _price(
                24,
                "39.99",
                setup_fee=Decimal("19"),
                discount=DiscountInput(PERCENT, Decimal("12.5")),
            )
        ],
        "pricing",
    )
    check.raise_if_invalid()
    assert (terms.contract_length, terms.monthly_price, terms.setup_fee) == (24, 3999, 1900)
    assert terms.discount == Discount(PERCENT, 1250)


@pytest.mark.parametrize(
    ("monthly", "discount", "expected"),
    [
        (4999, None, 4999),
        (4999, Discount(FIXED, 500), 4499),
        (4999, Discount(FIXED, 4999), 0),
        (4999, Discount(PERCENT, 0), 4999),
        (4999, Discount(PERCENT, 10_000), 0),
        (1000, Discount(PERCENT, 1250), 875),  # exact
        (4999, Discount(PERCENT, 1000), 4499),  # 4499.1 rounds down
        (5, Discount(PERCENT, 5000), 3),  # 2.5 rounds half up
        (15, Discount(PERCENT, 5000), 8),  # 7.5 rounds half up
        (3333, Discount(PERCENT, 3333), 2222),  # 2222.0889
        (1, Discount(PERCENT, 4999), 1),  # 0.5001
        (1, Discount(PERCENT, 5001), 0),  # 0.4999
    ],
)
def test_effective_monthly_price_rounds_half_up_once(
    monthly: int, discount: Discount | None, expected: int
) -> None:
    assert effective_monthly_price(monthly, discount) == expected


@pytest.mark.parametrize(
    ("value", "places"),
    [("0", 0), ("0.00", 0), ("100", 0), ("1E+2", 0), ("49.99", 2), ("49.990", 2), ("0.001", 3)],
)
def test_decimal_places_ignore_trailing_zeros(value: str, places: int) -> None:
    assert decimal_places(Decimal(value)) == places
