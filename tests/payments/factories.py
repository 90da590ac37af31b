"""Scheduled payments made straight through the models (the billing run makes them in
production), rentals and payment methods set up through the API as a client would, and a
worker that runs the collection schedule."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from flexbill.billing import collection
from flexbill.billing.collection import COLLECT, COLLECT_DUE
from flexbill.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentStatus,
    PaymentType,
)
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.core.jobs import Job
from flexbill.customers.models import Customer
from flexbill.payments.models import Transaction
from flexbill.tenancy.context import TenantContext
from flexbill.worker.registry import REGISTRY, Registry
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.orders.support import LAPTOP, tenant_context
from tests.subscriptions.support import confirmed_order, events_of, exact, register, subscribe
from tests.support import Api, Tenant

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Charge:
    """One line of a scheduled payment: a subscription's net amount and its VAT."""

    subscription_id: str | None
    net: int
    tax: int = 0


async def scheduled_payment(
    database: Database,
    tenant_id: str,
    customer_id: str,
    *charges: Charge,
    due_date: date,
    billing_group_id: str | None = None,
) -> Payment:
    """An open invoice with one line per charge and its pending payment, as the billing
    run would write them (money in minor units)."""
    number = next(_numbers)
    rental_id = charges[0].subscription_id if billing_group_id is None else None
    owner = billing_group_id or rental_id or customer_id
    key = f"{owner}:{due_date.isoformat()}:{number}"
    subtotal = sum(charge.net for charge in charges)
    tax = sum(charge.tax for charge in charges)
    async with database.transaction() as session:
        invoice = Invoice(
            tenant_id=tenant_id, id=new_id("inv"), number=f"TEST-{number:06d}", billing_key=key,
            status=InvoiceStatus.OPEN, customer_id=customer_id, subscription_id=rental_id,
            billing_group_id=billing_group_id, period_start=due_date, period_end=due_date,
            vat_rate=Decimal(19), vat_mode="exclusive", subtotal=subtotal, tax_amount=tax,
            total=subtotal + tax, amount_paid=0, due_date=due_date,
        )  # fmt: skip
        session.add(invoice)
        for position, charge in enumerate(charges, start=1):
            session.add(
                InvoiceLine(
                    tenant_id=tenant_id, invoice_id=invoice.id, position=position,
                    kind=LineKind.RENTAL, description="Laptop rental",
                    subscription_id=charge.subscription_id, quantity=1, unit_amount=charge.net,
                    amount=charge.net, tax_amount=charge.tax, total=charge.net + charge.tax,
                )
            )  # fmt: skip
        payment = Payment(
            tenant_id=tenant_id, id=new_id("pay"), status=PaymentStatus.PENDING,
            payment_type=(
                PaymentType.CONSOLIDATED if billing_group_id else PaymentType.INDIVIDUAL
            ),
            customer_id=customer_id, rental_id=rental_id, billing_group_id=billing_group_id,
            invoice_id=invoice.id, billing_period=due_date.strftime("%Y-%m"),
            period_start=due_date, amount=subtotal + tax, original_amount=subtotal + tax,
            due_date=due_date, line_items=[], idempotency_key=key,
        )  # fmt: skip
        session.add(payment)
    return payment


async def payment(database: Database, tenant_id: str, payment_id: str) -> Payment:
    async with database.transaction() as session:
        row = await session.get(Payment, (tenant_id, payment_id))
        assert row is not None
        return row


async def invoice(database: Database, tenant_id: str, invoice_id: str) -> Invoice:
    async with database.transaction() as session:
        row = await session.get(Invoice, (tenant_id, invoice_id))
        assert row is not None
        return row


async def customer(database: Database, tenant_id: str, customer_id: str) -> Customer:
    async with database.transaction() as session:
        row = await session.get(Customer, (tenant_id, customer_id))
        assert row is not None
        return row


async def transactions(database: Database, payment_id: str) -> list[Transaction]:
    async with database.transaction() as session:
        statement = (
            select(Transaction)
            .where(Transaction.payment_id == payment_id)
            .order_by(Transaction.attempt)
        )
        return list((await session.scalars(statement)).all())


