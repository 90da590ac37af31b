"""The orders' own error codes. Faces map them to statuses (for /v1: ``api/v1/errors.py``).

Status-machine refusals (``ORDER_NOT_CANCELLABLE``, ``INVALID_ORDER_STATUS``,
``ORDER_NOT_CONFIRMED``, ``ITEM_FULLY_FULFILLED``) live with the machine in ``lifecycle``.
"""

from __future__ import annotations

from flexbill.core.errors import Conflict, FlexbillError


def order_not_found(order_id: str) -> FlexbillError:
    # Not ``NotFound``: that kind always carries the code NOT_FOUND, and callers
    # (subscriptions) must tell a missing order apart from a missing asset or customer.
    return FlexbillError("ORDER_NOT_FOUND", f"Order '{order_id}' not found")


def sku_mismatch(order_id: str, sku: str) -> Conflict:
    return Conflict("SKU_MISMATCH", f"Order '{order_id}' has no item with SKU '{sku}'")
