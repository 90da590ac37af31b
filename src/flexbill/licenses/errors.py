"""The errors of licensing, with codes every face maps to its own status and envelope."""

from __future__ import annotations

from flexbill.core.errors import (
    Conflict,
    ErrorDetail,
    FlexbillError,
    InvalidState,
    NotFound,
    ValidationFailed,
)


def unknown_api_key() -> FlexbillError:
    return FlexbillError("LICENSE_API_KEY_INVALID", "Unknown or revoked API key")


class _Missing(NotFound):
    def __init__(self, code: str, message: str) -> None:
        FlexbillError.__init__(self, code, message)


def unknown_license(key: str) -> NotFound:
    return _Missing("LICENSE_NOT_FOUND", f"Unknown license key '{key}'")


def unknown_product(product_id: str) -> NotFound:
    return _Missing("LICENSE_PRODUCT_NOT_FOUND", f"License product '{product_id}' not found")


def wrong_product_type(message: str) -> InvalidState:
    return InvalidState("LICENSE_PRODUCT_TYPE", message)


def insufficient_balance(balance: str, unit: str) -> InvalidState:
    return InvalidState("INSUFFICIENT_BALANCE", f"Insufficient balance: {balance} {unit} left")


def invalid_amount(message: str) -> ValidationFailed:
    return ValidationFailed(message, [ErrorDetail("amount", message, "invalid_amount")])


def license_revoked(key: str) -> InvalidState:
    return InvalidState("LICENSE_REVOKED", f"License '{key}' is revoked")


def no_free_trial() -> InvalidState:
    return InvalidState("NO_FREE_TRIAL", "This product offers no free trial")


def invalid_validation_link() -> NotFound:
    return _Missing(
        "VALIDATION_LINK_INVALID", "This validation link is unknown or was already used"
    )


def activation_limit(limit: int) -> Conflict:
    return Conflict(
        "ACTIVATION_LIMIT_REACHED", f"This license is active on {limit} machines already"
    )


def unknown_product_key(key_id: str) -> NotFound:
    return _Missing("LICENSE_PRODUCT_KEY_NOT_FOUND", f"Product API key '{key_id}' not found")


def wrong_license_state(message: str) -> InvalidState:
    return InvalidState("LICENSE_NOT_VERIFIED", message)
