"""A rental agreement for an order as a PDF: the business and the customer, each device
with its SKU, contract length and monthly price, the monthly totals with VAT, the terms
the business unit's settings give, and lines to sign. Pure: the data in, the bytes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flexbill.files.pdf import Party, Sheet, format_date, format_money, format_percent, strings_in


@dataclass(frozen=True)
class ContractItem:
    sku: str
    name: str  # product – variant
    quantity: int
    months: int
    monthly_price: int  # minor units, per device
    setup_fee: int  # minor units, per device, once


@dataclass(frozen=True)
class ContractData:
    title: str
    seller: Party
    seller_footer: str
    customer: Party
    customer_name: str
    order_id: str
    issue_date: date
    currency: str
    items: tuple[ContractItem, ...]
    subtotal: int  # monthly, minor units
    tax_amount: int
    total: int
    vat_rate: Decimal | None  # None: no VAT charged
    vat_inclusive: bool
    terms: tuple[str, ...]
    created: datetime


def render_contract(data: ContractData) -> bytes:
    money = data.currency
    sheet = Sheet(
        title=f"{data.title} {data.order_id}", author=data.seller.name, created=data.created,
        footer=data.seller_footer, texts=strings_in(data),
    )  # fmt: skip
    sheet.header(data.seller.name, data.title)
    sheet.gap(2)
    sheet.facts([("Order", data.order_id), ("Date", format_date(data.issue_date))], width=90)
    sheet.gap(6)
    sheet.parties(("Lessor", data.seller), ("Customer", data.customer))
    sheet.gap(8)
    sheet.line("Rented devices", size=11, bold=True)
    sheet.gap(1.5)
    sheet.table(
        ["SKU", "Device", "Qty", "Months", "Monthly price", "Monthly total"],
        [
            [
                item.sku,
                item.name,
                str(item.quantity),
                str(item.months),
                format_money(item.monthly_price, money),
                format_money(item.monthly_price * item.quantity, money),
            ]
            for item in data.items
        ],
        widths=(28, 62, 10, 14, 28, 28),
        align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    )
    sheet.gap(3)
    rows: list[tuple[str, str, bool]] = []
    if data.vat_rate is None:
        rows.append(("Monthly total", format_money(data.total, money), True))
    else:
        rate = format_percent(data.vat_rate)
        mode = "included" if data.vat_inclusive else "added"
        rows += [
            ("Monthly subtotal", format_money(data.subtotal, money), False),
            (f"VAT {rate} ({mode})", format_money(data.tax_amount, money), False),
            ("Monthly total", format_money(data.total, money), True),
        ]
    setup_fees = sum(item.setup_fee * item.quantity for item in data.items)
    if setup_fees:
        rows.append(("One-time setup fees", format_money(setup_fees, money), False))
    sheet.totals(rows)
    sheet.gap(8)
    sheet.line("Terms", size=11, bold=True)
    sheet.gap(1.5)
    for number, term in enumerate(data.terms, start=1):
        sheet.line(f"{number}. {term}")
        sheet.gap(1.2)
    sheet.signatures([("Lessor", data.seller.name), ("Customer", data.customer_name)])
    return sheet.output()
