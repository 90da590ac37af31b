"""Customers' payment methods and their auto-charge switch (flexbill's addition).

A payment method is a gateway and the gateway's token for the customer's card or account
(never card data). A customer's first method is their default, and so is one added with
``is_default``; collection charges the default. Removing a method is soft (its
transactions still name it): it is gone for clients, and when it was the default the
newest remaining method becomes the default.

With ``auto_charge`` on, due payments are charged to the default method without being
asked; it can only be switched on while that method is one a gateway can charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError, InvalidState, NotFound, ValidationFailed
from flexbill.core.filtering import FilterSet, one_of
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.customers.models import Customer
from flexbill.payments.models import Gateway, PaymentMethod
from flexbill.payments.sandbox import TEST_CARDS, card_for
from flexbill.tenancy.context import TenantContext

ID_PREFIX = "pm"
MANUAL_TOKEN = "manual"  # noqa: S105  # a placeholder, not a secret
CHARGING_GATEWAYS = frozenset({Gateway.SANDBOX})


class PaymentMethodStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


@dataclass(frozen=True)
class NewPaymentMethod:
    customer_id: str
    gateway: Gateway
    token: str | None
    is_default: bool = False


class PaymentMethods(TenantRepository[PaymentMethod]):
    model = PaymentMethod
    noun = "Payment method"


SORT_ORDERS = SortOrders(
    columns={"createdAt": PaymentMethod.created_at}, id_column=PaymentMethod.id
)

FILTERS = FilterSet(one_of("gateway", PaymentMethod.gateway, tuple(Gateway)))


def _customer_not_found(customer_id: str) -> FlexbillError:
    return FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{customer_id}' not found")


async def _locked_customer(session: AsyncSession, ctx: TenantContext, customer_id: str) -> Customer:
    """The customer, locked: adding, removing and choosing a default are serialized per
    customer, so a customer never has two defaults."""
    customer = await session.get(
        Customer, (ctx.tenant_id, customer_id), with_for_update=True, populate_existing=True
    )
    if customer is None:
        raise _customer_not_found(customer_id)
    return customer


def _card_details(gateway: Gateway, token: str | None) -> tuple[str, str | None, str | None]:
    """The token to store and the card's brand and last four digits."""
    if gateway is Gateway.MANUAL:
        return token or MANUAL_TOKEN, None, None
    if token is None:
        raise ValidationFailed.field(
            "token", "Required for the sandbox gateway: one of its test tokens", "invalid_type"
        )
    card = card_for(token)
    if card is None:
        raise ValidationFailed.field(
            "token",
            f"Unknown sandbox test token; use one of: {', '.join(TEST_CARDS)}",
            "invalid_enum_value",
        )
    return token, card.brand, card.last4


async def _active_methods(
    session: AsyncSession, ctx: TenantContext, customer_id: str
) -> list[PaymentMethod]:
    """The customer's active methods, newest first."""
    statement = (
        PaymentMethods(session, ctx.tenant_id)
        .select()
        .where(
            PaymentMethod.customer_id == customer_id,
            PaymentMethod.status == PaymentMethodStatus.ACTIVE,
        )
        .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
    )
    return list((await session.scalars(statement)).all())


async def add_method(
    session: AsyncSession, ctx: TenantContext, new: NewPaymentMethod
) -> PaymentMethod:
    """Attach a payment method to a customer. ``CUSTOMER_NOT_FOUND``; ``VALIDATION_ERROR``
    for a sandbox token the sandbox does not know."""
    token, brand, last4 = _card_details(new.gateway, new.token)
    customer = await _locked_customer(session, ctx, new.customer_id)
    existing = await _active_methods(session, ctx, customer.id)
    is_default = new.is_default or not any(method.is_default for method in existing)
    if is_default:
        for method in existing:
            method.is_default = False
    method = PaymentMethods(session, ctx.tenant_id).add(
        PaymentMethod(
            id=new_id(ID_PREFIX), customer_id=customer.id, gateway=new.gateway.value,
            token=token, brand=brand, last4=last4, is_default=is_default,
            status=PaymentMethodStatus.ACTIVE,
        )
    )  # fmt: skip
    await session.flush()
    return method


async def get_method(session: AsyncSession, ctx: TenantContext, method_id: str) -> PaymentMethod:
    """An active payment method, or ``NOT_FOUND`` (also once removed)."""
    method = await PaymentMethods(session, ctx.tenant_id).get(method_id)
    if method.status != PaymentMethodStatus.ACTIVE:
        raise NotFound(PaymentMethods.noun, method_id)
    return method


async def list_methods(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PaymentMethod]:
    """The active payment methods of the customer ``filters["customerId"]`` (required: a
    list is always one customer's)."""
    customer_id = filters.get("customerId")
    if not customer_id:
        raise ValidationFailed.field(
            "customerId", "Required: payment methods are listed per customer", "invalid_type"
        )
    statement = (
        PaymentMethods(session, ctx.tenant_id)
        .select()
        .where(
            PaymentMethod.customer_id == customer_id,
            PaymentMethod.status == PaymentMethodStatus.ACTIVE,
        )
    )
    return await paginate(session, FILTERS.apply(statement, filters), SORT_ORDERS, page)


async def remove_method(session: AsyncSession, ctx: TenantContext, method_id: str) -> PaymentMethod:
    """Remove a payment method (soft); the newest remaining one becomes the default when
    it was the default. ``NOT_FOUND`` when unknown or already removed."""
    method = await get_method(session, ctx, method_id)
    await _locked_customer(session, ctx, method.customer_id)
    await session.refresh(method, with_for_update=True)
    if method.status != PaymentMethodStatus.ACTIVE:  # removed while we waited for the lock
        raise NotFound(PaymentMethods.noun, method_id)
    was_default = method.is_default
    method.status = PaymentMethodStatus.REMOVED
    method.is_default = False
    if was_default:
        await session.flush()
        remaining = await _active_methods(session, ctx, method.customer_id)
        if remaining:
            remaining[0].is_default = True
    await session.flush()
    return method


async def default_method(
    session: AsyncSession, ctx: TenantContext, customer_id: str
) -> PaymentMethod | None:
    """The customer's default active payment method, if any."""
    statement = (
        PaymentMethods(session, ctx.tenant_id)
        .select()
        .where(
            PaymentMethod.customer_id == customer_id,
            PaymentMethod.status == PaymentMethodStatus.ACTIVE,
            PaymentMethod.is_default.is_(True),
        )
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def set_auto_charge(
    session: AsyncSession, ctx: TenantContext, customer_id: str, *, enabled: bool
) -> Customer:
    """Switch the customer's auto-charge on or off. ``CUSTOMER_NOT_FOUND``; switching it
    on without a default method a gateway can charge is ``NO_PAYMENT_METHOD``."""
    customer = await _locked_customer(session, ctx, customer_id)
    if enabled:
        method = await default_method(session, ctx, customer.id)
        if method is None or method.gateway not in CHARGING_GATEWAYS:
            raise InvalidState(
                "NO_PAYMENT_METHOD",
                f"Customer '{customer.id}' has no default payment method that can be charged "
                "automatically; add one first (manual payments are marked paid instead)",
            )
    customer.auto_charge = enabled
    await session.flush()
    return customer
