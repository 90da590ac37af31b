"""Invoices and scheduled payments for tests, written straight through the models.

Subscriptions are started through the API as a FlexPortal client does
(``tests.subscriptions.support``); ``bill`` then writes what a billing run would for one
period: an invoice with one line per subscription (VAT exclusive, rounded half up per
line), and its payment, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from flexbill.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentStatus,
    PaymentType,
)
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from tests.orders.support import LAPTOP, PHONE
from tests.subscriptions.support import confirmed_order, exact, register, subscribe
from tests.support import Api

VAT_RATE = Decimal("19.00")
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
JULY = date(2025, 7, 1)


@dataclass(frozen=True)
class Billed:
    invoice_id: str
    payment_id: str
    number: str
    total: int  # minor units


async def rentals(
    api: Api,
    count: int = 1,
    *,
    email: str = "ada@example.com",
    catalog: bool = True,
    phones: int = 0,
) -> list[dict[str, Any]]:
    """``count`` laptop (59.99 a month) and then ``phones`` phone (19.99 a month)
    subscriptions of one customer, in the order started."""
    items = [{"sku": LAPTOP, "quantity": count, "contractLength": 12}] if count else []
    if phones:
        items.append({"sku": PHONE, "quantity": phones, "contractLength": 12})
    order = await confirmed_order(api, catalog=catalog, email=email, items=items)
    started = []
    name = email.split("@")[0]
    for sku, quantity in ((LAPTOP, count), (PHONE, phones)):
        for number in range(quantity):
            serial = f"SN-{name}-{sku}-{number}"
            await register(api, serial, sku)
            started.append(await subscribe(api, order, serial))
    return started


async def group(api: Api, members: Sequence[Mapping[str, Any]], billing_day: int = 1) -> str:
    """A billing group of ``members`` (one customer's), through the API; its id."""
    body = {
        "customerId": members[0]["customerId"],
        "groupName": "Head office",
        "billingDay": billing_day,
        "rentalIds": [member["rentalId"] for member in members],
    }
    response = await api.post("/v1/billing-groups", body)
    assert response.status_code == 201, response.text
    group_id: str = response.json()["billingGroup"]["billingGroupId"]
    return group_id


def vat(amount: int, rate: Decimal = VAT_RATE) -> int:
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _line(
    tenant_id: str, invoice_id: str, position: int, subscription: Subscription,
    period_start: date, period_end: date,
) -> InvoiceLine:  # fmt: skip
    monthly = subscription.monthly_amount
    return InvoiceLine(
        tenant_id=tenant_id, invoice_id=invoice_id, position=position, kind=LineKind.RENTAL,
        description=(
            f"{subscription.product_name} ({subscription.serial_number}), "
            f"{period_start:%B %Y}"
        ),
        subscription_id=subscription.id, quantity=1, unit_amount=monthly, amount=monthly,
        tax_amount=vat(monthly), total=monthly + vat(monthly), period_start=period_start,
        period_end=period_end,
    )  # fmt: skip


async def bill(
    database: Database,
    members: Sequence[Mapping[str, Any]],
    *,
    period_start: date,
    due_date: date | None = None,
    billing_group_id: str | None = None,
    status: PaymentStatus = PaymentStatus.PENDING,
    invoice_status: InvoiceStatus | None = None,
    amount_paid: int = 0,
    late_fee: int = 0,
    **payment_fields: Any,
) -> Billed:
    """The invoice and payment of ``members`` (one subscription, or the members of
    ``billing_group_id``) for the month from ``period_start``, due on ``due_date`` (the
    period's first day by default). A paid payment has a paid invoice, a cancelled one a
    void invoice, others an open one, unless ``invoice_status`` says otherwise.
    ``payment_fields`` override columns of the payment."""
    period_end = add_months(period_start, 1)
    async with database.transaction() as session:
        ids = [member["rentalId"] for member in members]
        found = await session.scalars(select(Subscription).where(Subscription.id.in_(ids)))
        by_id = {subscription.id: subscription for subscription in found}
        subscriptions = [by_id[rental_id] for rental_id in ids]
        first = subscriptions[0]
        tenant_id = first.tenant_id
        issued = await session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.tenant_id == tenant_id)
        )
        number = f"INV-{(issued or 0) + 1:06d}"
        owner = billing_group_id or first.id
        billing_key = f"{owner}:{period_start.isoformat()}"
        invoice_id = new_id("inv")
        lines = [
            _line(tenant_id, invoice_id, position, s, period_start, period_end)
            for position, s in enumerate(subscriptions, start=1)
        ]
        subtotal = sum(line.amount for line in lines)
        tax = sum(line.tax_amount for line in lines)
        total = subtotal + tax
        default_invoice_status = {
            PaymentStatus.PAID: InvoiceStatus.PAID,
            PaymentStatus.CANCELLED: InvoiceStatus.VOID,
        }.get(status, InvoiceStatus.OPEN)
        invoice_status = invoice_status or default_invoice_status
        now = clock.now()
        if invoice_status == InvoiceStatus.PAID and not amount_paid:
            amount_paid = total
        invoice = Invoice(
            tenant_id=tenant_id, id=invoice_id, number=number, billing_key=billing_key,
            status=invoice_status, customer_id=first.customer_id,
            subscription_id=None if billing_group_id else first.id,
            billing_group_id=billing_group_id, period_start=period_start, period_end=period_end,
            vat_rate=VAT_RATE, vat_mode="exclusive", subtotal=subtotal, tax_amount=tax,
            total=total, amount_paid=amount_paid, issued_at=now,
            due_date=due_date or period_start,
            paid_at=now if invoice_status == InvoiceStatus.PAID else None,
            voided_at=now if invoice_status == InvoiceStatus.VOID else None,
        )  # fmt: skip
        session.add(invoice)
        await session.flush()
        for line in lines:
            session.add(line)
        payment = Payment(
            tenant_id=tenant_id, id=new_id("pay"), status=status,
            payment_type=PaymentType.CONSOLIDATED if billing_group_id else PaymentType.INDIVIDUAL,
            customer_id=first.customer_id, rental_id=None if billing_group_id else first.id,
            billing_group_id=billing_group_id, invoice_id=invoice_id,
            billing_period=f"{period_start:%Y-%m}", period_start=period_start,
            amount=total + late_fee, original_amount=total, late_fee_applied=late_fee > 0,
            late_fee_amount=late_fee, due_date=due_date or period_start,
            paid_at=now if status == PaymentStatus.PAID else None,
            line_items=[
                {"rentalId": line.subscription_id, "description": line.description,
                 "amount": line.amount, "taxAmount": line.tax_amount}
                for line in lines
            ],
            idempotency_key=billing_key,
        )  # fmt: skip
        for name, value in payment_fields.items():
            setattr(payment, name, value)
        session.add(payment)
        await session.flush()
        return Billed(invoice_id=invoice_id, payment_id=payment.id, number=number, total=total)


