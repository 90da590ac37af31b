"""Upgrading: the customer swaps a rented device for another model on a new contract.

The old subscription ends (``ended_upgrade``) and its unit comes back as ``returned``; a
tracking order of type ``upgrade`` records the swap; a new subscription starts today on
the new unit, linked both ways (``upgradeFromRentalId`` / ``upgradedToRentalId``), in the
same billing group and with the same custom fields. The customer keeps as many devices
as before and their monthly revenue moves by the difference.

Locks are taken in the order every billing-group change takes them: the group before its
member subscriptions (``billing/groups.py``), then the customer, then the units. An
upgrade therefore reads the old subscription first, locks its group, then locks the
subscription and checks that it is still in that group.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import service as assets
from flexbill.billing import membership
from flexbill.catalog import errors as catalog_errors
from flexbill.catalog import service as catalog
from flexbill.catalog.models import ProductStatus, Variant, VariantStatus
from flexbill.core import clock
from flexbill.core.errors import Conflict
from flexbill.core.money import to_major
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders import tracking
from flexbill.orders.create import acquisition_cost_of, list_price_of
from flexbill.settings.service import get_settings
from flexbill.subscriptions import accounting, closing, service
from flexbill.subscriptions.lifecycle import EndReason, SubscriptionStatus, check_active
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class Upgrade:
    rental_id: str
    new_sku: str
    new_serial_number: str
    contract_length: int  # months of the new contract
    new_monthly_amount: int  # minor units
    reason: str
    notes: str | None = None


@dataclass(frozen=True)
class Device:
    sku: str
    serial_number: str
    product_name: str

    @property
    def name(self) -> str:
        """How FlexPortal names a device in an upgrade's answer: ``Laptop Pro 16 (SN-1)``."""
        return f"{self.product_name} ({self.serial_number})"


@dataclass(frozen=True)
class Upgraded:
    old: Subscription
    new: Subscription
    old_device: Device
    new_device: Device
    tracking_order_id: str


# Each attempt fails only when another transaction moved the subscription between two
# groups in the instant between reading it and locking it.
_LOCK_ATTEMPTS = 5


def sku_mismatch(serial_number: str, unit_sku: str, wanted_sku: str) -> Conflict:
    return Conflict(
        "SKU_MISMATCH",
        f"Asset '{serial_number}' is a unit of SKU '{unit_sku}', not '{wanted_sku}'",
    )


async def _active_variant(session: AsyncSession, ctx: TenantContext, sku: str) -> Variant:
    variant = await catalog.get_variant(session, ctx, sku)
    if variant.status != VariantStatus.ACTIVE or variant.product.status != ProductStatus.ACTIVE:
        raise catalog_errors.variant_inactive(sku)
    return variant


async def _locked_with_its_group(
    session: AsyncSession, ctx: TenantContext, rental_id: str
) -> Subscription:
    """The subscription ``rental_id`` locked and re-read, its billing group (if any)
    locked before it."""
    subscriptions = Subscriptions(session, ctx.tenant_id)
    for _attempt in range(_LOCK_ATTEMPTS):
        group_id = (await subscriptions.get(rental_id)).billing_group_id
        if group_id is not None:
            await membership.lock_group(session, ctx, group_id)
        subscription = await subscriptions.get(rental_id, for_update=True)
        if subscription.billing_group_id == group_id:
            return subscription
    raise Conflict(
        "CONCURRENT_UPDATE",
        f"Subscription '{rental_id}' keeps changing billing groups; retry the upgrade",
    )


def _tracked_item(variant: Variant, upgrade: Upgrade, rental_id: str) -> tracking.TrackedItem:
    """The new device at the agreed amount, with the catalog's list price and cost as a
    placed order takes them (``open_subscription`` prefers the unit's own cost)."""
    list_price, list_price_source = list_price_of(variant)
    cost, cost_source = acquisition_cost_of(variant)
    return tracking.TrackedItem(
        rental_id=rental_id, sku=variant.sku, variant_id=variant.id,
        product_name=variant.product.name, variant_name=variant.name,
        contract_length=upgrade.contract_length, unit_price=upgrade.new_monthly_amount,
        list_price=list_price, list_price_source=list_price_source, acquisition_cost=cost,
        acquisition_cost_source=cost_source,
    )  # fmt: skip


