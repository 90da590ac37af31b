"""The ``data`` of the events subscriptions write, in FlexPortal's webhook vocabulary
(``{subscriptionId, customerId, orderId, …}``, seed 000). Amounts are major units as exact
``Decimal`` numbers, as ``GET /v1/subscriptions/{id}`` shows them."""

from __future__ import annotations

from typing import Any

from flexbill.assets.models import Asset
from flexbill.core.money import to_major
from flexbill.subscriptions.lifecycle import display_status
from flexbill.subscriptions.models import Subscription


def subscription_data(subscription: Subscription, currency: str, **extra: Any) -> dict[str, Any]:
    return {
        "subscriptionId": subscription.id,
        "rentalId": subscription.id,
        "customerId": subscription.customer_id,
        "orderId": subscription.order_id,
        "status": display_status(subscription.status, subscription.end_reason),
        "sku": subscription.sku,
        "productName": subscription.product_name,
        "serialNumber": subscription.serial_number,
        "monthlyAmount": to_major(subscription.monthly_amount, currency),
        "currency": currency,
        "contractLength": subscription.contract_length,
        "startDate": subscription.start_date.isoformat(),
        "endDate": subscription.end_date.isoformat(),
        **extra,
    }


def asset_data(asset: Asset, subscription: Subscription, **extra: Any) -> dict[str, Any]:
    return {
        "assetSerialNumber": asset.serial_number,
        "serialNumber": asset.serial_number,
        "sku": asset.sku,
        "status": asset.status,
        "subscriptionId": subscription.id,
        "rentalId": subscription.id,
        "customerId": subscription.customer_id,
        "orderId": subscription.order_id,
        **extra,
    }
