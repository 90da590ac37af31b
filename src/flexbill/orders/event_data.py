"""The ``data`` of the events orders write, in FlexPortal's webhook vocabulary.

Amounts are major units as exact ``Decimal`` numbers, like the /v1 face shows them, so a
webhook consumer reads the same figures it reads from ``GET /v1/orders/{orderId}``.
"""

from __future__ import annotations

from typing import Any

from flexbill.core.money import to_major
from flexbill.orders.models import Order


def order_summary(order: Order, currency: str) -> dict[str, Any]:
    return {
        "orderId": order.id,
        "customerId": order.customer_id,
        "status": order.status,
        "orderType": order.order_type,
        "channel": order.channel,
        "totals": {
            "subtotal": to_major(order.subtotal, currency),
            "taxAmount": to_major(order.tax_amount, currency),
            "total": to_major(order.total, currency),
            "currency": currency,
            "totalDevices": order.total_devices,
        },
        "items": [
            {
                "sku": item.sku,
                "quantity": item.quantity,
                "contractLength": item.contract_length,
                "unitPrice": to_major(item.unit_price, currency),
            }
            for item in order.items
        ],
        "rentalProgress": {
            "totalDevices": order.total_devices,
            "rentedDevices": order.rented_devices,
        },
    }
