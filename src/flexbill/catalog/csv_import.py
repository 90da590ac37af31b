"""Bulk upsert of products from a CSV file (FlexPortal's product import).

One row is one variant; rows sharing a ``Product SKU`` are variants of one product, whose
own fields come from the first accepted row of that product. Columns (header names are
matched without regard to case or surrounding spaces; unknown columns are ignored):

- required: ``Product Name, Product SKU, Category, Brand, Specification, Variant SKU``
- optional: ``Grade`` (A–E, default A), ``Color`` (also the variant name; without it the
  name is the variant SKU), ``List Price``, ``Acquisition Cost``
- prices: ``<n>mo_Price`` for a contract of n months (1–120), usually ``6mo_Price,
  12mo_Price, 24mo_Price, 36mo_Price``; at least one such column, and at least one price
  per row. An empty price cell means that contract length is not offered: the variant's
  price list becomes exactly the prices of its row.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is
row 2. Invalid rows are reported and skipped; valid rows are applied. A file that cannot be
read as a whole (not UTF-8 text, no header, a required column missing, over 10 MB or over
10,000 data rows) is refused with ``INVALID_CSV`` and nothing is written.

Like the JSON upsert, an import only creates, updates and (re)activates variants; variants
a file does not name are left as they are, so no row can take a variant out of use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog import models
from flexbill.catalog.errors import InvalidCsv, duplicate_sku
from flexbill.catalog.models import Grade
from flexbill.catalog.pricing import (
    MAX_CONTRACT_MONTHS,
    MIN_CONTRACT_MONTHS,
    PriceTerms,
    PricingCheck,
)
from flexbill.catalog.repository import Products, Variants
from flexbill.catalog.upsert import (
    ProductFields,
    VariantPlan,
    apply_variants,
    new_product,
    set_product_fields,
)
from flexbill.core import clock
from flexbill.tenancy.context import TenantContext

MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_CSV_ROWS = 10_000

PRODUCT_NAME, PRODUCT_SKU, CATEGORY, BRAND = "Product Name", "Product SKU", "Category", "Brand"
SPECIFICATION, VARIANT_SKU = "Specification", "Variant SKU"
GRADE, COLOR, LIST_PRICE, ACQUISITION_COST = "Grade", "Color", "List Price", "Acquisition Cost"
REQUIRED_COLUMNS = (PRODUCT_NAME, PRODUCT_SKU, CATEGORY, BRAND, SPECIFICATION, VARIANT_SKU)
OPTIONAL_COLUMNS = (GRADE, COLOR, LIST_PRICE, ACQUISITION_COST)
_PRICE_COLUMN = re.compile(r"^(\d{1,3})mo_price$")
_DELIMITERS = (",", ";", "\t")

_MAX_LENGTHS = {
    PRODUCT_NAME: models.MAX_NAME_LENGTH,
    PRODUCT_SKU: models.MAX_SKU_LENGTH,
    CATEGORY: models.MAX_LABEL_LENGTH,
    BRAND: models.MAX_LABEL_LENGTH,
    SPECIFICATION: models.MAX_SPECIFICATION_LENGTH,
    VARIANT_SKU: models.MAX_SKU_LENGTH,
    COLOR: models.MAX_LABEL_LENGTH,
}


@dataclass(frozen=True)
class RowError:
    row: int
    error: str


@dataclass(frozen=True)
class CsvRow:
    row: int
    product: ProductFields
    variant: VariantPlan


@dataclass(frozen=True)
class CsvCatalog:
    rows: list[CsvRow]
    errors: list[RowError]


@dataclass(frozen=True)
class ImportReport:
    created: int  # variants created
    updated: int  # variants updated
    errors: list[RowError]


@dataclass(frozen=True)
class _Header:
    positions: dict[str, int]  # column name → cell index
    prices: list[tuple[str, int, int]]  # (column name as written, months, cell index)


def _decode(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise InvalidCsv(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCsv("The file is not UTF-8 encoded CSV text") from None
    if "\x00" in text:
        raise InvalidCsv("The file is not CSV text")
    return text


def _delimiter(text: str) -> str:
    # Spreadsheets in many locales export ';'-separated files: take the separator that
    # splits the header into the most known column names.
    first_line = text.split("\n", 1)[0].lower()
    known = [name.lower() for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]

    def recognized(delimiter: str) -> int:
        return sum(cell.strip().strip('"') in known for cell in first_line.split(delimiter))

    return max(_DELIMITERS, key=recognized)


def _header(cells: Sequence[str]) -> _Header:
    positions: dict[str, int] = {}
    prices: list[tuple[str, int, int]] = []
    lowered = {name.lower(): name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    for index, cell in enumerate(cells):
        name = cell.strip()
        key = name.lower()
        if key in lowered:
            if lowered[key] in positions:
                raise InvalidCsv(f"The column '{lowered[key]}' appears more than once")
            positions[lowered[key]] = index
        elif match := _PRICE_COLUMN.match(key):
            months = int(match.group(1))
            if not MIN_CONTRACT_MONTHS <= months <= MAX_CONTRACT_MONTHS:
                raise InvalidCsv(
                    f"'{name}': contract lengths are {MIN_CONTRACT_MONTHS} to "
                    f"{MAX_CONTRACT_MONTHS} months"
                )
            if any(months == seen for _, seen, _ in prices):
                raise InvalidCsv(f"The price column for {months} months appears more than once")
            prices.append((name, months, index))
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise InvalidCsv(f"Missing required columns: {', '.join(missing)}")
    if not prices:
        raise InvalidCsv("No price column: add at least one of 6mo_Price, 12mo_Price, …")
    prices.sort(key=lambda price: price[1])
    return _Header(positions=positions, prices=prices)


class _RowReader:
    """Reads one data row into product fields and a variant plan, collecting its problems."""

    def __init__(self, header: _Header, cells: Sequence[str], currency: str) -> None:
        self.header = header
        self.cells = cells
        self.check = PricingCheck(currency)
        self.problems: list[str] = []

    def text(self, column: str) -> str:
        index = self.header.positions.get(column)
        value = self.cells[index].strip() if index is not None and index < len(self.cells) else ""
        limit = _MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            self.problems.append(f"{column} is longer than {limit} characters")
        return value

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            self.problems.append(f"{column} is required")
        return value

    def amount(self, column: str, value: str, *, positive: bool = False) -> int | None:
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.problems.append(f"{column}: '{value}' is not a number")
            return None
        return self.check.amount(number, column, positive=positive)

    def grade(self) -> Grade:
        value = self.text(GRADE).upper() or Grade.A
        if value not in tuple(Grade):
            self.problems.append(f"Grade must be one of A, B, C, D, E, not '{value}'")
            return Grade.A
        return Grade(value)

    def read(self) -> tuple[ProductFields, VariantPlan]:
        product = ProductFields(
            sku=self.required(PRODUCT_SKU), name=self.required(PRODUCT_NAME),
            specification=self.required(SPECIFICATION), category=self.required(CATEGORY),
            brand=self.required(BRAND),
        )  # fmt: skip
        sku, color = self.required(VARIANT_SKU), self.text(COLOR)
        grade = self.grade()
        list_price = self.amount(LIST_PRICE, self.text(LIST_PRICE))
        acquisition_cost = self.amount(ACQUISITION_COST, self.text(ACQUISITION_COST))
        prices = []
        for column, months, index in self.header.prices:
            cell = self.cells[index].strip() if index < len(self.cells) else ""
            monthly = self.amount(column, cell, positive=True)
            if monthly is not None:
                prices.append(PriceTerms(contract_length=months, monthly_price=monthly))
        if not prices:
            names = ", ".join(column for column, _, _ in self.header.prices)
            self.problems.append(f"At least one price is required ({names})")
        self.problems.extend(f"{p.path}: {p.message}" for p in self.check.problems)
        variant = VariantPlan(
            sku=sku, name=color or sku, grade=grade, prices=tuple(prices),
            color_name=color or None, list_price=list_price, acquisition_cost=acquisition_cost,
        )  # fmt: skip
        return product, variant


def read_products_csv(data: bytes, currency: str) -> CsvCatalog:
    """Parse a product CSV (no I/O): the valid rows and the errors of the others.

    Raises ``InvalidCsv`` when the file as a whole is unusable.
    """
    text = _decode(data)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        first = next(records, None)
        if first is None or not any(cell.strip() for cell in first):
            raise InvalidCsv("The file has no header row")
        header = _header(first)
        rows: list[CsvRow] = []
        errors: list[RowError] = []
        data_rows = 0
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are not rows of data, but keep their number
            data_rows += 1
            if data_rows > MAX_CSV_ROWS:
                raise InvalidCsv(f"The file has more than {MAX_CSV_ROWS:,} rows")
            reader = _RowReader(header, cells, currency)
            product, variant = reader.read()
            if reader.problems:
                errors.append(RowError(row=number, error="; ".join(reader.problems)))
            else:
                rows.append(CsvRow(row=number, product=product, variant=variant))
    except csv.Error as error:
        raise InvalidCsv(f"The file is not valid CSV: {error}") from None
    return CsvCatalog(rows=rows, errors=errors)


def _by_product(catalog: CsvCatalog) -> tuple[dict[str, list[CsvRow]], list[RowError]]:
    """Rows grouped by productSku; a variant SKU repeated in the file is an error."""
    groups: dict[str, list[CsvRow]] = {}
    first_row: dict[str, int] = {}
    errors: list[RowError] = []
    for row in catalog.rows:
        sku = row.variant.sku
        if sku in first_row:
            errors.append(
                RowError(row.row, f"Variant SKU '{sku}' already appears in row {first_row[sku]}")
            )
            continue
        first_row[sku] = row.row
        groups.setdefault(row.product.sku, []).append(row)
    return groups, errors


async def import_products_csv(
    session: AsyncSession, ctx: TenantContext, data: bytes
) -> ImportReport:
    """Upsert the products and variants of a CSV file (see the module's description)."""
    catalog = read_products_csv(data, ctx.currency)
    groups, errors = _by_product(catalog)
    errors.extend(catalog.errors)
    products = await Products(session, ctx.tenant_id).by_skus(list(groups), for_update=True)
    owners = await Variants(session, ctx.tenant_id).owners(
        [row.variant.sku for rows in groups.values() for row in rows]
    )
    created = updated = 0
    now = clock.now()
    for sku, rows in groups.items():
        product = products.get(sku)
        accepted = []
        for row in rows:
            owner = owners.get(row.variant.sku)
            if owner is not None and (product is None or owner != product.id):
                errors.append(
                    RowError(row.row, f"Variant SKU '{row.variant.sku}' belongs to another product")
                )
            else:
                accepted.append(row)
        if not accepted:
            continue
        if product is None:
            product = new_product(ctx, accepted[0].product)
            session.add(product)
        else:
            set_product_fields(product, accepted[0].product)
            product.updated_at = now
        for outcome in apply_variants(product, [row.variant for row in accepted]):
            created += outcome.created
            updated += not outcome.created
    try:
        await session.flush()
    except IntegrityError:
        raise duplicate_sku("A product or variant SKU was taken by a concurrent request") from None
    errors.sort(key=lambda error: error.row)
    return ImportReport(created=created, updated=updated, errors=errors)
