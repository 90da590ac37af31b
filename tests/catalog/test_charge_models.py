"""What a quantity costs under each charge model, and what a price book may hold.

Every expected amount is worked out by hand in the table (minor units after one half-up
rounding of the exact sum), never by the code under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.catalog.charge_models import (
    PriceBook,
    Tier,
    TierUse,
    normalised,
    normalised_quantity,
    problems,
    rate,
)
from flexbill.catalog.plan_models import ChargeModel

D = Decimal
FLAT, PER_UNIT, TIERED, VOLUME = (
    ChargeModel.FLAT_FEE, ChargeModel.PER_UNIT, ChargeModel.TIERED, ChargeModel.VOLUME,
)  # fmt: skip


def unit(amount: str) -> PriceBook:
    return PriceBook(unit_amount=D(amount))


def tiers(*rows: tuple[str | None, str, str]) -> PriceBook:
    return PriceBook(
        tiers=tuple(
            Tier(None if up is None else D(up), D(each), D(flat)) for up, each, flat in rows
        )
    )


# 1–100 at 0.10, 101–1000 at 0.08, from 1001 at 0.05
STEPS = tiers(("100", "0.10", "0"), ("1000", "0.08", "0"), (None, "0.05", "0"))
# 1–10: a flat 5.00; from 11: 1.00 each plus a flat 2.00
WITH_FLAT = tiers(("10", "0", "5.00"), (None, "1.00", "2.00"))


@pytest.mark.parametrize(
    ("model", "book", "quantity", "currency", "included", "minor"),
    [
        # flat fee: the amount whatever the quantity, zero included
        (FLAT, unit("9.99"), "0", "EUR", "0", 999),
        (FLAT, unit("9.99"), "5", "EUR", "0", 999),
        (FLAT, unit("9.99"), "5", "EUR", "10", 999),
        # per unit
        (PER_UNIT, unit("0.10"), "0", "EUR", "0", 0),
        (PER_UNIT, unit("0.10"), "7", "EUR", "0", 70),
        (PER_UNIT, unit("0.40"), "2.5", "EUR", "0", 100),  # 2.5 GB × 0.40 = 1.00
        (PER_UNIT, unit("0.50"), "12", "EUR", "10", 100),  # 2 billable × 0.50
        (PER_UNIT, unit("0.50"), "8", "EUR", "10", 0),  # within the included units
        (PER_UNIT, unit("0.50"), "10", "EUR", "10", 0),  # exactly the included units
        # sub-minor unit prices: summed exactly, rounded half up once
        (PER_UNIT, unit("0.0015"), "1001", "EUR", "0", 150),  # 1.5015 → 1.50
        (PER_UNIT, unit("0.0015"), "1000", "EUR", "0", 150),  # 1.5000
        (PER_UNIT, unit("0.0015"), "3", "EUR", "0", 0),  # 0.0045 → 0.00
        (PER_UNIT, unit("0.0015"), "5", "EUR", "0", 1),  # 0.0075 → 0.01
        (PER_UNIT, unit("0.0025"), "2", "EUR", "0", 1),  # 0.005, exactly half → up
        (PER_UNIT, unit("1.5"), "3", "JPY", "0", 5),  # 4.5 yen → 5 (no decimals)
        (PER_UNIT, unit("0.0005"), "3", "KWD", "0", 2),  # 0.0015 KWD → 0.002
        # tiered: each unit at its own tier's price
        (TIERED, STEPS, "0", "EUR", "0", 0),
        (TIERED, STEPS, "99", "EUR", "0", 990),
        (TIERED, STEPS, "100", "EUR", "0", 1000),  # the last unit of tier 1
        (TIERED, STEPS, "101", "EUR", "0", 1008),  # the first of tier 2: 10.00 + 0.08
        (TIERED, STEPS, "1000", "EUR", "0", 8200),  # 10.00 + 900 × 0.08
        (TIERED, STEPS, "1001", "EUR", "0", 8205),  # + 0.05
        (TIERED, STEPS, "100.5", "EUR", "0", 1004),  # 10.00 + 0.5 × 0.08
        (TIERED, STEPS, "150", "EUR", "50", 900),  # units 51–100 at 0.10, 101–150 at 0.08
        (TIERED, STEPS, "150", "EUR", "100", 400),  # tier 1 all included: 50 × 0.08
        (TIERED, STEPS, "100", "EUR", "100", 0),
        (TIERED, WITH_FLAT, "0", "EUR", "0", 0),  # no tier used, no flat amount
        (TIERED, WITH_FLAT, "10", "EUR", "0", 500),
        (TIERED, WITH_FLAT, "11", "EUR", "0", 800),  # 5.00 + 1 × 1.00 + 2.00
        (TIERED, WITH_FLAT, "12", "EUR", "10", 400),  # tier 1 included: 2 × 1.00 + 2.00
        (TIERED, tiers(("10", "100", "0"), (None, "80", "0")), "12", "JPY", "0", 1160),
        # volume: every unit at the price of the tier the whole quantity reaches
        (VOLUME, STEPS, "0", "EUR", "0", 0),
        (VOLUME, STEPS, "100", "EUR", "0", 1000),  # 100 × 0.10
        (VOLUME, STEPS, "101", "EUR", "0", 808),  # 101 × 0.08
        (VOLUME, STEPS, "1000", "EUR", "0", 8000),
        (VOLUME, STEPS, "1001", "EUR", "0", 5005),  # 1001 × 0.05
        (VOLUME, STEPS, "150", "EUR", "100", 400),  # tier by 150, 50 billable × 0.08
        (VOLUME, STEPS, "150", "EUR", "200", 0),
        (VOLUME, tiers(("1", "2.00", "0"), (None, "1.50", "0")), "2.5", "EUR", "0", 375),
        (VOLUME, WITH_FLAT, "10", "EUR", "0", 500),  # 10 × 0 + 5.00
        (VOLUME, WITH_FLAT, "11", "EUR", "0", 1300),  # 11 × 1.00 + 2.00
        (VOLUME, tiers(("10", "1.234", "0"), (None, "1.1005", "0")), "11", "KWD", "0", 12106),
    ],
)
def test_rate(
    model: ChargeModel, book: PriceBook, quantity: str, currency: str, included: str, minor: int
) -> None:
    rating = rate(model, book, D(quantity), currency, included_units=D(included))
    assert rating.amount == minor
    assert rating.quantity == D(quantity)
    assert rating.billable_quantity == max(D(quantity) - D(included), D(0))


def test_the_exact_amount_is_kept_beside_the_rounded_one() -> None:
    rating = rate(PER_UNIT, unit("0.0015"), D(1001), "EUR")
    assert (rating.exact_amount, rating.amount) == (D("1.5015"), 150)


def test_tiered_rating_lists_each_tier_used() -> None:
    rating = rate(TIERED, STEPS, D(101), "EUR")
    assert rating.tiers == (
        TierUse(tier=1, first_unit=D(0), up_to=D(100), quantity=D(100), unit_amount=D("0.10"),
                flat_amount=D(0), amount=D("10.00")),
        TierUse(tier=2, first_unit=D(100), up_to=D(1000), quantity=D(1), unit_amount=D("0.08"),
                flat_amount=D(0), amount=D("0.08")),
    )  # fmt: skip


def test_tiered_rating_leaves_out_tiers_covered_by_included_units() -> None:
    rating = rate(TIERED, WITH_FLAT, D(12), "EUR", included_units=D(10))
    assert [(use.tier, use.quantity, use.amount) for use in rating.tiers] == [(2, D(2), D("4.00"))]


def test_volume_rating_names_the_one_tier_reached() -> None:
    rating = rate(VOLUME, STEPS, D(101), "EUR")
    assert rating.tiers == (
        TierUse(tier=2, first_unit=D(100), up_to=D(1000), quantity=D(101),
                unit_amount=D("0.08"), flat_amount=D(0), amount=D("8.08")),
    )  # fmt: skip


def test_zero_usage_uses_no_tier() -> None:
    assert rate(TIERED, STEPS, D(0), "EUR").tiers == ()
    assert rate(VOLUME, STEPS, D(0), "EUR").tiers == ()


def test_a_negative_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        rate(PER_UNIT, unit("1"), D(-1), "EUR")


@pytest.mark.parametrize(
    ("model", "book", "found"),
    [
        (FLAT, unit("9.99"), []),
        (PER_UNIT, unit("0"), []),
        (TIERED, STEPS, []),
        (VOLUME, WITH_FLAT, []),
        (FLAT, STEPS, [("tiers", "a flat_fee price has no tiers")]),
        (PER_UNIT, unit("-0.01"), [("unitAmount", "must not be negative")]),
        (TIERED, PriceBook(), [("tiers", "a tiered price needs at least one tier")]),
        (VOLUME, PriceBook(), [("tiers", "a volume price needs at least one tier")]),
        (
            TIERED,
            tiers(("100", "1", "0"), ("200", "1", "0")),
            [("tiers.1.upTo", "the last tier must be unbounded (null)")],
        ),
        (
            VOLUME,
            tiers((None, "1", "0"), (None, "1", "0")),
            [("tiers.0.upTo", "only the last tier may be unbounded")],
        ),
        (
            TIERED,
            tiers(("100", "1", "0"), ("100", "1", "0"), (None, "1", "0")),
            [("tiers.1.upTo", "tiers must rise: each upTo above the last")],
        ),
        (
            TIERED,
            tiers(("0", "1", "0"), (None, "1", "0")),
            [("tiers.0.upTo", "tiers must rise: each upTo above the last")],
        ),
        (
            VOLUME,
            tiers(("10", "-1", "-2"), (None, "1", "0")),
            [("tiers.0.unitAmount", "must not be negative"),
             ("tiers.0.flatAmount", "must not be negative")],
        ),
    ],
)  # fmt: skip
def test_problems(model: ChargeModel, book: PriceBook, found: list[tuple[str, str]]) -> None:
    assert problems(model, book) == found


@pytest.mark.parametrize(
    ("model", "book", "currency", "shown"),
    [
        (PER_UNIT, unit("0.1"), "EUR", {"unit_amount": "0.10", "tiers": []}),
        (PER_UNIT, unit("0.0015"), "EUR", {"unit_amount": "0.0015", "tiers": []}),
        (PER_UNIT, unit("12"), "JPY", {"unit_amount": "12", "tiers": []}),
        (FLAT, unit("9.990"), "EUR", {"unit_amount": "9.99", "tiers": []}),
        (FLAT, unit("1.5"), "KWD", {"unit_amount": "1.500", "tiers": []}),
        (
            TIERED,
            tiers(("100.000", "0.1", "5"), (None, "0.08", "0")),
            "EUR",
            {
                "unit_amount": "0.00",
                "tiers": [
                    {"up_to": "100", "unit_amount": "0.10", "flat_amount": "5.00"},
                    {"up_to": None, "unit_amount": "0.08", "flat_amount": "0.00"},
                ],
            },
        ),
    ],
)
def test_normalised_books_are_written_as_stored(
    model: ChargeModel, book: PriceBook, currency: str, shown: dict[str, object]
) -> None:
    written, found = normalised(model, book, currency)
    assert found == []
    assert written.to_json() == shown


@pytest.mark.parametrize(
    ("model", "book", "currency", "found"),
    [
        (PER_UNIT, unit("0.0000001"), "EUR",
         [("unitAmount", "has at most 6 decimal places", "not_multiple_of")]),
        (FLAT, unit("9.999"), "EUR",
         [("unitAmount", "has at most 2 decimal places", "not_multiple_of")]),
        (FLAT, unit("10.5"), "JPY",
         [("unitAmount", "has at most 0 decimal places", "not_multiple_of")]),
        (PER_UNIT, unit("1000000000000"), "EUR",
         [("unitAmount", "must be below 1000000000000", "too_big")]),
        (TIERED, tiers(("2.0000001", "1", "0.001"), (None, "1", "0")), "EUR",
         [("tiers.0.upTo", "has at most 6 decimal places", "not_multiple_of"),
          ("tiers.0.flatAmount", "has at most 2 decimal places", "not_multiple_of")]),
        # the rules of ``problems`` come once the numbers themselves are fine
        (TIERED, tiers(("5", "1", "0"), ("4", "1", "0"), (None, "1", "0")), "EUR",
         [("tiers.1.upTo", "tiers must rise: each upTo above the last", "invalid")]),
    ],
)  # fmt: skip
def test_normalising_finds_what_a_currency_cannot_hold(
    model: ChargeModel, book: PriceBook, currency: str, found: list[tuple[str, str, str]]
) -> None:
    assert normalised(model, book, currency)[1] == found


@pytest.mark.parametrize(
    ("value", "written", "found"),
    [
        ("0", "0", []),
        ("100.500000", "100.5", []),
        ("-1", "-1", [("must not be negative", "too_small")]),
        ("0.0000001", "1E-7", [("has at most 6 decimal places", "not_multiple_of")]),
    ],
)
def test_normalised_quantity(value: str, written: str, found: list[tuple[str, str]]) -> None:
    quantity, problems_found = normalised_quantity(D(value))
    assert (str(quantity), problems_found) == (written, found)
