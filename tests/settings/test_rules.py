"""The settings document's rules, one table per kind of rule, without a database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flexbill.core.errors import ValidationFailed
from flexbill.settings.patching import apply_patch
from flexbill.settings.rules import (
    BillingCycleType,
    BusinessSettings,
    ContractLength,
    PaymentTerms,
)

DEFAULTS = BusinessSettings(currency="EUR")


def problems(patch: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, code) of every problem ``patch`` causes on the defaults; [] when accepted."""
    try:
        apply_patch(DEFAULTS, patch)
    except ValidationFailed as error:
        return [(detail.path, detail.code) for detail in error.details]
    return []


def test_defaults() -> None:
    assert DEFAULTS.vat.enabled is False
    assert DEFAULTS.vat.rate == 0
    assert DEFAULTS.vat.mode == "exclusive"
    assert DEFAULTS.payment_terms is PaymentTerms.DUE_IMMEDIATELY
    assert DEFAULTS.billing_cycle.type is BillingCycleType.SUBSCRIPTION_START
    assert DEFAULTS.billing_cycle.day_of_month is None
    assert DEFAULTS.first_payment == "full_month"
    assert DEFAULTS.late_fees.enabled is False
    assert (DEFAULTS.payment_retry.automatic, DEFAULTS.payment_retry.attempts) == (False, 3)
    assert DEFAULTS.payment_retry.interval_days == 3
    assert DEFAULTS.buyout.method == "remaining_months"
    assert (DEFAULTS.buyout.allow_manual_override, DEFAULTS.buyout.allow_rrp_estimation) == (
        True,
        False,
    )
    assert DEFAULTS.early_return.method == "remaining_months"
    assert DEFAULTS.early_return.fee_percentage == 100
    assert DEFAULTS.early_return.grace_period_days == 14
    assert DEFAULTS.early_return.partial_month_rounding == "up"
    assert DEFAULTS.early_return.charge_current_month is True
    assert DEFAULTS.extensions.available_lengths == (6, 12)
    assert DEFAULTS.extensions.max_extensions == 3
    assert DEFAULTS.extensions.create_tracking_order is True
    assert DEFAULTS.contract_end == "auto_renew_monthly"
    assert DEFAULTS.contract_lengths == tuple(
        ContractLength(months=m, adjustment_percent=Decimal(0)) for m in (6, 12, 24, 36)
    )
    assert DEFAULTS.id_prefixes.order is None
    assert DEFAULTS.orders.idempotency_window_minutes == 10
    assert DEFAULTS.updated_at is None


@pytest.mark.parametrize(
    ("terms", "days"),
    [("due_immediately", 0), ("net_7", 7), ("net_14", 14), ("net_30", 30)],
)
def test_payment_terms_in_days(terms: str, days: int) -> None:
    assert PaymentTerms(terms).days == days


def test_the_document_leaves_out_currency_and_updated_at() -> None:
    document = DEFAULTS.document()
    assert "currency" not in document
    assert "updated_at" not in document
    assert document["vat"] == {"enabled": False, "rate": "0", "mode": "exclusive"}
    restored = BusinessSettings.from_document(document, currency="EUR", updated_at=None)
    assert restored == DEFAULTS


def test_a_stored_document_missing_a_newer_field_reads_it_as_its_default() -> None:
    document = DEFAULTS.document()
    del document["orders"]
    del document["vat"]["mode"]
    restored = BusinessSettings.from_document(document, currency="EUR", updated_at=None)
    assert restored == DEFAULTS


def test_settings_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        DEFAULTS.vat.rate = Decimal(5)  # type: ignore[misc]


