"""The shapes of what a subscription records about its operations, as stored in its JSON
columns: snake_case keys, amounts in minor units, dates and times as ISO 8601 text.

Faces render them (the /v1 face in camelCase with amounts in major units). Keeping the
shapes here, typed, is what lets each operation write them and each face read them
without guessing.
"""

from __future__ import annotations

from typing import Any, TypedDict


class ExtensionEntry(TypedDict):
    extended_at: str
    extension_months: int
    old_end_date: str
    new_end_date: str
    old_contract_length: int
    new_contract_length: int
    old_monthly_amount: int
    new_monthly_amount: int
    reason: str | None
    notes: str | None
    processed_by: str
    tracking_order_id: str | None


class ReplacementEntry(TypedDict):
    replaced_at: str
    old_serial_number: str
    new_serial_number: str
    old_sku: str
    new_sku: str
    replacement_reason: str  # damaged, stolen, defective, lost
    damage_assessment: str | None
    insurance_claim: dict[str, Any] | str | bool | None
    notes: str | None
    processed_by: str


class BuyoutBreakdown(TypedDict):
    remaining_months: int
    remaining_months_payment: int
    list_price_percentage: str | None  # a Decimal as text: JSON columns hold no Decimal
    list_price_amount: int
    flat_fee: int


class BuyoutDetails(TypedDict):
    buyout_price: int
    calculation_method: str  # auto_calculated, manual_override
    calculation_breakdown: BuyoutBreakdown
    reason: str  # customer_request, end_of_contract, other
    notes: str | None
    processed_by: str
    buyout_date: str


class EarlyReturnBreakdown(TypedDict):
    method: str  # remaining_months, flat_fee, no_fee, manual
    remaining_months: int
    remaining_value: int
    penalty_percentage: str | None
    grace_period_applied: bool
    days_from_start: int


class EarlyReturnDetails(TypedDict):
    fee: int
    fee_waived: bool
    calculation_method: str  # auto_calculated, manual_override
    calculation_breakdown: EarlyReturnBreakdown
    return_condition: str  # excellent, good, fair, poor, damaged
    reason: str
    damage_assessment: str | None
    notes: str | None
    processed_by: str
    returned_at: str


class CancellationDetails(TypedDict):
    reason: str  # customer_request, payment_failure, fraud, admin_decision, other
    notes: str | None
    processed_by: str
    cancelled_at: str
