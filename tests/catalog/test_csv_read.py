"""Reading a product CSV into rows and row errors (pure: no database)."""

from __future__ import annotations

import pytest

from flexbill.catalog.csv_import import MAX_CSV_BYTES, MAX_CSV_ROWS, read_products_csv
from flexbill.catalog.errors import InvalidCsv
from flexbill.catalog.models import Grade

HEADER = (
    "Product Name,Product SKU,Category,Brand,Specification,Grade,Color,Variant SKU,"
    "List Price,Acquisition Cost,6mo_Price,12mo_Price,24mo_Price,36mo_Price"
)
ROW = "iPhone 15,IPH-15,Phones,Apple,128 GB,B,Black,IPH-15-BLK,999.00,700,59.99,49.99,,29.99"


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


def test_a_row_becomes_product_fields_and_a_variant() -> None:
    catalog = read_products_csv(_csv(ROW), "EUR")
    assert catalog.errors == []
    [row] = catalog.rows
    assert row.row == 2
    assert (row.product.sku, row.product.name, row.product.category) == (
        "IPH-15",
        "iPhone 15",
        "Phones",
    )
    assert (row.product.brand, row.product.specification) == ("Apple", "128 GB")
    variant = row.variant
    assert (variant.sku, variant.name, variant.grade, variant.color_name) == (
        "IPH-15-BLK",
        "Black",
        Grade.B,
        "Black",
    )
    assert (variant.list_price, variant.acquisition_cost) == (99900, 70000)
    # the empty 24-month cell means 24 months is not offered
    assert [(p.contract_length, p.monthly_price) for p in variant.prices] == [
        (6, 5999),
        (12, 4999),
        (36, 2999),
    ]


def test_defaults_grade_a_and_names_the_variant_by_sku_without_color() -> None:
    line = "iPhone 15,IPH-15,Phones,Apple,128 GB,,,IPH-15-X,,,,49.99,,"
    [row] = read_products_csv(_csv(line), "EUR").rows
    assert (row.variant.grade, row.variant.name, row.variant.color_name) == (
        Grade.A,
        "IPH-15-X",
        None,
    )
    assert (row.variant.list_price, row.variant.acquisition_cost) == (None, None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (",IPH-15,Phones,Apple,128 GB,A,Black,V1,,,,49.99,,", "Product Name is required"),
        ("iPhone,IPH-15,Phones,Apple,128 GB,A,Black,,,,,49.99,,", "Variant SKU is required"),
        ("iPhone,IPH-15,Phones,Apple,128 GB,F,Black,V1,,,,49.99,,", "Grade must be one of"),
        ("iPhone,IPH-15,Phones,Apple,128 GB,A,Black,V1,,,,,,", "At least one price is required"),
        ("iPhone,IPH-15,Phones,Apple,128 GB,A,Black,V1,,,,49.999,,", "12mo_Price: EUR amounts"),
        (
            "iPhone,IPH-15,Phones,Apple,128 GB,A,Black,V1,,,,0,,",
            "12mo_Price: must be greater than 0",
        ),
        (
            "iPhone,IPH-15,Phones,Apple,128 GB,A,Black,V1,abc,,,49.99,,",
            "List Price: 'abc' is not a number",
        ),
        (
            "iPhone,IPH-15,Phones,Apple,128 GB,A,Black,V1,,-5,,49.99,,",
            "Acquisition Cost: must not be negative",
        ),
    ],
)
def test_row_problems_are_reported_with_the_row_number(line: str, message: str) -> None:
    catalog = read_products_csv(_csv(ROW, line), "EUR")
    assert [row.row for row in catalog.rows] == [2]
    [error] = catalog.errors
    assert error.row == 3
    assert message in error.error


def test_blank_lines_are_skipped_but_keep_their_row_number() -> None:
    catalog = read_products_csv(_csv(ROW, "", ROW.replace("IPH-15-BLK", "IPH-15-WHT")), "EUR")
    assert [row.row for row in catalog.rows] == [2, 4]


def test_header_names_ignore_case_spaces_and_column_order() -> None:
    header = " variant sku ,PRODUCT SKU,product name,category,brand,specification,12MO_PRICE"
    catalog = read_products_csv(_csv("V1,P1,Phone,Phones,Acme,spec,10", header=header), "EUR")
    [row] = catalog.rows
    assert (row.variant.sku, row.product.sku, row.variant.prices[0].monthly_price) == (
        "V1",
        "P1",
        1000,
    )


def test_semicolon_separated_files_are_read() -> None:
    data = _csv(ROW.replace(",", ";"), header=HEADER.replace(",", ";"))
    [row] = read_products_csv(data, "EUR").rows
    assert row.variant.sku == "IPH-15-BLK"


def test_a_utf8_byte_order_mark_is_ignored() -> None:
    [row] = read_products_csv(b"\xef\xbb\xbf" + _csv(ROW), "EUR").rows
    assert row.product.name == "iPhone 15"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no header"),
        (b"\n\n", "no header"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"Product Name\x00,Product SKU", "not CSV text"),
        (
            b"Product Name,Product SKU,Category,Brand,Specification,12mo_Price\n",
            "Variant SKU",
        ),
        (
            HEADER.replace(",6mo_Price,12mo_Price,24mo_Price,36mo_Price", "").encode(),
            "No price column",
        ),
        ((HEADER + ",Color").encode(), "appears more than once"),
        ((HEADER + ",200mo_Price").encode(), "contract lengths are 1 to 120"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(InvalidCsv) as raised:
        read_products_csv(data, "EUR")
    assert raised.value.code == "INVALID_CSV"
    assert message in raised.value.message


def test_size_and_row_limits() -> None:
    at_limit = _csv(*[ROW.replace("IPH-15-BLK", f"V{i}") for i in range(MAX_CSV_ROWS)])
    assert len(read_products_csv(at_limit, "EUR").rows) == MAX_CSV_ROWS
    with pytest.raises(InvalidCsv, match="more than 10,000 rows"):
        read_products_csv(at_limit + b"\n" + ROW.encode(), "EUR")
    with pytest.raises(InvalidCsv, match="larger than 10 MB"):
        read_products_csv(_csv(ROW) + b" " * MAX_CSV_BYTES, "EUR")