ACCEPTED = [
    {"vat": {"enabled": True, "rate": Decimal("19.5"), "mode": "inclusive"}},
    {"vat": {"rate": 100}},
    {"vat": {"rate": "7.25"}},
    {"billing_cycle": {"type": "fixed_day", "day_of_month": 1}},
    {"billing_cycle": {"type": "fixed_day", "day_of_month": 28}},
    {"billing_cycle": {"type": "every_30_days"}},
    {"late_fees": {"enabled": True, "type": "flat", "amount": 500}},
    {"late_fees": {"enabled": True, "type": "percentage", "percentage": 2}},
    {"late_fees": {"type": "percentage"}},  # off: nothing required
    {"payment_retry": {"automatic": True, "attempts": 5, "interval_days": 30}},
    {"buyout": {"method": "flat_fee", "flat_fee": 0}},
    {"buyout": {"method": "remaining_months_plus_rrp", "rrp_percentage": 30}},
    {"early_return": {"method": "flat_fee", "flat_fee": 4999}},
    {"early_return": {"method": "no_fee", "grace_period_days": 0}},
    {"extensions": {"available_lengths": []}},
    {"extensions": {"available_lengths": [1, 120], "max_extensions": 0}},
    {"contract_lengths": [{"months": 1, "adjustment_percent": -50}, {"months": 120}]},
    {"contract_lengths": [{"months": 12, "adjustment_percent": 100}]},
    {"id_prefixes": {"order": "ORD", "subscription": "a1B2c", "customer": None}},
    {"orders": {"idempotency_window_minutes": 1440}},
    {"payment_terms": "net_30", "first_payment": "prorated", "contract_end": "auto_terminate"},
]


@pytest.mark.parametrize("patch", ACCEPTED)
def test_valid_patches_are_accepted(patch: dict[str, Any]) -> None:
    assert problems(patch) == []


REFUSED = [
    ({"vat": {"rate": -1}}, "vat.rate", "too_small"),
    ({"vat": {"rate": Decimal("100.01")}}, "vat.rate", "too_big"),
    ({"vat": {"rate": Decimal("19.555")}}, "vat.rate", "not_multiple_of"),
    ({"vat": {"rate": "many"}}, "vat.rate", "invalid_type"),
    ({"vat": {"rate": float("nan")}}, "vat.rate", "invalid_type"),
    ({"vat": {"enabled": "yes"}}, "vat.enabled", "invalid_type"),
    ({"vat": {"enabled": 1}}, "vat.enabled", "invalid_type"),
    ({"vat": True}, "vat", "invalid_type"),
    ({"billing_cycle": {"type": "fixed_day"}}, "billing_cycle.day_of_month", "invalid_type"),
    (
        {"billing_cycle": {"day_of_month": 5}},
        "billing_cycle.day_of_month",
        "custom",
    ),
    (
        {"billing_cycle": {"type": "fixed_day", "day_of_month": 29}},
        "billing_cycle.day_of_month",
        "too_big",
    ),
    (
        {"billing_cycle": {"type": "fixed_day", "day_of_month": 0}},
        "billing_cycle.day_of_month",
        "too_small",
    ),
    (
        {"billing_cycle": {"type": "fixed_day", "day_of_month": "3"}},
        "billing_cycle.day_of_month",
        "invalid_type",
    ),
    ({"late_fees": {"enabled": True}}, "late_fees.amount", "invalid_type"),
    (
        {"late_fees": {"enabled": True, "type": "percentage"}},
        "late_fees.percentage",
        "invalid_type",
    ),
    ({"late_fees": {"amount": -1}}, "late_fees.amount", "too_small"),
    ({"late_fees": {"amount": 12.5}}, "late_fees.amount", "invalid_type"),
    ({"late_fees": {"grace_period_days": -1}}, "late_fees.grace_period_days", "too_small"),
    ({"payment_retry": {"attempts": 0}}, "payment_retry.attempts", "too_small"),
    ({"payment_retry": {"attempts": 6}}, "payment_retry.attempts", "too_big"),
    ({"payment_retry": {"interval_days": 31}}, "payment_retry.interval_days", "too_big"),
    ({"buyout": {"method": "flat_fee"}}, "buyout.flat_fee", "invalid_type"),
    ({"buyout": {"method": "rrp_percentage"}}, "buyout.rrp_percentage", "invalid_type"),
    ({"buyout": {"method": "remaining_months_plus_rrp"}}, "buyout.rrp_percentage", "invalid_type"),
    ({"buyout": {"rrp_percentage": 101}}, "buyout.rrp_percentage", "too_big"),
    ({"early_return": {"method": "flat_fee"}}, "early_return.flat_fee", "invalid_type"),
    ({"early_return": {"fee_percentage": 150}}, "early_return.fee_percentage", "too_big"),
    ({"early_return": {"grace_period_days": -1}}, "early_return.grace_period_days", "too_small"),
    ({"extensions": {"available_lengths": [6, 12, 6]}}, "extensions.available_lengths.2", "custom"),
    ({"extensions": {"available_lengths": [0]}}, "extensions.available_lengths.0", "too_small"),
    ({"extensions": {"available_lengths": [121]}}, "extensions.available_lengths.0", "too_big"),
    ({"extensions": {"max_extensions": -1}}, "extensions.max_extensions", "too_small"),
    ({"extensions": {"min_days_before_end": -1}}, "extensions.min_days_before_end", "too_small"),
    ({"contract_lengths": []}, "contract_lengths", "too_small"),
    ({"contract_lengths": [{"months": 0}]}, "contract_lengths.0.months", "too_small"),
    ({"contract_lengths": [{"months": 121}]}, "contract_lengths.0.months", "too_big"),
    (
        {"contract_lengths": [{"adjustment_percent": 5}]},
        "contract_lengths.0.months",
        "invalid_type",
    ),
    (
        {"contract_lengths": [{"months": 6, "adjustment_percent": Decimal("-50.01")}]},
        "contract_lengths.0.adjustment_percent",
        "too_small",
    ),
    (
        {"contract_lengths": [{"months": 6, "adjustment_percent": 101}]},
        "contract_lengths.0.adjustment_percent",
        "too_big",
    ),
    (
        {"contract_lengths": [{"months": 6}, {"months": 12}, {"months": 6}]},
        "contract_lengths.2.months",
        "custom",
    ),
    ({"id_prefixes": {"order": ""}}, "id_prefixes.order", "invalid_string"),
    ({"id_prefixes": {"order": "ORDERS"}}, "id_prefixes.order", "invalid_string"),
    ({"id_prefixes": {"asset": "A-1"}}, "id_prefixes.asset", "invalid_string"),
    ({"id_prefixes": {"customer": 12}}, "id_prefixes.customer", "invalid_type"),
    (
        {"orders": {"idempotency_window_minutes": 0}},
        "orders.idempotency_window_minutes",
        "too_small",
    ),
    (
        {"orders": {"idempotency_window_minutes": 1441}},
        "orders.idempotency_window_minutes",
        "too_big",
    ),
    ({"colour": "blue"}, "colour", "unrecognized_keys"),
    ({"vat": {"country": "DE"}}, "vat.country", "unrecognized_keys"),
    ({"currency": "USD"}, "currency", "read_only"),
    ({"updated_at": None}, "updated_at", "read_only"),
]


