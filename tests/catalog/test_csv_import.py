"""``POST /v1/products/csv``: the product import, uploaded as FlexPortal's docs describe."""

from __future__ import annotations

from typing import Any

import httpx

from flexbill.catalog.csv_import import MAX_CSV_ROWS
from flexbill.core.db import Database
from tests.catalog.support import all_products, create_product, product, upload_csv, variant
from tests.support import Api, Tenant, error_code, issue_key

HEADER = (
    "Product Name,Product SKU,Category,Brand,Specification,Grade,Color,Variant SKU,"
    "List Price,Acquisition Cost,6mo_Price,12mo_Price,24mo_Price,36mo_Price"
)
ROWS = [
    "iPhone 15,IPH-15,Phones,Apple,128 GB,A,Black,IPH-15-BLK,999.00,700,59.99,49.99,39.99,29.99",
    "iPhone 15,IPH-15,Phones,Apple,128 GB,B,White,IPH-15-WHT,999.00,650,,44.99,,",
    "ThinkPad X1,TP-X1,Laptops,Lenovo,14-inch,,,TP-X1-16G,1899,,,89.00,79.00,",
]


def _csv(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def _variants(products: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["variantSku"]: v for p in products for v in p["variants"]}


async def test_import_creates_products_with_their_variants(api: Api) -> None:
    response = await upload_csv(api, _csv(*ROWS))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["success"], body["created"], body["updated"], body["errors"]) == (True, 3, 0, [])
    assert body["message"]
    products = {p["productSku"]: p for p in await all_products(api)}
    assert set(products) == {"IPH-15", "TP-X1"}
    phone = products["IPH-15"]
    assert (phone["name"], phone["category"], phone["brand"], phone["specification"]) == (
        "iPhone 15",
        "Phones",
        "Apple",
        "128 GB",
    )
    variants = _variants(list(products.values()))
    white = variants["IPH-15-WHT"]
    assert (white["grade"], white["variantName"], white["colorName"]) == ("B", "White", "White")
    assert (white["listPrice"], white["acquisitionCost"]) == (999, 650)
    assert [(p["contractLength"], p["monthlyPrice"]) for p in white["pricing"]] == [(12, 44.99)]
    laptop = variants["TP-X1-16G"]
    assert (laptop["grade"], laptop["variantName"], laptop["acquisitionCost"]) == ("A", "TP-X1-16G", None)  # fmt: skip
    assert [p["contractLength"] for p in laptop["pricing"]] == [12, 24]


async def test_reimport_updates_and_replaces_prices(api: Api) -> None:
    assert (await upload_csv(api, _csv(*ROWS))).json()["created"] == 3
    changed = ROWS[1].replace(",,44.99,,", ",,42.50,,19.99")
    response = await upload_csv(api, _csv(ROWS[0], changed, ROWS[2]))
    body = response.json()
    assert (response.status_code, body["created"], body["updated"], body["errors"]) == (
        201,
        0,
        3,
        [],
    )
    products = await all_products(api)
    assert len(products) == 2
    white = _variants(products)["IPH-15-WHT"]
    assert [(p["contractLength"], p["monthlyPrice"]) for p in white["pricing"]] == [
        (12, 42.5),
        (36, 19.99),
    ]


async def test_invalid_rows_are_reported_and_valid_rows_applied(api: Api) -> None:
    await create_product(api, product("OTHER", variant("TAKEN")))
    rows = [
        ROWS[0],
        "iPhone 15,IPH-15,Phones,Apple,128 GB,Z,Red,IPH-15-RED,,,,49.99,,",  # row 3: grade
        ROWS[2],
        "Phone,IPH-16,Phones,Apple,spec,A,,IPH-15-BLK,,,,10,,",  # row 5: SKU in row 2
        "Phone,IPH-16,Phones,Apple,spec,A,,TAKEN,,,,10,,",  # row 6: another product's SKU
        "Phone,IPH-16,Phones,Apple,spec,A,,NO-PRICE,,,,,,",  # row 7: no price
        "Phone,IPH-16,Phones,Apple,spec,A,,CHEAP,,,,0.001,,",  # row 8: too many decimals
    ]
    response = await upload_csv(api, _csv(*rows))
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["updated"]) == (2, 0)
    assert [error["row"] for error in body["errors"]] == [3, 5, 6, 7, 8]
    messages = {error["row"]: error["error"] for error in body["errors"]}
    assert "Grade" in messages[3]
    assert "row 2" in messages[5]
    assert "another product" in messages[6]
    assert "price" in messages[7]
    assert "12mo_Price" in messages[8]
    skus = sorted(p["productSku"] for p in await all_products(api))
    assert skus == ["IPH-15", "OTHER", "TP-X1"]  # IPH-16 had no valid row


async def test_unreadable_files_change_nothing(api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    missing_column = b"Product Name,Product SKU,Category,Brand,12mo_Price\nA,B,C,D,10"
    too_many_rows = _csv(*[ROWS[0].replace("IPH-15-BLK", f"V{i}") for i in range(MAX_CSV_ROWS + 1)])
    for data in (png, missing_column, b"", too_many_rows):
        response = await upload_csv(api, data)
        assert response.status_code == 400, response.text
        assert error_code(response) == "INVALID_CSV"
    assert await all_products(api) == []


async def test_the_file_goes_in_the_csvFile_field(api: Api) -> None:  # noqa: N802
    response = await upload_csv(api, _csv(*ROWS), field="file")
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert [d["path"] for d in response.json()["error"]["details"]] == ["csvFile"]


async def test_import_needs_products_write(api: Api, database: Database, tenant: Tenant) -> None:
    reader = api.with_key(await issue_key(database, tenant, permissions=["products:read"]))
    response = await upload_csv(reader, _csv(*ROWS))
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    assert await all_products(api) == []


async def test_a_retried_upload_with_its_idempotency_key_is_answered_again(api: Api) -> None:
    """The same file sent again under the same ``Idempotency-Key`` (a client's retry, with
    a new multipart boundary) gets the first answer back and imports nothing twice; another
    file under that key is refused."""
    headers = {k: v for k, v in api.headers.items() if k != "Content-Type"}

    async def send(data: bytes, boundary: str) -> httpx.Response:
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csvFile"; '
                f'filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return await api.client.post(
            "/v1/products/csv", content=body,
            headers={
                **headers, "Idempotency-Key": "import-1",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )  # fmt: skip

    first = await send(_csv(*ROWS), "first-boundary")
    assert first.status_code == 201, first.text
    again = await send(_csv(*ROWS), "another-boundary")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await all_products(api)) == 2
    other = await send(_csv(ROWS[0]), "third-boundary")
    assert other.status_code == 409, other.text