async def rentals(
    api: Api, count: int = 1, *, email: str = "ada@example.com", catalog: bool = True
) -> list[Any]:
    """``count`` active 12-month laptop rentals (59.99 a month) of one customer; the
    catalog is created unless it exists already (``catalog=False``)."""
    items = [{"sku": LAPTOP, "quantity": count, "contractLength": 12}]
    order = await confirmed_order(api, catalog=catalog, email=email, items=items)
    started = []
    for number in range(count):
        serial = f"SN-{email.split('@')[0]}-{number}"
        await register(api, serial)
        started.append(await subscribe(api, order, serial))
    return started


async def add_method(
    api: Api, customer_id: str, token: str | None = "tok_visa", **fields: Any
) -> dict[str, Any]:
    body = {"customerId": customer_id, "gateway": "sandbox", "token": token, **fields}
    response = await api.post("/v1/payment-methods", body)
    assert response.status_code == 201, response.text
    method: dict[str, Any] = response.json()["paymentMethod"]
    return method


async def auto_charge(api: Api, customer_id: str, token: str = "tok_visa") -> dict[str, Any]:
    """Give the customer a default card and switch auto-charge on; the card."""
    method = await add_method(api, customer_id, token, isDefault=True)
    response = await api.post(f"/v1/customers/{customer_id}/auto-charge", {"enabled": True})
    assert response.status_code == 200, response.text
    return method


async def rental_of(api: Api, rental_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/subscriptions/{rental_id}")
    assert response.status_code == 200, response.text
    rental: dict[str, Any] = exact(response)  # the rental object itself
    return rental


T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DUE = T0.date()
NET, TAX = 5999, 1140  # 59.99 a month and 19 % VAT
SCHEDULE = (Periodic(COLLECT_DUE, timedelta(minutes=10)),)


def worker(database: Database, registry: Registry = REGISTRY) -> Worker:
    return Worker(database, registry, schedule=SCHEDULE)


@dataclass(frozen=True)
class Due:
    """A rental with a scheduled payment, its customer collected automatically."""

    ctx: TenantContext
    rental_id: str
    customer_id: str
    payment_id: str
    invoice_id: str
    card_id: str


async def due_payment(
    api: Api,
    database: Database,
    tenant: Tenant,
    token: str = "tok_visa",
    *,
    due: date = DUE,
    email: str = "ada@example.com",
) -> Due:
    ctx = await tenant_context(database, tenant)
    (rental,) = await rentals(api, email=email, catalog=email == "ada@example.com")
    card = await auto_charge(api, rental["customerId"], token)
    scheduled = await scheduled_payment(
        database, ctx.tenant_id, rental["customerId"], Charge(rental["rentalId"], NET, TAX),
        due_date=due,
    )  # fmt: skip
    return Due(
        ctx=ctx, rental_id=rental["rentalId"], customer_id=rental["customerId"],
        payment_id=scheduled.id, invoice_id=scheduled.invoice_id,
        card_id=card["paymentMethodId"],
    )  # fmt: skip


async def retry_settings(api: Api, **retry: Any) -> None:
    response = await api.patch("/v1/settings", {"paymentRetry": retry})
    assert response.status_code == 200, response.text


async def payment_events(database: Database, payment_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.type, event.data)
        for event in await events_of(database)
        if event.type.startswith("payment.") and event.data.get("paymentId") == payment_id
    ]


async def collect_jobs(database: Database) -> list[Job]:
    async with database.transaction() as session:
        statement = select(Job).where(Job.kind == COLLECT).order_by(Job.created_at, Job.id)
        return list((await session.scalars(statement)).all())


def crash_once_after(handler: Callable[..., Awaitable[None]]) -> Registry:
    """A registry whose ``payments.collect`` runs the real handler, then dies once, as a
    worker killed between the gateway's answer and the commit: the job is rolled back."""
    registry = Registry()
    crashes = [RuntimeError("worker killed after the gateway call")]

    async def crashing(session: Any, job: Job) -> None:
        await handler(session, job)
        if crashes:
            raise crashes.pop()

    registry.handles(COLLECT)(crashing)
    registry.handles(COLLECT_DUE)(collection.enqueue_due_collections)
    return registry
