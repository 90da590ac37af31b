"""Customer use cases. Every function works inside the caller's transaction (flush only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import Conflict, InvalidState
from flexbill.core.filtering import FilterSet, boolean, equals, one_of
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.customers.models import Customer, CustomerStatus, CustomerType
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class Address:
    contact_name: str
    street_address: str
    city: str
    country: str
    company: str | None = None
    building_info: str | None = None
    locality: str | None = None
    admin_area: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class NewCustomer:
    email: str
    first_name: str
    last_name: str
    company: str | None = None
    phone: str | None = None
    customer_type: str = CustomerType.INDIVIDUAL
    billing_address: Address | None = None
    shipping_address: Address | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerChanges:
    """Fields to change; ``None`` leaves a field as it is."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    customer_type: str | None = None
    status: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


class Customers(TenantRepository[Customer]):
    model = Customer
    noun = "Customer"

    async def find_by_email(self, email: str) -> Customer | None:
        statement = self.select().where(Customer.email == normalize_email(email))
        return (await self.session.scalars(statement)).one_or_none()


SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Customer.created_at,
        "updatedAt": Customer.updated_at,
        "firstName": Customer.first_name,
        "lastName": Customer.last_name,
        "email": Customer.email,
        "totalMonthlyRevenue": Customer.total_monthly_revenue,
        "totalDevicesRented": Customer.total_devices_rented,
    },
    id_column=Customer.id,
)

FILTERS = FilterSet(
    one_of("status", Customer.status, tuple(CustomerStatus)),
    one_of("customerType", Customer.customer_type, tuple(CustomerType)),
    equals("email", Customer.email, normalize=normalize_email),
    boolean(
        "hasActiveRentals", Customer.total_devices_rented > 0, Customer.total_devices_rented == 0
    ),
    custom_fields=Customer.custom_fields,
)


def _address(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else asdict(address)


async def create_customer(session: AsyncSession, ctx: TenantContext, new: NewCustomer) -> Customer:
    customers = Customers(session, ctx.tenant_id)
    email = normalize_email(new.email)
    if await customers.find_by_email(email) is not None:
        raise _exists(email)
    customer = customers.add(
        Customer(
            id=new_id("cust"), email=email, first_name=new.first_name, last_name=new.last_name,
            company=new.company, phone=new.phone, customer_type=new.customer_type,
            status=CustomerStatus.ACTIVE, custom_fields=dict(new.custom_fields),
            last_billing_address=_address(new.billing_address),
            last_shipping_address=_address(new.shipping_address),
            order_ids=[], rental_ids=[], created_by=ctx.actor,
        )
    )  # fmt: skip
    try:
        await session.flush()
    except IntegrityError:
        # Another request created the same e-mail between our check and our insert.
        raise _exists(email) from None
    return customer


def _exists(email: str) -> Conflict:
    return Conflict("CUSTOMER_EXISTS", f"A customer with e-mail '{email}' already exists")


async def get_customer(session: AsyncSession, ctx: TenantContext, customer_id: str) -> Customer:
    return await Customers(session, ctx.tenant_id).get(customer_id)


async def update_customer(
    session: AsyncSession, ctx: TenantContext, customer_id: str, changes: CustomerChanges
) -> Customer:
    customer = await Customers(session, ctx.tenant_id).get(customer_id, for_update=True)
    if changes.status == CustomerStatus.INACTIVE:
        _ensure_can_deactivate(customer)
    for name in ("first_name", "last_name", "company", "phone", "customer_type", "status"):
        value = getattr(changes, name)
        if value is not None:
            setattr(customer, name, value)
    if changes.billing_address is not None:
        customer.last_billing_address = _address(changes.billing_address)
    if changes.shipping_address is not None:
        customer.last_shipping_address = _address(changes.shipping_address)
    await session.flush()
    return customer


def _ensure_can_deactivate(customer: Customer) -> None:
    if customer.total_devices_rented > 0:
        raise InvalidState(
            "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS",
            "The customer has active subscriptions; end them before deactivating the customer",
        )


async def deactivate_customer(
    session: AsyncSession, ctx: TenantContext, customer_id: str
) -> Customer:
    """Soft delete: the customer stays, with status ``inactive``."""
    customer = await Customers(session, ctx.tenant_id).get(customer_id, for_update=True)
    _ensure_can_deactivate(customer)
    customer.status = CustomerStatus.INACTIVE
    await session.flush()
    return customer


async def list_customers(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Customer]:
    statement = FILTERS.apply(Customers(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)
