"""Customer request and response bodies of the /v1 face (seed 003)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.core.money import to_major
from flexbill.customers.models import Customer
from flexbill.customers.service import Address, CustomerChanges, NewCustomer
from flexbill.tenancy.context import TenantContext

NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]
Optional200 = Annotated[str | None, Field(default=None, max_length=200)]


class AddressBody(V1Model):
    contact_name: NonEmpty
    street_address: NonEmpty
    city: NonEmpty
    country: NonEmpty
    company: Optional200 = None
    building_info: Optional200 = None
    locality: Optional200 = None
    admin_area: Optional200 = None
    postal_code: Annotated[str | None, Field(default=None, max_length=40)] = None

    def to_domain(self) -> Address:
        return Address(**self.model_dump())

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> AddressBody | None:
        return None if stored is None else cls(**stored)


class CustomerCreateBody(V1Model):
    email: EmailStr
    first_name: NonEmpty
    last_name: NonEmpty
    company: Optional200 = None
    phone: Annotated[str | None, Field(default=None, max_length=50)] = None
    customer_type: Literal["individual", "business"] = "individual"
    billing_address: AddressBody | None = None
    shipping_address: AddressBody | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    def to_domain(self) -> NewCustomer:
        return NewCustomer(
            email=str(self.email), first_name=self.first_name, last_name=self.last_name,
            company=self.company, phone=self.phone, customer_type=self.customer_type,
            billing_address=self.billing_address.to_domain() if self.billing_address else None,
            shipping_address=self.shipping_address.to_domain() if self.shipping_address else None,
            custom_fields=self.custom_fields,
        )  # fmt: skip


class CustomerUpdateBody(V1Model):
    """Exactly seed 003's body; fields left out keep their value."""

    customer_id: Annotated[str, Field(min_length=1)]
    first_name: Annotated[str | None, Field(default=None, min_length=1, max_length=200)] = None
    last_name: Annotated[str | None, Field(default=None, min_length=1, max_length=200)] = None
    company: Optional200 = None
    phone: Annotated[str | None, Field(default=None, max_length=50)] = None
    customer_type: Literal["individual", "business"] | None = None
    status: Literal["active", "inactive"] | None = None
    billing_address: AddressBody | None = None
    shipping_address: AddressBody | None = None

    def to_domain(self) -> CustomerChanges:
        return CustomerChanges(
            first_name=self.first_name, last_name=self.last_name, company=self.company,
            phone=self.phone, customer_type=self.customer_type, status=self.status,
            billing_address=self.billing_address.to_domain() if self.billing_address else None,
            shipping_address=self.shipping_address.to_domain() if self.shipping_address else None,
        )  # fmt: skip


class CustomerBody(V1Model):
    customer_id: str
    tenant_id: str
    email: str
    first_name: str
    last_name: str
    customer_type: Literal["individual", "business"]
    total_orders: int
    total_devices_rented: int
    total_monthly_revenue: Amount
    status: Literal["active", "inactive"]
    order_ids: list[str]
    rental_ids: list[str]
    created_by: str
    company: str | None
    phone: str | None
    custom_fields: dict[str, Any]
    last_billing_address: AddressBody | None
    last_shipping_address: AddressBody | None
    lifetime_collected: Amount
    total_acquisition_cost: Amount
    customer_margin: Amount
    customer_margin_percent: Amount | None
    subscriptions_tracked: int
    auto_charge: bool = Field(
        description="Due payments are charged to the default payment method (flexbill)"
    )
    test_clock_id: str | None = Field(
        description="The test clock this test-mode customer is billed on (flexbill)"
    )
    currency: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer, ctx: TenantContext) -> CustomerBody:
        currency = ctx.currency
        margin = customer.lifetime_collected - customer.total_acquisition_cost
        margin_percent = (
            (Decimal(margin) * 100 / Decimal(customer.lifetime_collected)).quantize(Decimal("0.01"))
            if customer.lifetime_collected
            else None
        )
        return cls(
            customer_id=customer.id, tenant_id=ctx.business_unit_id, email=customer.email,
            first_name=customer.first_name, last_name=customer.last_name,
            customer_type=customer.customer_type,
            total_orders=customer.total_orders, total_devices_rented=customer.total_devices_rented,
            total_monthly_revenue=to_major(customer.total_monthly_revenue, currency),
            status=customer.status,
            order_ids=list(customer.order_ids), rental_ids=list(customer.rental_ids),
            created_by=customer.created_by, company=customer.company, phone=customer.phone,
            custom_fields=dict(customer.custom_fields),
            last_billing_address=AddressBody.from_stored(customer.last_billing_address),
            last_shipping_address=AddressBody.from_stored(customer.last_shipping_address),
            lifetime_collected=to_major(customer.lifetime_collected, currency),
            total_acquisition_cost=to_major(customer.total_acquisition_cost, currency),
            customer_margin=to_major(margin, currency), customer_margin_percent=margin_percent,
            subscriptions_tracked=customer.subscriptions_tracked,
            auto_charge=customer.auto_charge, test_clock_id=customer.test_clock_id,
            currency=currency,
            created_at=customer.created_at, updated_at=customer.updated_at,
        )  # fmt: skip


class CustomerResult(V1Model):
    success: bool = True
    message: str
    customer_id: str
    customer: CustomerBody


class CustomerList(V1Model):
    customers: list[CustomerBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