@pytest.mark.parametrize(("patch", "path", "code"), REFUSED)
def test_invalid_patches_name_the_field(patch: dict[str, Any], path: str, code: str) -> None:
    assert problems(patch) == [(path, code)]


ENUMS = [
    ("vat", "mode"),
    ("billing_cycle", "type"),
    ("late_fees", "type"),
    ("buyout", "method"),
    ("early_return", "method"),
    ("early_return", "partial_month_rounding"),
    (None, "payment_terms"),
    (None, "first_payment"),
    (None, "contract_end"),
]


@pytest.mark.parametrize(("section", "field"), ENUMS)
def test_every_enum_refuses_unknown_values(section: str | None, field: str) -> None:
    patch: dict[str, Any] = {field: "sometimes"}
    if section is not None:
        patch = {section: patch}
    path = field if section is None else f"{section}.{field}"
    assert problems(patch) == [(path, "invalid_enum_value")]


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"vat": {"rate": 200, "mode": "x"}, "payment_terms": "net_60"})
    assert sorted(found) == [
        ("payment_terms", "invalid_enum_value"),
        ("vat.mode", "invalid_enum_value"),
        ("vat.rate", "too_big"),
    ]


def test_currency_is_read_only_even_unchanged() -> None:
    with pytest.raises(ValidationFailed) as raised:
        apply_patch(DEFAULTS, {"currency": "EUR"})
    assert raised.value.message == "currency is fixed when the business unit is created"


def test_percentages_keep_their_shortest_form() -> None:
    settings = apply_patch(
        DEFAULTS,
        {
            "vat": {"rate": Decimal("19.50")},
            "early_return": {"fee_percentage": Decimal("100.0")},
            "contract_lengths": [{"months": 6, "adjustment_percent": Decimal("-0.00")}],
        },
    )
    assert str(settings.vat.rate) == "19.5"
    assert str(settings.early_return.fee_percentage) == "100"
    assert str(settings.contract_lengths[0].adjustment_percent) == "0"


def test_a_patch_leaves_the_current_settings_alone() -> None:
    changed = apply_patch(DEFAULTS, {"vat": {"rate": 19}})
    assert changed.vat.rate == 19
    assert DEFAULTS.vat.rate == 0
    assert changed.vat.mode == DEFAULTS.vat.mode
