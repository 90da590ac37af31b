"""The catalog's error codes. Faces map them to statuses (for /v1: ``api/v1/errors.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from flexbill.core.errors import Conflict, ErrorDetail, FlexbillError, InvalidState


class InvalidPricing(FlexbillError):
    """Prices or amounts that break a pricing rule; each detail names the offending path."""

    def __init__(self, details: Sequence[ErrorDetail]) -> None:
        super().__init__("INVALID_PRICING", "Invalid pricing", tuple(details))


class InvalidCsv(FlexbillError):
    """A CSV upload that cannot be read at all; nothing of it is applied."""

    def __init__(self, message: str) -> None:
        super().__init__("INVALID_CSV", message)


def duplicate_sku(message: str, details: Sequence[ErrorDetail] = ()) -> Conflict:
    return Conflict("DUPLICATE_SKU", message, tuple(details))


def variant_not_found(variant_sku: str) -> FlexbillError:
    # Not ``NotFound``: that kind always carries the code NOT_FOUND, and callers (orders)
    # need to tell a missing variant apart from a missing order.
    return FlexbillError("VARIANT_NOT_FOUND", f"Variant '{variant_sku}' not found")


def variant_inactive(variant_sku: str) -> InvalidState:
    return InvalidState(
        "VARIANT_INACTIVE", f"Variant '{variant_sku}' is inactive or its product is discontinued"
    )


def invalid_contract_length(
    variant_sku: str, contract_length: int, offered: Sequence[int]
) -> FlexbillError:
    lengths = ", ".join(str(months) for months in offered) or "none"
    return FlexbillError(
        "INVALID_CONTRACT_LENGTH",
        f"Variant '{variant_sku}' is not offered for {contract_length} months (offered: {lengths})",
        (
            ErrorDetail(
                path="contractLength",
                message=f"must be one of: {lengths}",
                code="invalid_enum_value",
            ),
        ),
    )
