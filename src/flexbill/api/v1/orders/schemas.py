"""Order request and response bodies of the /v1 face (FlexPortal's Orders reference)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field

from flexbill.api.v1.customers.schemas import AddressBody
from flexbill.api.v1.responses import Amount, V1Model
from flexbill.core.money import to_major
from flexbill.orders.create import NewOrder, OrderCustomer, OrderLine
from flexbill.orders.details import ExtensionDetails, UpgradeDetails
from flexbill.orders.models import (
    MAX_CANCELLATION_REASON_LENGTH,
    MAX_NOTES_LENGTH,
    Channel,
    Order,
    OrderItem,
    OrderType,
)
from flexbill.tenancy.context import TenantContext

MAX_ITEMS = 100
MAX_QUANTITY = 10_000
MAX_CONTRACT_MONTHS = 120

NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]
Optional200 = Annotated[str | None, Field(default=None, max_length=200)]
Reference = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str | None, Field(default=None, max_length=MAX_CANCELLATION_REASON_LENGTH)]
Notes = Annotated[str, Field(max_length=MAX_NOTES_LENGTH)]
Months = Annotated[int, Field(ge=1, le=MAX_CONTRACT_MONTHS)]
OrderTypeName = Literal["standard", "extension", "upgrade"]
ChannelName = Literal["online", "in_store"]
CustomerTypeName = Literal["individual", "business"]


class OrderCustomerWrite(V1Model):
    email: EmailStr
    first_name: NonEmpty
    last_name: NonEmpty
    company: Optional200 = None
    phone: Annotated[str | None, Field(default=None, max_length=50)] = None
    customer_type: CustomerTypeName = "individual"

    def to_domain(self) -> OrderCustomer:
        return OrderCustomer(
            email=str(self.email), first_name=self.first_name, last_name=self.last_name,
            company=self.company, phone=self.phone, customer_type=self.customer_type,
        )  # fmt: skip


class OrderItemWrite(V1Model):
    sku: Reference
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    contract_length: Months | None = None

    def to_domain(self) -> OrderLine:
        return OrderLine(self.sku, self.quantity, self.contract_length)


class ExtensionDetailsWrite(V1Model):
    original_order_id: Reference
    extension_months: Months
    previous_end_date: date
    new_end_date: date
    reason: Reason = None

    def to_domain(self) -> ExtensionDetails:
        return ExtensionDetails(
            original_order_id=self.original_order_id, extension_months=self.extension_months,
            previous_end_date=self.previous_end_date, new_end_date=self.new_end_date,
            reason=self.reason,
        )  # fmt: skip


class UpgradeDetailsWrite(V1Model):
    previous_device: NonEmpty
    previous_serial_number: Reference
    previous_monthly_amount: Annotated[Decimal, Field(ge=0)]
    previous_rental_id: Reference
    upgrade_reason: Reason = None

    def to_domain(self) -> UpgradeDetails:
        return UpgradeDetails(
            previous_device=self.previous_device,
            previous_serial_number=self.previous_serial_number,
            previous_monthly_amount=self.previous_monthly_amount,
            previous_rental_id=self.previous_rental_id, upgrade_reason=self.upgrade_reason,
        )  # fmt: skip


class OrderCreateBody(V1Model):
    """The body of ``POST /v1/orders``."""

    order_type: OrderTypeName = "standard"
    extension_details: ExtensionDetailsWrite | None = None
    upgrade_details: UpgradeDetailsWrite | None = None
    customer: OrderCustomerWrite
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    billing_address: AddressBody
    shipping_address: AddressBody | None = None
    items: Annotated[list[OrderItemWrite], Field(min_length=1, max_length=MAX_ITEMS)]
    notes: Notes | None = None
    channel: ChannelName = Field(
        default="online", description="flexbill: `online` or `in_store` (a point of sale)"
    )

    def to_domain(self) -> NewOrder:
        extension, upgrade = self.extension_details, self.upgrade_details
        return NewOrder(
            customer=self.customer.to_domain(), billing_address=self.billing_address.to_domain(),
            items=[item.to_domain() for item in self.items],
            shipping_address=self.shipping_address.to_domain() if self.shipping_address else None,
            order_type=OrderType(self.order_type), channel=Channel(self.channel),
            extension_details=extension.to_domain() if extension else None,
            upgrade_details=upgrade.to_domain() if upgrade else None,
            custom_fields=self.custom_fields, notes=self.notes,
        )  # fmt: skip


class NotesBody(V1Model):
    notes: Notes


class CancelBody(V1Model):
    reason: Reason = None


class OrderCustomerBody(V1Model):
    email: str
    first_name: str
    last_name: str
    company: str | None
    phone: str | None
    customer_type: CustomerTypeName


class OrderItemBody(V1Model):
    sku: str
    product_name: str
    variant_name: str
    quantity: int
    contract_length: int
    unit_price: Amount = Field(description="Monthly price per device, after discounts")
    list_price: Amount | None
    list_price_source: Literal["variant", "manual", "unknown"]
    acquisition_cost: Amount | None
    acquisition_cost_source: Literal["variant", "manual", "list_price", "unknown"]
    setup_fee: Amount = Field(description="Charged once per device")
    rental_ids: list[str]
    rental_status: Literal["pending", "partial", "completed"]

    @classmethod
    def of(cls, item: OrderItem, currency: str) -> OrderItemBody:
        return cls(
            sku=item.sku, product_name=item.product_name, variant_name=item.variant_name,
            quantity=item.quantity, contract_length=item.contract_length,
            unit_price=to_major(item.unit_price, currency),
            list_price=_major(item.list_price, currency), list_price_source=item.list_price_source,
            acquisition_cost=_major(item.acquisition_cost, currency),
            acquisition_cost_source=item.acquisition_cost_source,
            setup_fee=to_major(item.setup_fee, currency), rental_ids=list(item.rental_ids),
            rental_status=item.rental_status,
        )  # fmt: skip


class TotalsBody(V1Model):
    subtotal: Amount = Field(description="Monthly amount of the items before VAT")
    tax_amount: Amount
    total: Amount = Field(description="Monthly amount including VAT")
    currency: str
    total_devices: int


class PaymentBody(V1Model):
    status: Literal["pending", "paid", "failed"]
    method: Literal["stripe", "manual"]
    transaction_id: str | None
    paid_amount: Amount
    manually_marked: bool


class RentalProgressBody(V1Model):
    total_devices: int
    rented_devices: int


class ExtensionDetailsBody(V1Model):
    original_order_id: str
    extension_months: int
    previous_end_date: date
    new_end_date: date
    reason: str | None


class UpgradeDetailsBody(V1Model):
    previous_device: str
    previous_serial_number: str
    previous_monthly_amount: Amount
    previous_rental_id: str
    upgrade_reason: str | None


def _major(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else to_major(amount, currency)


def _upgrade(stored: dict[str, Any] | None, currency: str) -> UpgradeDetailsBody | None:
    if stored is None:
        return None
    amount = to_major(stored["previous_monthly_amount"], currency)
    return UpgradeDetailsBody(**{**stored, "previous_monthly_amount": amount})


class OrderBody(V1Model):
    order_id: str
    tenant_id: str
    status: Literal["pending", "confirmed", "partial", "fulfilled", "cancelled"]
    order_type: OrderTypeName
    channel: ChannelName
    customer: OrderCustomerBody
    customer_id: str
    items: list[OrderItemBody]
    totals: TotalsBody
    payment: PaymentBody
    rental_progress: RentalProgressBody
    rental_ids: list[str]
    billing_address: AddressBody
    shipping_address: AddressBody | None
    billing_group_id: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    notes: str | None
    custom_fields: dict[str, Any]
    extension_details: ExtensionDetailsBody | None
    upgrade_details: UpgradeDetailsBody | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order, ctx: TenantContext) -> OrderBody:
        currency = ctx.currency
        extension = order.extension_details
        return cls(
            order_id=order.id, tenant_id=ctx.business_unit_id, status=order.status,
            order_type=order.order_type, channel=order.channel,
            customer=OrderCustomerBody(**order.customer), customer_id=order.customer_id,
            items=[OrderItemBody.of(item, currency) for item in order.items],
            totals=TotalsBody(
                subtotal=to_major(order.subtotal, currency),
                tax_amount=to_major(order.tax_amount, currency),
                total=to_major(order.total, currency), currency=currency,
                total_devices=order.total_devices,
            ),
            payment=PaymentBody(
                status=order.payment_status, method=order.payment_method,
                transaction_id=order.payment_transaction_id,
                paid_amount=to_major(order.paid_amount, currency),
                manually_marked=order.payment_manually_marked,
            ),
            rental_progress=RentalProgressBody(
                total_devices=order.total_devices, rented_devices=order.rented_devices
            ),
            rental_ids=list(order.rental_ids),
            billing_address=AddressBody(**order.billing_address),
            shipping_address=AddressBody.from_stored(order.shipping_address),
            billing_group_id=order.billing_group_id, tracking_number=order.tracking_number,
            shipped_at=order.shipped_at, notes=order.notes,
            custom_fields=dict(order.custom_fields),
            extension_details=None if extension is None else ExtensionDetailsBody(**extension),
            upgrade_details=_upgrade(order.upgrade_details, currency),
            confirmed_at=order.confirmed_at, cancelled_at=order.cancelled_at,
            cancellation_reason=order.cancellation_reason, created_by=order.created_by,
            created_at=order.created_at, updated_at=order.updated_at,
        )  # fmt: skip


class OrderCreated(V1Model):
    success: bool = True
    message: str
    order_id: str
    order: OrderBody


class OrderResult(V1Model):
    success: bool = True
    message: str
    order: OrderBody


class OrderList(V1Model):
    orders: list[OrderBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
