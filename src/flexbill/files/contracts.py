"""Contract PDFs for orders (``POST /v1/files/contracts/generate``).

The contract is drawn from the order as it was placed (customer, address, items and
prices are the order's copies) and from the business unit's settings as they stand
(company details and the terms: billing, payment, early return, buyout, contract end).
Each call stores a new document; earlier ones stay until deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.files.contract_pdf import ContractData, ContractItem, render_contract
from flexbill.files.errors import template_not_found
from flexbill.files.letterhead import customer_party, seller
from flexbill.files.models import FileCategory, FileType, StoredFile
from flexbill.files.pdf import format_money, format_percent
from flexbill.files.service import NewFile, store
from flexbill.files.sniffing import PDF
from flexbill.orders.repository import Orders
from flexbill.settings.rules import (
    BillingCycleType,
    BusinessSettings,
    BuyoutMethod,
    ContractEnd,
    EarlyReturnMethod,
    PaymentTerms,
    VatMode,
)
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

_PAYMENT = {
    PaymentTerms.DUE_IMMEDIATELY: "on receipt",
    PaymentTerms.NET_7: "within 7 days",
    PaymentTerms.NET_14: "within 14 days",
    PaymentTerms.NET_30: "within 30 days",
}
_CONTRACT_END = {
    ContractEnd.AUTO_RENEW_MONTHLY: "the rental continues from month to month until either "
    "party ends it",
    ContractEnd.AUTO_RENEW_SAME_TERM: "the rental renews for another term of the same length "
    "unless either party ends it",
    ContractEnd.REQUIRE_ACTION: "the parties agree on an extension, a buyout or the return of "
    "the device",
    ContractEnd.AUTO_TERMINATE: "the rental ends and the device is returned",
}


def _billing(settings: BusinessSettings) -> str:
    cycle = settings.billing_cycle
    if cycle.type is BillingCycleType.FIXED_DAY:
        when = f"on day {cycle.day_of_month} of each month"
    elif cycle.type is BillingCycleType.EVERY_30_DAYS:
        when = "every 30 days"
    else:
        when = "monthly on the day the rental started"
    return (
        f"The monthly amounts are invoiced {when}; each invoice is payable "
        f"{_PAYMENT[settings.payment_terms]}."
    )


def _early_return(settings: BusinessSettings, currency: str) -> str:
    rules = settings.early_return
    grace = (
        f" Returns within {rules.grace_period_days} days of the start are free of charge."
        if rules.grace_period_days
        else ""
    )
    if rules.method is EarlyReturnMethod.NO_FEE:
        fee = "without a fee"
    elif rules.method is EarlyReturnMethod.FLAT_FEE:
        fee = f"for a fee of {format_money(rules.flat_fee or 0, currency)}"
    else:
        share = format_percent(rules.fee_percentage)
        fee = f"for a fee of {share} of the monthly amounts remaining until the end of the term"
    return f"A device may be returned before the end of its term {fee}.{grace}"


def _buyout(settings: BusinessSettings, currency: str) -> str:
    rules = settings.buyout
    remaining = "the monthly amounts remaining until the end of the term"
    share = format_percent(rules.rrp_percentage or Decimal(0))
    if rules.method is BuyoutMethod.FLAT_FEE:
        price = f"a price of {format_money(rules.flat_fee or 0, currency)}"
    elif rules.method is BuyoutMethod.RRP_PERCENTAGE:
        price = f"{share} of its list price"
    elif rules.method is BuyoutMethod.REMAINING_MONTHS_PLUS_RRP:
        price = f"{remaining} plus {share} of its list price"
    else:
        price = remaining
    return f"The customer may buy a rented device at any time for {price}."


def rental_terms(settings: BusinessSettings, currency: str) -> tuple[str, ...]:
    """The terms of the standard rental agreement under ``settings``."""
    extensions = settings.extensions
    return (
        "Each device is rented for the number of months shown, from the day it is handed "
        "over to the customer. The devices remain the property of the lessor.",
        _billing(settings),
        "The customer keeps the devices with care, does not pass them on to third parties "
        "and reports loss, theft or damage without delay.",
        _early_return(settings, currency),
        _buyout(settings, currency),
        f"A rental may be extended up to {extensions.max_extensions} times. At the end of "
        f"the term {_CONTRACT_END[settings.contract_end]}.",
    )


@dataclass(frozen=True)
class Template:
    title: str
    terms: Callable[[BusinessSettings, str], tuple[str, ...]]


DEFAULT_TEMPLATE = "standard"
TEMPLATES: dict[str, Template] = {
    DEFAULT_TEMPLATE: Template(title="Rental agreement", terms=rental_terms),
}


async def generate_contract(
    session: AsyncSession, ctx: TenantContext, order_id: str, template_id: str | None = None
) -> StoredFile:
    """Render and store the contract of ``order_id`` with the named template (the
    ``standard`` rental agreement by default). Raises ``TEMPLATE_NOT_FOUND`` and
    ``ORDER_NOT_FOUND``."""
    name = template_id or DEFAULT_TEMPLATE
    template = TEMPLATES.get(name)
    if template is None:
        raise template_not_found(name, tuple(TEMPLATES))
    order = await Orders(session, ctx.tenant_id).get(order_id)
    settings = await get_settings(session, ctx)
    letterhead = await seller(session, ctx)
    customer = order.customer
    vat = settings.vat
    data = ContractData(
        title=template.title, seller=letterhead.party, seller_footer=letterhead.footer,
        customer=customer_party(
            customer.get("first_name", ""), customer.get("last_name", ""),
            company=customer.get("company"), email=customer.get("email"),
            phone=customer.get("phone"), address=order.billing_address,
        ),
        customer_name=f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip(),
        order_id=order.id, issue_date=clock.now().date(), currency=ctx.currency,
        items=tuple(
            ContractItem(
                sku=item.sku, name=f"{item.product_name} – {item.variant_name}",
                quantity=item.quantity, months=item.contract_length,
                monthly_price=item.unit_price, setup_fee=item.setup_fee,
            )
            for item in order.items
        ),
        subtotal=order.subtotal, tax_amount=order.tax_amount, total=order.total,
        vat_rate=vat.rate if vat.enabled else None,
        vat_inclusive=vat.mode is VatMode.INCLUSIVE, terms=template.terms(settings, ctx.currency),
        created=clock.now(),
    )  # fmt: skip
    document = NewFile(
        category=FileCategory.GENERATED, type=FileType.CONTRACT,
        filename=f"contract-{order.id}.pdf", content_type=PDF, data=render_contract(data),
        order_id=order.id, customer_id=order.customer_id, details={"template": name},
    )  # fmt: skip
    return await store(session, ctx.tenant_id, ctx.actor, document)