async def one_billed(api: Api, database: Database, **fields: Any) -> tuple[dict[str, Any], Billed]:
    """A laptop subscription and its July 2025 invoice and payment."""
    (rental,) = await rentals(api)
    return rental, await bill(database, [rental], period_start=JULY, **fields)


async def payment_of(api: Api, payment_id: str) -> dict[str, Any]:
    """``GET /v1/payments/{id}``'s payment, amounts as ``Decimal``."""
    response = await api.get(f"/v1/payments/{payment_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = exact(response)
    assert set(body) == {"success", "payment"}
    assert body["success"] is True
    found: dict[str, Any] = body["payment"]
    return found


async def invoice_of(api: Api, invoice_id: str) -> dict[str, Any]:
    """``GET /v1/invoices/{id}``, amounts as ``Decimal``."""
    response = await api.get(f"/v1/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = exact(response)
    return found


async def counters(api: Api, rental_ids: Sequence[str], customer_id: str) -> list[Decimal]:
    """The subscriptions' ``totalCollected`` and the customer's ``lifetimeCollected``."""
    collected = [
        exact(await api.get(f"/v1/subscriptions/{rental_id}"))["totalCollected"]
        for rental_id in rental_ids
    ]
    customer = exact(await api.get(f"/v1/customers/{customer_id}"))
    return [*collected, customer["lifetimeCollected"]]


@dataclass(frozen=True)
class Ledger:
    """Four payments (``P1``–``P4``) and their invoices (``I1``–``I4``) of two customers,
    each created an hour after the one before from ``T0``:

    - 1: Ada's laptop, July, due 1 July, 71.39; marked paid a day after ``T0``
    - 2: the same laptop, August, due 1 August, 71.39; its attempt failed
    - 3: Ada's group of two laptops, July, due 15 July, 142.78; pending
    - 4: Bob's laptop, July, due 5 July, 71.39 + 10.00 late fee; cancelled two days after
    """

    ids: dict[str, str]  # P1–P4 and I1–I4
    customers: dict[str, str]  # ada, bob
    rental_ids: dict[str, str]  # a1 (Ada's own), a2 (in the group)
    group_id: str


async def ledger(api: Api, database: Database) -> Ledger:
    a1, a2, a3 = await rentals(api, 3)
    (b1,) = await rentals(api, email="bob@example.com", catalog=False)
    group_id = await group(api, [a2, a3])
    plan: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
        ([a1], {"period_start": JULY}),
        ([a1], {"period_start": date(2025, 8, 1), "status": PaymentStatus.FAILED}),
        ([a2, a3], {"period_start": JULY, "due_date": date(2025, 7, 15),
                    "billing_group_id": group_id}),
        ([b1], {"period_start": JULY, "due_date": date(2025, 7, 5), "late_fee": 1000}),
    ]  # fmt: skip
    ids = {}
    for number, (members, fields) in enumerate(plan, start=1):
        with clock.frozen(T0 + timedelta(hours=number - 1)):
            billed = await bill(database, members, **fields)
        ids[f"P{number}"], ids[f"I{number}"] = billed.payment_id, billed.invoice_id
    for days, operation, name in ((1, "mark-paid", "P1"), (2, "cancel", "P4")):
        with clock.frozen(T0 + timedelta(days=days)):
            response = await api.post(f"/v1/payments/{ids[name]}/{operation}", {"reason": "x"})
        assert response.status_code == 200, response.text
    return Ledger(
        ids=ids, customers={"ada": a1["customerId"], "bob": b1["customerId"]},
        rental_ids={"a1": a1["rentalId"], "a2": a2["rentalId"]}, group_id=group_id,
    )  # fmt: skip


async def listed(api: Api, path: str, ids: Mapping[str, str], **params: Any) -> list[str]:
    """The names (``P1``, ``I3``, …) a list answers with, checking its envelope."""
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    body = exact(response)
    key = path.rsplit("/", 1)[-1]
    envelope = {key, "count", "limit", "hasMore", "nextCursor"}
    assert set(body) == (envelope | {"success"} if key == "payments" else envelope)
    assert body["count"] == len(body[key])
    assert body["hasMore"] is (body["nextCursor"] is not None)
    names = {resource_id: name for name, resource_id in ids.items()}
    id_field = "paymentId" if key == "payments" else "invoiceId"
    return [names[item[id_field]] for item in body[key]]
