"""Buyout and early-return quotes (pure): months left, rounding, grace, every method."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flexbill.core.errors import InvalidState
from flexbill.settings.rules import Buyout, BuyoutMethod, EarlyReturn, EarlyReturnMethod, Rounding
from flexbill.subscriptions import periods
from flexbill.subscriptions.quotes import (
    BuyoutQuote,
    Contract,
    EarlyReturnQuote,
    ListPriceBasis,
    buyout_remaining_months,
    early_return_remaining_months,
    percent_of,
    quote_buyout,
    quote_early_return,
)

# A year from 15 January 2025 at 59.99 a month; list price 1999.00, cost 1200.50.
YEAR = Contract(
    start_date=date(2025, 1, 15), end_date=date(2026, 1, 15), monthly_amount=5999,
    original_contract_length=12, list_price=199900, acquisition_cost=120050,
)  # fmt: skip


def contract(
    start: date,
    *,
    monthly: int = 5999,
    list_price: int | None = None,
    acquisition_cost: int | None = None,
) -> Contract:
    """A 12-month contract from ``start``; list price and cost unknown unless given."""
    return Contract(
        start_date=start, end_date=periods.add_months(start, 12), monthly_amount=monthly,
        original_contract_length=12, list_price=list_price, acquisition_cost=acquisition_cost,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "percentage", "expected"),
    [
        (199900, Decimal(25), 49975),
        (5, Decimal(50), 3),  # 2.5: half up, not to even
        (3, Decimal(50), 2),  # 1.5
        (1, Decimal(50), 1),  # 0.5
        (199901, Decimal("12.5"), 24988),  # 24987.625 up
        (199900, Decimal("33.33"), 66627),  # 66626.667 up
        (10001, Decimal("12.34"), 1234),  # 1234.123 down
        (5999, Decimal("33.33"), 1999),  # 1999.467 down
        (0, Decimal(100), 0),
        (199900, Decimal(0), 0),
        (199900, Decimal(100), 199900),
    ],
)
def test_percent_of_rounds_half_up_to_the_minor_unit(
    amount: int, percentage: Decimal, expected: int
) -> None:
    assert percent_of(amount, percentage) == expected


@pytest.mark.parametrize(
    ("figures", "today", "expected"),
    [
        pytest.param(YEAR, date(2025, 1, 10), 12, id="before the start: every month"),
        pytest.param(YEAR, date(2025, 1, 15), 12, id="start day: the first month is due today"),
        pytest.param(YEAR, date(2025, 1, 16), 11, id="first month in progress, paid"),
        pytest.param(YEAR, date(2025, 3, 20), 9, id="mid-month"),
        pytest.param(YEAR, date(2025, 4, 15), 9, id="billing day: that month is still to pay"),
        pytest.param(YEAR, date(2025, 4, 16), 8, id="day after a billing day"),
        pytest.param(YEAR, date(2025, 12, 15), 1, id="last month begins today"),
        pytest.param(YEAR, date(2026, 1, 14), 0, id="last month in progress"),
        pytest.param(YEAR, date(2026, 1, 15), 0, id="end day"),
        pytest.param(YEAR, date(2026, 3, 1), 0, id="after the end"),
        # Month ends: contract months begin on the start's day, clamped to short months.
        pytest.param(contract(date(2025, 1, 31)), date(2025, 2, 28), 11, id="31st: 28 Feb begins"),
        pytest.param(contract(date(2025, 1, 31)), date(2025, 3, 1), 10, id="31st: 1 March"),
        pytest.param(contract(date(2025, 1, 31)), date(2025, 3, 31), 10, id="31st: 31 March"),
        pytest.param(contract(date(2024, 2, 29)), date(2024, 3, 29), 11, id="leap day start"),
        # time_left(30 March, 28 Feb) says 11 whole months (30 March + 11 months clamps to
        # 28 February); the contract has only April 28 … January 28 left.
        pytest.param(contract(date(2025, 2, 28)), date(2025, 3, 30), 10, id="no phantom month"),
    ],
)
def test_buyout_counts_the_contract_months_not_yet_begun(
    figures: Contract, today: date, expected: int
) -> None:
    assert buyout_remaining_months(figures, today) == expected


def test_the_month_end_case_differs_from_time_left_from_today() -> None:
    # Why the quotes count on the contract's own month boundaries.
    assert periods.time_left(date(2025, 3, 30), date(2026, 2, 28)).whole_months == 11
    assert buyout_remaining_months(contract(date(2025, 2, 28)), date(2025, 3, 30)) == 10


MID_MARCH = date(2025, 3, 20)  # 9 months left on YEAR: 9 × 59.99 = 539.91


@pytest.mark.parametrize(
    ("rules", "figures", "today", "expected"),
    [
        pytest.param(
            Buyout(), YEAR, MID_MARCH,
            BuyoutQuote(BuyoutMethod.REMAINING_MONTHS, 53991, 9, 53991, None, 0, 0, None, None),
            id="remaining months (the default)",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.FLAT_FEE, flat_fee=9900, rrp_percentage=Decimal(25)),
            YEAR, MID_MARCH,
            BuyoutQuote(BuyoutMethod.FLAT_FEE, 9900, 9, 53991, None, 0, 9900, None, None),
            id="flat fee",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.RRP_PERCENTAGE, rrp_percentage=Decimal(25), flat_fee=500),
            YEAR, MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.RRP_PERCENTAGE, 49975, 9, 53991, Decimal(25), 49975, 0, 199900,
                ListPriceBasis.LIST_PRICE,
            ),
            id="list-price percentage",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, rrp_percentage=Decimal(25)),
            YEAR, MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, 103966, 9, 53991, Decimal(25), 49975, 0,
                199900, ListPriceBasis.LIST_PRICE,
            ),
            id="remaining months plus list-price percentage",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.RRP_PERCENTAGE, rrp_percentage=Decimal("33.33")),
            YEAR, MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.RRP_PERCENTAGE, 66627, 9, 53991, Decimal("33.33"), 66627, 0,
                199900, ListPriceBasis.LIST_PRICE,
            ),
            id="list-price part rounded up",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.RRP_PERCENTAGE, rrp_percentage=Decimal("12.34")),
            contract(date(2025, 1, 15), list_price=10001), MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.RRP_PERCENTAGE, 1234, 9, 53991, Decimal("12.34"), 1234, 0, 10001,
                ListPriceBasis.LIST_PRICE,
            ),
            id="list-price part rounded down",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, rrp_percentage=Decimal(0)),
            YEAR, date(2026, 1, 15),
            BuyoutQuote(
                BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, 0, 0, 0, Decimal(0), 0, 0, 199900,
                ListPriceBasis.LIST_PRICE,
            ),
            id="zero: nothing left and 0 %",
        ),
        pytest.param(
            Buyout(method=BuyoutMethod.FLAT_FEE, flat_fee=0), YEAR, MID_MARCH,
            BuyoutQuote(BuyoutMethod.FLAT_FEE, 0, 9, 53991, None, 0, 0, None, None),
            id="zero flat fee",
        ),
        pytest.param(
            Buyout(), contract(date(2025, 1, 15)), MID_MARCH,
            BuyoutQuote(BuyoutMethod.REMAINING_MONTHS, 53991, 9, 53991, None, 0, 0, None, None),
            id="remaining months need no list price",
        ),
        pytest.param(
            Buyout(
                method=BuyoutMethod.RRP_PERCENTAGE, rrp_percentage=Decimal(25),
                allow_rrp_estimation=True,
            ),
            contract(date(2025, 1, 15), acquisition_cost=15000), MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.RRP_PERCENTAGE, 3750, 9, 53991, Decimal(25), 3750, 0, 15000,
                ListPriceBasis.ACQUISITION_COST,
            ),
            id="unknown list price estimated from the acquisition cost",
        ),
        pytest.param(
            Buyout(
                method=BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, rrp_percentage=Decimal(25),
                allow_rrp_estimation=True,
            ),
            contract(date(2025, 1, 15), monthly=1999), MID_MARCH,
            BuyoutQuote(
                BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, 17991 + 5997, 9, 17991, Decimal(25),
                5997, 0, 23988, ListPriceBasis.CONTRACT_VALUE,
            ),
            id="unknown list price and cost estimated from 12 × 19.99",
        ),
    ],
)  # fmt: skip
def test_buyout_quote(rules: Buyout, figures: Contract, today: date, expected: BuyoutQuote) -> None:
    assert quote_buyout(figures, today, rules) == expected


def test_the_estimate_uses_the_original_term_not_the_extended_one() -> None:
    extended = Contract(
        start_date=date(2025, 1, 15), end_date=date(2026, 7, 15), monthly_amount=1000,
        original_contract_length=12,
    )  # fmt: skip
    rules = Buyout(
        method=BuyoutMethod.RRP_PERCENTAGE, rrp_percentage=Decimal(100), allow_rrp_estimation=True
    )
    quote = quote_buyout(extended, MID_MARCH, rules)
    assert (quote.price, quote.list_price, quote.list_price_estimated) == (12000, 12000, True)


@pytest.mark.parametrize(
    "method", [BuyoutMethod.RRP_PERCENTAGE, BuyoutMethod.REMAINING_MONTHS_PLUS_RRP]
)
def test_an_unknown_list_price_without_estimation_is_refused(method: BuyoutMethod) -> None:
    rules = Buyout(method=method, rrp_percentage=Decimal(25), allow_rrp_estimation=False)
    with pytest.raises(InvalidState) as raised:
        quote_buyout(contract(date(2025, 1, 15), acquisition_cost=15000), MID_MARCH, rules)
    assert raised.value.code == "LIST_PRICE_UNKNOWN"


def test_a_manual_price_needs_no_list_price() -> None:
    rules = Buyout(method=BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, rrp_percentage=Decimal(25))
    quote = quote_buyout(contract(date(2025, 1, 15)), MID_MARCH, rules, list_price_required=False)
    assert quote == BuyoutQuote(
        BuyoutMethod.REMAINING_MONTHS_PLUS_RRP, 53991, 9, 53991, Decimal(25), 0, 0, None, None
    )
    assert not quote.list_price_estimated


# ---- early return --------------------------------------------------------------------------


def early(**rules: object) -> EarlyReturn:
    return EarlyReturn.model_validate(rules)


@pytest.mark.parametrize(
    ("rules", "figures", "today", "expected"),
    [
        # Charging the current month: from the start of the contract month in progress.
        (early(), YEAR, date(2025, 3, 20), 10),
        (early(), YEAR, date(2025, 3, 15), 10),
        (early(), YEAR, date(2025, 4, 15), 9),
        (early(partial_month_rounding=Rounding.DOWN), YEAR, date(2025, 3, 20), 10),
        (early(), YEAR, date(2025, 1, 10), 12),  # before the start
        (early(), YEAR, date(2026, 1, 14), 1),  # the last month, in progress
        (early(), YEAR, date(2026, 1, 15), 0),
        # Not charging it: from today, the partial month rounded as configured.
        (early(charge_current_month=False), YEAR, date(2025, 3, 20), 10),
        (early(charge_current_month=False, partial_month_rounding=Rounding.DOWN), YEAR,
         date(2025, 3, 20), 9),
        (early(charge_current_month=False, partial_month_rounding=Rounding.DOWN), YEAR,
         date(2025, 4, 15), 9),  # a month beginning today is whole
        (early(charge_current_month=False), YEAR, date(2025, 4, 15), 9),
        (early(charge_current_month=False, partial_month_rounding=Rounding.DOWN), YEAR,
         date(2026, 1, 14), 0),
        (early(charge_current_month=False), YEAR, date(2026, 1, 14), 1),
        (early(charge_current_month=False), YEAR, date(2025, 1, 15), 12),
        # Month ends: the month in progress began on 28 February.
        (early(), contract(date(2025, 1, 31)), date(2025, 3, 5), 11),
        (early(charge_current_month=False), contract(date(2025, 1, 31)), date(2025, 3, 5), 11),
        (early(charge_current_month=False, partial_month_rounding=Rounding.DOWN),
         contract(date(2025, 1, 31)), date(2025, 3, 5), 10),
        (early(charge_current_month=False, partial_month_rounding=Rounding.DOWN),
         contract(date(2025, 1, 31)), date(2025, 2, 28), 11),
        (early(), contract(date(2025, 2, 28)), date(2025, 3, 30), 11),
    ],
)  # fmt: skip
def test_early_return_months(
    rules: EarlyReturn, figures: Contract, today: date, expected: int
) -> None:
    assert early_return_remaining_months(figures, today, rules) == expected


@pytest.mark.parametrize(
    ("rules", "figures", "today", "expected"),
    [
        pytest.param(
            early(), YEAR, date(2025, 1, 29),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 0, 12, 71988, Decimal(100),
                             True, 14),
            id="last day of the 14-day grace period",
        ),
        pytest.param(
            early(), YEAR, date(2025, 1, 30),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 71988, 12, 71988, Decimal(100),
                             False, 15),
            id="first day after the grace period",
        ),
        pytest.param(
            early(fee_percentage=50), YEAR, date(2025, 3, 20),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 29995, 10, 59990, Decimal(50),
                             False, 64),
            id="half of the remaining value",
        ),
        pytest.param(
            early(fee_percentage=Decimal("33.33"), charge_current_month=False,
                  partial_month_rounding=Rounding.DOWN),
            YEAR, date(2025, 12, 20),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 0, 0, 0, Decimal("33.33"),
                             False, 339),
            id="nothing left once the partial last month is rounded down",
        ),
        pytest.param(
            early(fee_percentage=Decimal("33.33")), YEAR, date(2025, 12, 20),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 1999, 1, 5999,
                             Decimal("33.33"), False, 339),
            id="fee rounded down (1999.4667)",
        ),
        pytest.param(
            early(fee_percentage=Decimal("12.5")), YEAR, date(2025, 12, 20),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 750, 1, 5999, Decimal("12.5"),
                             False, 339),
            id="fee rounded up (749.875)",
        ),
        pytest.param(
            early(fee_percentage=50), contract(date(2025, 1, 15), monthly=5), date(2025, 12, 20),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 3, 1, 5, Decimal(50), False,
                             339),
            id="a half minor unit rounds up",
        ),
        pytest.param(
            early(method=EarlyReturnMethod.FLAT_FEE, flat_fee=4999), YEAR, date(2025, 3, 20),
            EarlyReturnQuote(EarlyReturnMethod.FLAT_FEE, 4999, 10, 59990, None, False, 64),
            id="flat fee",
        ),
        pytest.param(
            early(method=EarlyReturnMethod.FLAT_FEE, flat_fee=4999), YEAR, date(2025, 1, 20),
            EarlyReturnQuote(EarlyReturnMethod.FLAT_FEE, 0, 12, 71988, None, True, 5),
            id="flat fee waived within the grace period",
        ),
        pytest.param(
            early(method=EarlyReturnMethod.NO_FEE), YEAR, date(2025, 3, 20),
            EarlyReturnQuote(EarlyReturnMethod.NO_FEE, 0, 10, 59990, None, False, 64),
            id="no fee",
        ),
        pytest.param(
            early(grace_period_days=0), YEAR, date(2025, 1, 15),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 0, 12, 71988, Decimal(100),
                             True, 0),
            id="no grace days: the start day itself is still free",
        ),
        pytest.param(
            early(grace_period_days=0), YEAR, date(2025, 1, 16),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 71988, 12, 71988,
                             Decimal(100), False, 1),
            id="no grace days: the day after is charged",
        ),
        pytest.param(
            early(), YEAR, date(2025, 1, 10),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 0, 12, 71988, Decimal(100),
                             True, -5),
            id="before the start",
        ),
        pytest.param(
            early(), YEAR, date(2026, 2, 1),
            EarlyReturnQuote(EarlyReturnMethod.REMAINING_MONTHS, 0, 0, 0, Decimal(100), False,
                             382),
            id="after the end: nothing left to charge",
        ),
    ],
)  # fmt: skip
def test_early_return_quote(
    rules: EarlyReturn, figures: Contract, today: date, expected: EarlyReturnQuote
) -> None:
    assert quote_early_return(figures, today, rules) == expected
