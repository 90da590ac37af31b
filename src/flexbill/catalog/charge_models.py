"""What a quantity costs under a plan price's charge model. Pure: no I/O, no clock.

The four models of SubscriptionFlow (seed 004):

- ``flat_fee``: the price's ``unit_amount``, whatever the quantity.
- ``per_unit``: every billable unit at ``unit_amount``.
- ``tiered``: each unit priced by the tier its position falls in (units 1–10 at the first
  tier's price, 11–50 at the second's, …), plus the ``flat_amount`` of every tier used.
- ``volume``: every billable unit priced by the one tier the whole quantity reaches, plus
  that tier's ``flat_amount``.

**Included units** are the first units of a period and cost nothing. Under ``tiered`` they
keep their positions (with 100 included and a first tier up to 100, the second tier's
price starts at unit 101); under ``volume`` the tier is still chosen by the whole quantity.
A quantity of zero (or one within the included units) costs nothing, except a flat fee.

**Rounding:** unit prices are decimals in major units and may have more digits than the
currency; the amount of one rating is summed exactly and rounded half up to minor units
once (``core.money.to_minor``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flexbill.catalog.plan_models import ChargeModel
from flexbill.core.money import PRECISION_CODE, decimal_places, exponent, to_minor

ZERO = Decimal(0)
MAX_UNIT_DECIMALS = 6  # unit prices and quantities (the Numeric(24, 6) columns)
MAX_AMOUNT = Decimal(10) ** 12  # major units: any amount fits a minor-unit BigInteger
MAX_QUANTITY = Decimal(10) ** 15


@dataclass(frozen=True)
class Tier:
    """Units up to ``up_to`` (inclusive; ``None``: no limit) above the previous tier."""

    up_to: Decimal | None
    unit_amount: Decimal
    flat_amount: Decimal = ZERO


@dataclass(frozen=True)
class PriceBook:
    """One currency's amounts of a price: ``unit_amount`` for ``flat_fee`` and
    ``per_unit``, ``tiers`` for ``tiered`` and ``volume``. Major units."""

    unit_amount: Decimal = ZERO
    tiers: tuple[Tier, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "unit_amount": str(self.unit_amount),
            "tiers": [
                {
                    "up_to": None if tier.up_to is None else str(tier.up_to),
                    "unit_amount": str(tier.unit_amount),
                    "flat_amount": str(tier.flat_amount),
                }
                for tier in self.tiers
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriceBook:
        return cls(
            unit_amount=Decimal(data.get("unit_amount", "0")),
            tiers=tuple(
                Tier(
                    up_to=None if tier.get("up_to") is None else Decimal(tier["up_to"]),
                    unit_amount=Decimal(tier.get("unit_amount", "0")),
                    flat_amount=Decimal(tier.get("flat_amount", "0")),
                )
                for tier in data.get("tiers", ())
            ),
        )


@dataclass(frozen=True)
class TierUse:
    """One tier's part of a rating: ``quantity`` units at ``unit_amount`` plus
    ``flat_amount``; ``amount`` is exact (major units, not yet rounded)."""

    tier: int  # 1-based position in the price's tiers
    first_unit: Decimal  # exclusive lower bound of the tier
    up_to: Decimal | None
    quantity: Decimal
    unit_amount: Decimal
    flat_amount: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Rating:
    """What ``quantity`` costs: ``amount`` in minor units (rounded once), the billable
    quantity (past the included units) and the tiers used, for the invoice line."""

    quantity: Decimal
    billable_quantity: Decimal
    amount: int
    exact_amount: Decimal
    tiers: tuple[TierUse, ...] = field(default=())


def problems(model: ChargeModel, book: PriceBook) -> list[tuple[str, str]]:
    """What is wrong with ``book`` for ``model``, as ``(path, message)`` pairs; empty if
    nothing. Paths are relative to the book (``tiers.1.upTo``)."""
    found: list[tuple[str, str]] = []
    if book.unit_amount < 0:
        found.append(("unitAmount", "must not be negative"))
    if model in (ChargeModel.FLAT_FEE, ChargeModel.PER_UNIT):
        if book.tiers:
            found.append(("tiers", f"a {model.value} price has no tiers"))
        return found
    if not book.tiers:
        found.append(("tiers", f"a {model.value} price needs at least one tier"))
        return found
    previous = ZERO
    for index, tier in enumerate(book.tiers):
        last = index == len(book.tiers) - 1
        if tier.unit_amount < 0:
            found.append((f"tiers.{index}.unitAmount", "must not be negative"))
        if tier.flat_amount < 0:
            found.append((f"tiers.{index}.flatAmount", "must not be negative"))
        if tier.up_to is None and not last:
            found.append((f"tiers.{index}.upTo", "only the last tier may be unbounded"))
        elif tier.up_to is not None and last:
            found.append((f"tiers.{index}.upTo", "the last tier must be unbounded (null)"))
        elif tier.up_to is not None and tier.up_to <= previous:
            found.append((f"tiers.{index}.upTo", "tiers must rise: each upTo above the last"))
        if tier.up_to is not None:
            previous = max(previous, tier.up_to)
    return found


class _Normaliser:
    """Writes one currency's amounts the way they are stored and shown, noting what is
    too big or too precise: unit amounts with the currency's decimals or more (up to
    six), flat amounts (a flat fee, a tier's flat amount: money billed as it is) with
    exactly the currency's decimals, tier limits without trailing zeros."""

    def __init__(self, currency: str) -> None:
        self.digits = exponent(currency)
        self.found: list[tuple[str, str, str]] = []

    def number(
        self, path: str, value: Decimal, *, places: int, limit: Decimal, least: int
    ) -> Decimal:
        if abs(value) >= limit:
            self.found.append((path, f"must be below {limit:f}", "too_big"))
            return value
        if decimal_places(value) > places:
            self.found.append((path, f"has at most {places} decimal places", PRECISION_CODE))
            return value
        return value.quantize(Decimal(1).scaleb(-max(least, decimal_places(value))))

    def unit(self, path: str, value: Decimal) -> Decimal:
        return self.number(
            path, value, places=MAX_UNIT_DECIMALS, limit=MAX_AMOUNT, least=self.digits
        )

    def flat(self, path: str, value: Decimal) -> Decimal:
        return self.number(path, value, places=self.digits, limit=MAX_AMOUNT, least=self.digits)

    def quantity(self, path: str, value: Decimal) -> Decimal:
        return self.number(path, value, places=MAX_UNIT_DECIMALS, limit=MAX_QUANTITY, least=0)


def normalised(
    model: ChargeModel, book: PriceBook, currency: str
) -> tuple[PriceBook, list[tuple[str, str, str]]]:
    """``book`` as stored and shown in ``currency``, and what is wrong with it as
    ``(path, message, detail code)`` triples (``problems`` among them); paths are
    relative to the book."""
    check = _Normaliser(currency)
    if model is ChargeModel.FLAT_FEE:
        unit_amount = check.flat("unitAmount", book.unit_amount)
    else:
        unit_amount = check.unit("unitAmount", book.unit_amount)
    tiers = tuple(
        Tier(
            up_to=None if tier.up_to is None else check.quantity(f"tiers.{i}.upTo", tier.up_to),
            unit_amount=check.unit(f"tiers.{i}.unitAmount", tier.unit_amount),
            flat_amount=check.flat(f"tiers.{i}.flatAmount", tier.flat_amount),
        )
        for i, tier in enumerate(book.tiers)
    )
    result = PriceBook(unit_amount=unit_amount, tiers=tiers)
    if not check.found:
        check.found.extend((path, message, "invalid") for path, message in problems(model, result))
    return result, check.found


def normalised_quantity(value: Decimal) -> tuple[Decimal, list[tuple[str, str]]]:
    """A quantity of units (included units) without trailing zeros, and what is wrong
    with it as ``(message, detail code)`` pairs."""
    if value < 0:
        return value, [("must not be negative", "too_small")]
    check = _Normaliser("XXX")
    result = check.quantity("", value)
    return result, [(message, code) for _path, message, code in check.found]


def _tier_reached(tiers: Sequence[Tier], quantity: Decimal) -> int:
    for index, tier in enumerate(tiers):
        if tier.up_to is None or quantity <= tier.up_to:
            return index
    return len(tiers) - 1


def rate(
    model: ChargeModel,
    book: PriceBook,
    quantity: Decimal,
    currency: str,
    *,
    included_units: Decimal = ZERO,
) -> Rating:
    """What ``quantity`` units cost in ``currency`` under ``model`` and ``book``."""
    if quantity < 0:
        raise ValueError("a quantity is never negative")
    billable = max(quantity - included_units, ZERO)
    uses: list[TierUse] = []
    if model is ChargeModel.FLAT_FEE:
        exact = book.unit_amount
    elif model is ChargeModel.PER_UNIT:
        exact = billable * book.unit_amount
    elif billable == 0:
        exact = ZERO
    elif model is ChargeModel.VOLUME:
        index = _tier_reached(book.tiers, quantity)
        tier = book.tiers[index]
        lower = ZERO if index == 0 else book.tiers[index - 1].up_to or ZERO
        exact = billable * tier.unit_amount + tier.flat_amount
        uses.append(
            TierUse(
                tier=index + 1, first_unit=lower, up_to=tier.up_to, quantity=billable,
                unit_amount=tier.unit_amount, flat_amount=tier.flat_amount, amount=exact,
            )
        )  # fmt: skip
    else:
        exact = ZERO
        lower = ZERO
        for index, tier in enumerate(book.tiers):
            upper = quantity if tier.up_to is None else min(tier.up_to, quantity)
            priced = max(upper - max(lower, included_units), ZERO)
            if priced > 0:
                amount = priced * tier.unit_amount + tier.flat_amount
                exact += amount
                uses.append(
                    TierUse(
                        tier=index + 1, first_unit=lower, up_to=tier.up_to, quantity=priced,
                        unit_amount=tier.unit_amount, flat_amount=tier.flat_amount,
                        amount=amount,
                    )
                )  # fmt: skip
            if tier.up_to is None or tier.up_to >= quantity:
                break
            lower = tier.up_to
    return Rating(
        quantity=quantity,
        billable_quantity=billable,
        amount=to_minor(exact, currency),
        exact_amount=exact,
        tiers=tuple(uses),
    )
