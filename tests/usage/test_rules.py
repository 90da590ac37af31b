"""The rules a usage record must meet, as tables (pure: no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from flexbill.usage.rules import (
    NewUsage,
    Target,
    is_metered,
    placement_problem,
    same_content,
    shape_problem,
)

D = Decimal
DAY = date(2026, 3, 10)
NEW = NewUsage("psub_1", "si_1", D("2.5"), DAY, DAY, client_id="c1")
TARGET = Target(
    subscription_id="psub_1", subscription_status="active", item_subscription_id="psub_1",
    started_on=date(2026, 1, 1), ended_on=None, billed_through=date(2026, 3, 1),
    billing_timing="in_arrears", charge_model="tiered",
)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"quantity": D(0)}, None),
        ({"quantity": D("999999999.999999")}, None),
        ({"quantity": D("1E+3")}, None),
        ({"quantity": D("2.500000000")}, None),  # trailing zeros are not digits
        ({"quantity": D(-1)}, ("VALIDATION_ERROR", "quantity", "too_small")),
        ({"quantity": D("-0.000001")}, ("VALIDATION_ERROR", "quantity", "too_small")),
        ({"quantity": D(1_000_000_000)}, ("VALIDATION_ERROR", "quantity", "too_big")),
        ({"quantity": D("0.0000001")}, ("VALIDATION_ERROR", "quantity", "not_multiple_of")),
        ({"quantity": D("NaN")}, ("VALIDATION_ERROR", "quantity", "invalid_type")),
        ({"quantity": D("Infinity")}, ("VALIDATION_ERROR", "quantity", "invalid_type")),
        ({"end_date": date(2026, 3, 9)}, ("VALIDATION_ERROR", "endDate", "too_small")),
        ({"end_date": date(2026, 4, 9)}, None),
        ({"client_id": ""}, ("VALIDATION_ERROR", "id", "too_small")),
        ({"client_id": "x" * 100}, None),
        ({"client_id": "x" * 101}, ("VALIDATION_ERROR", "id", "too_big")),
        ({"client_id": None}, None),
        ({"name": "n" * 201}, ("VALIDATION_ERROR", "name", "too_big")),
    ],
)
def test_shape(changes: dict[str, object], problem: tuple[str, str, str] | None) -> None:
    found = shape_problem(replace(NEW, **changes))  # type: ignore[arg-type]
    if problem is None:
        assert found is None
        return
    assert found is not None
    [detail] = found.details
    assert (found.code, detail.path, detail.code) == problem


@pytest.mark.parametrize(
    ("record", "target", "problem"),
    [
        ({}, {}, None),
        ({}, {"item_subscription_id": "psub_2"}, ("SUBSCRIPTION_ITEM_NOT_FOUND", "itemId")),
        ({}, {"subscription_status": "draft"}, ("SUBSCRIPTION_NOT_BILLABLE", "subscriptionId")),
        ({}, {"subscription_status": "cancelled"}, ("SUBSCRIPTION_NOT_BILLABLE", "subscriptionId")),
        ({}, {"subscription_status": "expired"}, ("SUBSCRIPTION_NOT_BILLABLE", "subscriptionId")),
        ({}, {"subscription_status": "suspended"}, None),
        ({}, {"subscription_status": "trial"}, None),
        ({}, {"subscription_status": "pending"}, None),
        ({}, {"charge_model": "flat_fee"}, ("USAGE_NOT_METERED", "itemId")),
        ({}, {"billing_timing": "in_advance"}, ("USAGE_NOT_METERED", "itemId")),
        ({}, {"charge_model": "per_unit"}, None),
        ({}, {"charge_model": "volume"}, None),
        ({"start_date": date(2025, 12, 31)}, {"billed_through": None}, ("VALIDATION_ERROR", "startDate")),
        ({"start_date": date(2026, 1, 1)}, {"billed_through": None}, None),
        ({}, {"ended_on": DAY}, ("VALIDATION_ERROR", "startDate")),
        ({}, {"ended_on": date(2026, 3, 11)}, None),
        ({"start_date": date(2026, 2, 28)}, {}, ("USAGE_PERIOD_CLOSED", "startDate")),
        ({"start_date": date(2026, 3, 1)}, {}, None),
        ({"start_date": date(2026, 2, 28)}, {"billed_through": date(2026, 2, 28)}, None),
    ],
)  # fmt: skip
def test_placement(
    record: dict[str, object], target: dict[str, object], problem: tuple[str, str] | None
) -> None:
    found = placement_problem(replace(NEW, **record), replace(TARGET, **target))  # type: ignore[arg-type]
    if problem is None:
        assert found is None
        return
    assert found is not None
    assert (found.code, found.details[0].path) == problem


@pytest.mark.parametrize(
    ("timing", "model", "metered"),
    [
        ("in_arrears", "per_unit", True),
        ("in_arrears", "tiered", True),
        ("in_arrears", "volume", True),
        ("in_arrears", "flat_fee", False),
        ("in_advance", "per_unit", False),
        ("in_advance", "tiered", False),
    ],
)
def test_metered_prices(timing: str, model: str, metered: bool) -> None:
    assert is_metered(timing, model) is metered


@pytest.mark.parametrize(
    ("changes", "same"),
    [
        ({}, True),
        ({"quantity": D("2.500")}, True),
        ({"client_id": "another"}, True),  # the id is what is compared against, not content
        ({"quantity": D("2.6")}, False),
        ({"item_id": "si_2"}, False),
        ({"subscription_id": "psub_2"}, False),
        ({"start_date": date(2026, 3, 9)}, False),
        ({"end_date": date(2026, 3, 11)}, False),
        ({"name": "calls"}, False),
        ({"description": "more"}, False),
    ],
)
def test_same_content(changes: dict[str, object], same: bool) -> None:
    assert same_content(replace(NEW, **changes), NEW) is same  # type: ignore[arg-type]