async def upgrade_subscription(
    session: AsyncSession, ctx: TenantContext, upgrade: Upgrade
) -> Upgraded:
    """End the active subscription ``upgrade.rental_id`` and start one on the unit
    ``upgrade.new_serial_number`` of the active variant ``upgrade.new_sku``.

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE``, ``VARIANT_NOT_FOUND``,
    ``VARIANT_INACTIVE``, ``ASSET_NOT_FOUND``, ``ASSET_NOT_AVAILABLE``, ``SKU_MISMATCH``
    (the unit is not of ``new_sku``) and, should concurrent requests keep moving the
    subscription between billing groups, ``CONCURRENT_UPDATE``.
    """
    settings = await get_settings(session, ctx)
    old = await _locked_with_its_group(session, ctx, upgrade.rental_id)
    check_active(old.status, old.end_reason, "upgraded")
    variant = await _active_variant(session, ctx, upgrade.new_sku)
    rental_id = service.new_rental_id(settings)
    if old.billing_group_id is not None:
        # The new contract is billed with the old one; it joins the group as any new
        # subscription does (the group is already locked, above).
        await membership.joinable_group(
            session, ctx, old.billing_group_id, rental_id=rental_id, customer_id=old.customer_id
        )
    # The customer before the unit: the order in which starting a subscription takes its
    # locks, so that a start and an upgrade of one customer never wait on each other.
    await accounting.locked_customer(session, ctx, old.customer_id)
    asset = await assets.assign(
        session, ctx, upgrade.new_serial_number, rental_id=rental_id, customer_id=old.customer_id
    )
    if asset.sku != upgrade.new_sku:
        raise sku_mismatch(asset.serial_number, asset.sku, upgrade.new_sku)

    now = clock.now()
    old_device = Device(old.sku, old.serial_number, old.product_name)
    old_amount = old.monthly_amount
    old.upgraded_to_rental_id = rental_id
    await closing.close(
        session, ctx, old, status=SubscriptionStatus.ENDED, end_reason=EndReason.UPGRADE,
        asset_status="returned", action="upgraded", at=now, announce_end=False,
        upgraded_to_rental_id=rental_id, new_sku=upgrade.new_sku,
        new_serial_number=asset.serial_number, reason=upgrade.reason,
    )  # fmt: skip
    order = await tracking.write_tracking_order(
        session, ctx, original_order_id=old.order_id,
        item=_tracked_item(variant, upgrade, rental_id),
        details=tracking.UpgradeFacts(
            previous_device=old.product_name, previous_serial_number=old.serial_number,
            previous_monthly_amount=old_amount, previous_rental_id=old.id,
            upgrade_reason=upgrade.reason,
        ),
        notes=upgrade.notes, at=now,
    )  # fmt: skip
    customer = await accounting.locked_customer(session, ctx, old.customer_id)
    terms = service.Terms(
        start=now.date(), months=upgrade.contract_length,
        monthly_amount=upgrade.new_monthly_amount, billing_group_id=old.billing_group_id,
        upgrade_from_rental_id=old.id, custom_fields=old.custom_fields,
    )  # fmt: skip
    new = await service.open_subscription(
        session, ctx, settings, rental_id=rental_id, customer=customer, order=order,
        item=order.items[0], asset=asset, terms=terms, at=now,
    )  # fmt: skip
    new_device = Device(new.sku, new.serial_number, new.product_name)
    await Subscriptions(session, ctx.tenant_id).load_customers([old, new])
    data = {
        "oldRentalId": old.id,
        "newRentalId": new.id,
        "oldDevice": _device_data(old_device),
        "newDevice": _device_data(new_device),
        "newMonthlyAmount": to_major(new.monthly_amount, ctx.currency),
        "currency": ctx.currency,
        "customerId": new.customer_id,
        "subscriptionId": new.id,
        "orderId": order.id,
    }
    await events.emit(session, ctx, EventType.SUBSCRIPTION_UPGRADED, data)
    return Upgraded(
        old=old, new=new, old_device=old_device, new_device=new_device, tracking_order_id=order.id
    )


def _device_data(device: Device) -> dict[str, str]:
    return {
        "sku": device.sku,
        "serialNumber": device.serial_number,
        "productName": device.product_name,
    }
