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


def variant_in_use(variant_skus: Sequence[str]) -> Conflict:
    named = ", ".join(f"'{sku}'" for sku in variant_skus)
    if len(variant_skus) == 1:
        message = f"Variant {named} has active subscriptions and cannot be deactivated"
    else:
        message = f"Variants {named} have active subscriptions and cannot be deactivated"
    return Conflict("VARIANT_IN_USE", f"{message}; end or cancel those subscriptions first")


def product_has_active_orders(
    product_sku: str, order_ids: Sequence[str], *, more: bool
) -> Conflict:
    listed = ", ".join(order_ids) + (", …" if more else "")
    return Conflict(
        "PRODUCT_HAS_ACTIVE_ORDERS",
        f"Product '{product_sku}' has pending, confirmed or partially fulfilled orders "
        f"({listed}); fulfil or cancel them first",
    )


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
