"""Order totals as a table of cases: no VAT, exclusive, inclusive, rounding boundaries and
currencies of 0, 2 and 3 decimals. Amounts are written in major units for readability."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.core.money import to_major, to_minor
from flexbill.orders.totals import NO_VAT, Line, VatRule, order_totals, tax_on
from flexbill.settings.rules import VatMode

EXCL, INCL = VatMode.EXCLUSIVE, VatMode.INCLUSIVE


def _lines(currency: str, *lines: tuple[int, str]) -> list[Line]:
    return [Line(quantity, to_minor(Decimal(price), currency)) for quantity, price in lines]


@pytest.mark.parametrize(
    ("currency", "lines", "rate", "mode", "subtotal", "tax", "total"),
    [
        # No VAT: the total is the monthly amount of the items.
        ("EUR", [(2, "59.99")], "0", EXCL, "119.98", "0.00", "119.98"),
        ("EUR", [(2, "59.99")], "0", INCL, "119.98", "0.00", "119.98"),
        ("EUR", [(2, "59.99"), (1, "19.99")], "0", EXCL, "139.97", "0.00", "139.97"),
        # Exclusive: 19 % of 119.98 = 22.7962 → 22.80 on top.
        ("EUR", [(2, "59.99")], "19", EXCL, "119.98", "22.80", "142.78"),
        # Inclusive: 119.98 − 119.98 / 1.19 = 19.1563… → 19.16 inside.
        ("EUR", [(2, "59.99")], "19", INCL, "119.98", "19.16", "119.98"),
        # Exactly half a cent rounds up, once: 10 % of 0.05 = 0.005 → 0.01.
        ("EUR", [(1, "0.05")], "10", EXCL, "0.05", "0.01", "0.06"),
        # Just below half a cent rounds down: 10 % of 0.04 = 0.004 → 0.00.
        ("EUR", [(1, "0.04")], "10", EXCL, "0.04", "0.00", "0.04"),
        # Inclusive half: 0.21 − 0.21 / 1.10 = 0.0190… → 0.02; 1.05 at 5 % → 0.05 exactly.
        ("EUR", [(1, "0.21")], "10", INCL, "0.21", "0.02", "0.21"),
        ("EUR", [(1, "1.05")], "5", INCL, "1.05", "0.05", "1.05"),
        # A net that comes out exact: 0.21 at 5 % is 0.20 + 0.01.
        ("EUR", [(1, "0.21")], "5", INCL, "0.21", "0.01", "0.21"),
        # Rates with decimals: 7.7 % of 100.00 = 7.70; 8.1 % of 33.33 = 2.69973 → 2.70.
        ("CHF", [(1, "100.00")], "7.7", EXCL, "100.00", "7.70", "107.70"),
        ("CHF", [(3, "11.11")], "8.1", EXCL, "33.33", "2.70", "36.03"),
        # A rounding done per line would differ: 3 × 0.05 at 10 % is 0.015 → 0.02 once,
        # not 3 × 0.01 = 0.03.
        ("EUR", [(3, "0.05")], "10", EXCL, "0.15", "0.02", "0.17"),
        # 100 %: exclusive doubles; inclusive is half the total, and half of 10.01 is
        # 5.005, exactly half a cent: up to 5.01 (banker's rounding would give 5.00).
        ("EUR", [(1, "10.00")], "100", EXCL, "10.00", "10.00", "20.00"),
        ("EUR", [(1, "10.01")], "100", INCL, "10.01", "5.01", "10.01"),
        # Yen have no minor unit: 10 % of ¥1,005 = ¥100.5 → ¥101.
        ("JPY", [(1, "1005")], "10", EXCL, "1005", "101", "1106"),
        ("JPY", [(1, "1005")], "10", INCL, "1005", "91", "1005"),
        ("JPY", [(2, "4980")], "8", EXCL, "9960", "797", "10757"),
        # Three decimals (fils): 5 % of 1.111 = 0.05555 → 0.056.
        ("KWD", [(1, "1.111")], "5", EXCL, "1.111", "0.056", "1.167"),
        # Nothing ordered.
        ("EUR", [], "19", EXCL, "0.00", "0.00", "0.00"),
    ],
)
def test_order_totals(
    currency: str,
    lines: list[tuple[int, str]],
    rate: str,
    mode: VatMode,
    subtotal: str,
    tax: str,
    total: str,
) -> None:
    totals = order_totals(_lines(currency, *lines), VatRule(Decimal(rate), mode))
    shown = tuple(
        to_major(amount, currency) for amount in (totals.subtotal, totals.tax_amount, totals.total)
    )
    assert shown == (Decimal(subtotal), Decimal(tax), Decimal(total))
    assert totals.total_devices == sum(quantity for quantity, _ in lines)


def test_without_a_vat_rule_there_is_no_tax() -> None:
    totals = order_totals([Line(3, 999)])
    assert (totals.subtotal, totals.tax_amount, totals.total, totals.total_devices) == (
        2997, 0, 2997, 3,
    )  # fmt: skip
    assert totals == order_totals([Line(3, 999)], NO_VAT)


@pytest.mark.parametrize("amount", [0, 1, 99, 11998, 10**15])
@pytest.mark.parametrize("rate", ["0", "2.5", "7.7", "19", "21", "100"])
def test_inclusive_tax_and_net_add_up_to_the_total(amount: int, rate: str) -> None:
    """Whatever the rounding, the net and the tax inside a gross price are the price."""
    vat = VatRule(Decimal(rate), INCL)
    tax = tax_on(amount, vat)
    assert 0 <= tax <= amount
    exclusive_again = tax_on(amount - tax, VatRule(Decimal(rate), EXCL))
    assert abs(exclusive_again - tax) <= 1


@pytest.mark.parametrize("rate", ["-1", "100.01", "NaN", "Infinity"])
def test_a_rate_is_a_percentage(rate: str) -> None:
    with pytest.raises(ValueError, match="VAT rate"):
        VatRule(Decimal(rate), EXCL)
