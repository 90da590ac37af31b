"""JSON Merge Patch (RFC 7386) as settings use it: objects merge, the rest replaces,
``null`` returns a field to its default."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flexbill.core.errors import ValidationFailed
from flexbill.settings.patching import apply_patch, merge_patch
from flexbill.settings.rules import BusinessSettings, Vat, VatMode

# The examples of RFC 7386, appendix A, that start from an object.
RFC_7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"a": "foo"}, {"a": {"b": "c"}}, {"a": {"b": "c"}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_7386)
def test_merge_patch_follows_rfc_7386(
    target: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]
) -> None:
    before = repr(target)
    assert merge_patch(target, patch) == result
    assert repr(target) == before


def test_a_nested_field_changes_alone() -> None:
    settings = apply_patch(BusinessSettings(currency="EUR"), {"vat": {"rate": 19}})
    settings = apply_patch(settings, {"vat": {"enabled": True}})
    assert settings.vat == Vat(enabled=True, rate=Decimal(19), mode=VatMode.EXCLUSIVE)


def test_lists_replace() -> None:
    settings = apply_patch(BusinessSettings(currency="EUR"), {"contract_lengths": [{"months": 18}]})
    assert [length.months for length in settings.contract_lengths] == [18]


def test_null_returns_a_field_or_a_section_to_its_default() -> None:
    custom = apply_patch(
        BusinessSettings(currency="EUR"),
        {"vat": {"enabled": True, "rate": 19}, "payment_terms": "net_7"},
    )
    assert apply_patch(custom, {"vat": {"rate": None}}).vat.rate == 0
    assert apply_patch(custom, {"vat": {"rate": None}}).vat.enabled is True
    assert apply_patch(custom, {"vat": None}).vat.enabled is False
    assert apply_patch(custom, {"payment_terms": None}).payment_terms == "due_immediately"


def test_the_merged_document_is_validated_as_a_whole() -> None:
    fixed_day = apply_patch(
        BusinessSettings(currency="EUR"),
        {"billing_cycle": {"type": "fixed_day", "day_of_month": 5}},
    )
    # Leaving fixed_day without clearing the day is refused; clearing it is accepted.
    with pytest.raises(ValidationFailed) as raised:
        apply_patch(fixed_day, {"billing_cycle": {"type": "every_30_days"}})
    assert [d.path for d in raised.value.details] == ["billing_cycle.day_of_month"]
    changed = apply_patch(
        fixed_day, {"billing_cycle": {"type": "every_30_days", "day_of_month": None}}
    )
    assert changed.billing_cycle.day_of_month is None
    # A day sent earlier satisfies a later switch to fixed_day.
    with pytest.raises(ValidationFailed):
        apply_patch(BusinessSettings(currency="EUR"), {"billing_cycle": {"type": "fixed_day"}})


def test_updated_at_is_carried_over_not_patched() -> None:
    settings = apply_patch(BusinessSettings(currency="JPY"), {"payment_terms": "net_14"})
    assert settings.updated_at is None
    assert settings.currency == "JPY"
