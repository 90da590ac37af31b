"""An invoice as a PDF: the business's letterhead with its VAT id, the customer, number,
dates and billing period, a line per charge with net, VAT and gross, and the totals.
Pure: the data in, the bytes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flexbill.files.pdf import Party, Sheet, format_date, format_money, format_percent, strings_in


@dataclass(frozen=True)
class InvoiceLineData:
    quantity: int
    description: str
    net: int  # minor units
    vat: int
    gross: int


@dataclass(frozen=True)
class InvoiceData:
    seller: Party
    seller_footer: str  # name, VAT id, registration number in one line
    customer: Party
    number: str
    issue_date: date
    due_date: date
    period_start: date
    period_end: date  # exclusive, as invoices store it
    reference: str  # which subscription or billing group
    currency: str
    vat_rate: Decimal
    vat_mode: str  # exclusive | inclusive
    lines: tuple[InvoiceLineData, ...]
    subtotal: int
    tax_amount: int
    total: int
    amount_paid: int
    created: datetime


def _period(start: date, end: date) -> str:
    last_day = date.fromordinal(end.toordinal() - 1)
    return f"{format_date(start)} – {format_date(last_day)}"


def render_invoice(data: InvoiceData) -> bytes:
    money = data.currency
    sheet = Sheet(
        title=f"Invoice {data.number}", author=data.seller.name, created=data.created,
        footer=data.seller_footer, texts=strings_in(data),
    )  # fmt: skip
    sheet.header(data.seller.name, "Invoice")
    sheet.gap(2)
    sheet.facts(
        [
            ("Invoice number", data.number),
            ("Issue date", format_date(data.issue_date)),
            ("Due date", format_date(data.due_date)),
            ("Billing period", _period(data.period_start, data.period_end)),
            ("Reference", data.reference),
        ],
        width=125,
    )
    sheet.gap(6)
    sheet.parties(("From", data.seller), ("Bill to", data.customer))
    sheet.gap(8)
    rate = format_percent(data.vat_rate)
    sheet.table(
        ["Qty", "Description", "Net", f"VAT {rate}", "Gross"],
        [
            [
                str(line.quantity),
                line.description,
                format_money(line.net, money),
                format_money(line.vat, money),
                format_money(line.gross, money),
            ]
            for line in data.lines
        ],
        widths=(9, 91, 24, 24, 24),
        align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
    )
    sheet.gap(3)
    mode = "included" if data.vat_mode == "inclusive" else "added"
    rows = [
        ("Net total", format_money(data.subtotal, money), False),
        (f"VAT {rate} ({mode})", format_money(data.tax_amount, money), False),
        ("Total", format_money(data.total, money), True),
    ]
    if data.amount_paid:
        due = max(data.total - data.amount_paid, 0)
        rows += [
            ("Paid", format_money(data.amount_paid, money), False),
            ("Amount due", format_money(due, money), True),
        ]
    sheet.totals(rows)
    sheet.gap(8)
    due = max(data.total - data.amount_paid, 0)
    if due == 0:
        sheet.line("This invoice is paid. Thank you.")
    elif data.due_date <= data.issue_date:
        sheet.line(f"Please pay {format_money(due, money)} now; it is due on receipt.")
    else:
        sheet.line(
            f"Please pay {format_money(due, money)} by {format_date(data.due_date)}, "
            f"quoting invoice number {data.number}."
        )
    if data.vat_mode == "inclusive":
        sheet.line(f"Prices include {rate} VAT.", grey=True)
    return sheet.output()
