"""``POST /v1/exports/rentals``: the CSV a client gets back, parsed with the csv module."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.subscriptions import export
from flexbill.subscriptions.models import Subscription
from tests.subscriptions.support import (
    LAPTOP,
    PHONE,
    confirmed_order,
    exact,
    register,
    subscribe,
)
from tests.support import Api, Tenant, error_code, issue_key

ALWAYS = [
    "Rental ID", "Status", "Customer ID", "Order ID", "Start Date", "End Date",
    "Contract Length", "Created At",
]  # fmt: skip
CUSTOMER = ["Customer Email", "Customer Name", "Company"]
DEVICE = ["SKU", "Product Name", "Variant Name", "Serial Number"]
FINANCIAL = ["Monthly Amount", "Currency", "Total Collected", "Acquisition Cost", "List Price"]

ADA = {
    "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
    "company": "Analytical Engines", "customerType": "business",
}  # fmt: skip
BOB = {"email": "bob@example.com", "firstName": "Bob", "lastName": "Byte"}
TOTALS = ("totalRecords", "totalRentals", "activeRentals", "totalRevenue", "averageMonthlyRevenue")


async def exported(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.post("/v1/exports/rentals", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def table(answer: dict[str, Any]) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of ``csvData``, each row keyed by its column title."""
    header, *rows = list(csv.reader(io.StringIO(answer["csvData"], newline="")))
    assert all(len(row) == len(header) for row in rows)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


async def rentals(
    api: Api,
    serials_and_fields: list[tuple[str, str, dict[str, Any]]],
    customer: dict[str, Any],
    *,
    catalog: bool = True,
) -> list[dict[str, Any]]:
    """One confirmed order of ``customer`` and a subscription per (serial, sku, fields);
    ``catalog`` creates the catalog first (once per test)."""
    quantities: dict[str, int] = {}
    for _serial, sku, _fields in serials_and_fields:
        quantities[sku] = quantities.get(sku, 0) + 1
    items = [{"sku": sku, "quantity": n, "contractLength": 12} for sku, n in quantities.items()]
    order = await confirmed_order(
        api, catalog=catalog, email=customer["email"], customer=customer, items=items
    )
    started = []
    for serial, sku, fields in serials_and_fields:
        await register(api, serial, sku)
        started.append(await subscribe(api, order, serial, **fields))
    return started


async def test_full_export_writes_every_column_oldest_first(api: Api) -> None:
    laptop, phone = await rentals(
        api,
        [
            ("SN-L1", LAPTOP, {"startDate": "2025-02-01", "customFields": {"costCenter": "CC-7"}}),
            ("SN-P1", PHONE, {"startDate": "2025-03-01", "customFields": {"asset": 42}}),
        ],
        ADA,
    )
    with clock.frozen(datetime(2025, 6, 20, 9, 30, tzinfo=UTC)):
        answer = await exported(api)
    assert answer["success"] is True
    assert (answer["filename"], answer["format"]) == ("rentals-export-2025-06-20.csv", "csv")
    assert answer["generatedAt"] == "2025-06-20T09:30:00Z"
    assert answer["totalRecords"] == 2
    assert (answer["totalRentals"], answer["activeRentals"]) == (2, 2)
    assert answer["currency"] == "EUR"
    assert answer["filters"] == {
        "startDate": None, "endDate": None, "status": None, "customerIds": None,
    }  # fmt: skip
    assert answer["csvData"].endswith("\r\n")
    header, rows = table(answer)
    assert header == [
        *ALWAYS,
        *CUSTOMER,
        *DEVICE,
        *FINANCIAL,
        "Custom: asset",
        "Custom: costCenter",
    ]
    assert [row["Rental ID"] for row in rows] == [laptop["rentalId"], phone["rentalId"]]
    first = rows[0]
    assert first == {
        "Rental ID": laptop["rentalId"], "Status": "active",
        "Customer ID": laptop["customerId"], "Order ID": laptop["orderId"],
        "Start Date": "2025-02-01", "End Date": "2026-02-01", "Contract Length": "12",
        "Created At": first["Created At"], "Customer Email": "ada@example.com",
        "Customer Name": "Ada Lovelace", "Company": "Analytical Engines", "SKU": LAPTOP,
        "Product Name": "Laptop Pro 16", "Variant Name": "Space grey, grade A",
        "Serial Number": "SN-L1", "Monthly Amount": "59.99", "Currency": "EUR",
        "Total Collected": "0.00", "Acquisition Cost": "1200.50", "List Price": "1999.00",
        "Custom: asset": "", "Custom: costCenter": "CC-7",
    }  # fmt: skip
    assert datetime.fromisoformat(first["Created At"]).tzinfo is not None
    second = rows[1]
    assert (second["SKU"], second["Monthly Amount"], second["Acquisition Cost"]) == (
        PHONE, "19.99", "",
    )  # fmt: skip
    assert (second["List Price"], second["Custom: asset"]) == ("", "42")


@pytest.mark.parametrize(
    ("switch", "left_out"),
    [
        ("customerDetails", CUSTOMER),
        ("deviceDetails", DEVICE),
        ("financialDetails", FINANCIAL),
        ("customFields", ["Custom: costCenter"]),
    ],
)
async def test_each_include_switch_leaves_its_columns_out(
    api: Api, switch: str, left_out: list[str]
) -> None:
    await rentals(api, [("SN-L1", LAPTOP, {"customFields": {"costCenter": "CC-7"}})], ADA)
    everything = [*ALWAYS, *CUSTOMER, *DEVICE, *FINANCIAL, "Custom: costCenter"]
    header, rows = table(await exported(api, {"includeFields": {switch: False}}))
    assert header == [title for title in everything if title not in left_out]
    assert len(rows) == 1
    assert rows[0]["Status"] == "active"


async def test_only_the_always_columns_when_everything_is_off(api: Api) -> None:
    await rentals(api, [("SN-L1", LAPTOP, {"customFields": {"costCenter": "CC-7"}})], ADA)
    switches = ["customerDetails", "deviceDetails", "financialDetails", "customFields"]
    header, rows = table(await exported(api, {"includeFields": dict.fromkeys(switches, False)}))
    assert header == ALWAYS
    assert rows[0]["Contract Length"] == "12"


async def test_filters_by_start_date_range_status_and_customer(
    api: Api, database: Database
) -> None:
    january, march, may = await rentals(
        api,
        [
            ("SN-1", LAPTOP, {"startDate": "2025-01-31"}),
            ("SN-2", LAPTOP, {"startDate": "2025-03-01"}),
            ("SN-3", PHONE, {"startDate": "2025-05-31"}),
        ],
        ADA,
    )
    (bobs,) = await rentals(
        api, [("SN-4", LAPTOP, {"startDate": "2025-03-15"})], BOB, catalog=False
    )
    async with database.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == march["rentalId"])
            .values(status="ended", end_reason="buyout")
        )

    def ids(answer: dict[str, Any]) -> list[str]:
        return [row["Rental ID"] for row in table(answer)[1]]

    in_range = await exported(api, {"startDate": "2025-03-01", "endDate": "2025-05-31"})
    assert ids(in_range) == [march["rentalId"], may["rentalId"], bobs["rentalId"]]
    assert in_range["totalRecords"] == 3
    assert in_range["filters"]["startDate"] == "2025-03-01"
    assert in_range["filters"]["endDate"] == "2025-05-31"
    assert ids(await exported(api, {"endDate": "2025-01-31"})) == [january["rentalId"]]
    bought_out = await exported(api, {"status": "ended_buyout"})
    assert ids(bought_out) == [march["rentalId"]]
    assert table(bought_out)[1][0]["Status"] == "ended_buyout"
    assert ids(await exported(api, {"status": "active", "startDate": "2025-02-01"})) == [
        may["rentalId"], bobs["rentalId"],
    ]  # fmt: skip
    of_bob = await exported(api, {"customerIds": [bobs["customerId"]]})
    assert ids(of_bob) == [bobs["rentalId"]]
    assert of_bob["filters"]["customerIds"] == [bobs["customerId"]]
    assert table(of_bob)[1][0]["Customer Name"] == "Bob Byte"


async def test_the_documented_prose_filters_are_honoured(api: Api) -> None:
    (ada,) = await rentals(api, [("SN-1", LAPTOP, {"startDate": "2025-01-31"})], ADA)
    (bob,) = await rentals(api, [("SN-2", LAPTOP, {"startDate": "2025-03-15"})], BOB, catalog=False)

    def ids(answer: dict[str, Any]) -> list[str]:
        return [row["Rental ID"] for row in table(answer)[1]]

    # The "Customer Data Export" example: one customer's data, no one else's.
    of_ada = await exported(api, {"customerId": ada["customerId"]})
    assert ids(of_ada) == [ada["rentalId"]]
    assert of_ada["filters"]["customerIds"] == [ada["customerId"]]
    both = await exported(
        api, {"customerId": ada["customerId"], "customerIds": [bob["customerId"]]}
    )
    assert ids(both) == [ada["rentalId"], bob["rentalId"]]
    # The "Export by Date Range" example.
    in_march = await exported(api, {"startDateFrom": "2025-03-01", "startDateTo": "2025-03-31"})
    assert ids(in_march) == [bob["rentalId"]]
    assert (in_march["filters"]["startDate"], in_march["filters"]["endDate"]) == (
        "2025-03-01", "2025-03-31",
    )  # fmt: skip
    same = await exported(api, {"startDate": "2025-03-01", "startDateFrom": "2025-03-01"})
    assert ids(same) == [bob["rentalId"]]


async def test_dates_may_be_the_documented_date_times(api: Api) -> None:
    january, march = await rentals(
        api,
        [
            ("SN-1", LAPTOP, {"startDate": "2025-01-31"}),
            ("SN-2", LAPTOP, {"startDate": "2025-03-31"}),
        ],
        ADA,
    )
    answer = await exported(
        api, {"startDate": "2025-01-01T00:00:00.000Z", "endDate": "2025-03-31T23:59:59.999Z"}
    )
    assert [row["Rental ID"] for row in table(answer)[1]] == [
        january["rentalId"], march["rentalId"],
    ]  # fmt: skip
    assert (answer["filters"]["startDate"], answer["filters"]["endDate"]) == (
        "2025-01-01", "2025-03-31",
    )  # fmt: skip
    # 23:30 on 30 March in New York is already the 31st in UTC.
    later = await exported(api, {"startDate": "2025-03-30T23:30:00-04:00"})
    assert [row["Rental ID"] for row in table(later)[1]] == [march["rentalId"]]


async def test_the_answer_sums_the_exported_rows_up(api: Api, database: Database) -> None:
    laptop, phone, other = await rentals(
        api, [("SN-1", LAPTOP, {}), ("SN-P", PHONE, {}), ("SN-2", LAPTOP, {})], ADA
    )
    async with database.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == other["rentalId"])
            .values(status="cancelled")
        )

    answer = exact(await api.post("/v1/exports/rentals", {}))

    # 59.99 + 19.99 + 59.99 = 139.97 over three rows: 46.6566… rounds half up to 46.66.
    assert {key: answer[key] for key in TOTALS} == {
        "totalRecords": 3, "totalRentals": 3, "activeRentals": 2,
        "totalRevenue": Decimal("139.97"), "averageMonthlyRevenue": Decimal("46.66"),
    }  # fmt: skip
    only_active = exact(await api.post("/v1/exports/rentals", {"status": "active"}))
    assert {key: only_active[key] for key in TOTALS} == {
        "totalRecords": 2, "totalRentals": 2, "activeRentals": 2,
        "totalRevenue": Decimal("79.98"), "averageMonthlyRevenue": Decimal("39.99"),
    }  # fmt: skip
    assert {laptop["rentalId"], phone["rentalId"]} == {
        row["Rental ID"] for row in table(only_active)[1]
    }
    none = exact(await api.post("/v1/exports/rentals", {"startDate": "2030-01-01"}))
    assert {key: none[key] for key in TOTALS} == {
        "totalRecords": 0, "totalRentals": 0, "activeRentals": 0,
        "totalRevenue": Decimal("0.00"), "averageMonthlyRevenue": Decimal("0.00"),
    }  # fmt: skip


async def test_the_average_rounds_half_up_to_the_cent(api: Api, database: Database) -> None:
    first, second = await rentals(api, [("SN-1", LAPTOP, {}), ("SN-2", LAPTOP, {})], ADA)
    async with database.transaction() as session:  # 0.02 + 0.03 = 0.05, half of it 0.025
        for rental, amount in ((first, 2), (second, 3)):
            await session.execute(
                update(Subscription)
                .where(Subscription.id == rental["rentalId"])
                .values(monthly_amount=amount)
            )
    answer = exact(await api.post("/v1/exports/rentals", {}))
    # Half up, not to even (which would give 0.02).
    assert (answer["totalRevenue"], answer["averageMonthlyRevenue"]) == (
        Decimal("0.05"), Decimal("0.03"),
    )  # fmt: skip


async def test_batches_of_rows_sharing_one_creation_time_neither_skip_nor_repeat(
    api: Api, database: Database
) -> None:
    """Keyset batches of 1000 on (created_at, id): 1501 rows created at the same moment
    each come out exactly once."""
    (rental,) = await rentals(api, [("SN-1", LAPTOP, {})], ADA)
    async with database.transaction() as session:
        stored = (await session.scalars(select(Subscription))).one()
        columns = {
            column.key: getattr(stored, column.key) for column in Subscription.__table__.columns
        }
        copies = [
            {**columns, "id": f"sub_copy{number:05d}", "serial_number": f"X-{number}",
             "status": "cancelled"}
            for number in range(1500)
        ]  # fmt: skip
        await session.execute(insert(Subscription.metadata.tables["subscriptions"]), copies)
    answer = exact(await api.post("/v1/exports/rentals", {}))
    ids = [row["Rental ID"] for row in table(answer)[1]]
    assert answer["totalRecords"] == len(ids) == len(set(ids)) == 1501
    assert rental["rentalId"] in ids
    assert (answer["activeRentals"], answer["totalRevenue"]) == (1, Decimal("90044.99"))


async def test_formulas_are_neutralised_and_quoting_follows_rfc_4180(api: Api) -> None:
    fields = {
        "formula": "=HYPERLINK(\"http://evil\")", "plus": "+1", "minus": "-2", "at": "@SUM(1)",
        "tab": "\tx", "cr": "\rx", "number": -5, "quoted": 'He said "hi", then left',
        "flag": True,
    }  # fmt: skip
    customer = {**ADA, "firstName": "=cmd", "company": "@Acme"}
    await rentals(api, [("SN-1", LAPTOP, {"customFields": fields})], customer)
    answer = await exported(api)
    header, (row,) = table(answer)
    assert row["Custom: formula"] == '\'=HYPERLINK("http://evil")'
    assert (row["Custom: plus"], row["Custom: minus"], row["Custom: at"]) == (
        "'+1", "'-2", "'@SUM(1)",
    )  # fmt: skip
    assert (row["Custom: tab"], row["Custom: cr"]) == ("'\tx", "'\rx")
    assert (row["Custom: number"], row["Custom: flag"]) == ("-5", "true")  # numbers stay numbers
    assert row["Custom: quoted"] == 'He said "hi", then left'
    assert '"He said ""hi"", then left"' in answer["csvData"]
    assert (row["Customer Name"], row["Company"]) == ("'=cmd Lovelace", "'@Acme")
    assert header[-1] == "Custom: tab"  # sorted by name


async def test_empty_export_is_the_header_alone(api: Api) -> None:
    answer = await exported(api, {"startDate": "2030-01-01"})
    assert answer["totalRecords"] == 0
    assert answer["csvData"] == ",".join([*ALWAYS, *CUSTOMER, *DEVICE, *FINANCIAL]) + "\r\n"
    assert table(answer) == (ALWAYS + CUSTOMER + DEVICE + FINANCIAL, [])


async def test_no_body_exports_everything(api: Api) -> None:
    await rentals(api, [("SN-1", LAPTOP, {}), ("SN-2", LAPTOP, {})], ADA)
    response = await api.request("POST", "/v1/exports/rentals")
    assert response.status_code == 200, response.text
    assert response.json()["totalRecords"] == 2


async def test_batches_return_every_row_once_in_order(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = await rentals(api, [(f"SN-{n}", LAPTOP, {}) for n in range(2)], ADA)
    started += await rentals(api, [(f"SN-B{n}", LAPTOP, {}) for n in range(3)], BOB, catalog=False)
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    _header, rows = table(await exported(api))
    assert [row["Rental ID"] for row in rows] == [rental["rentalId"] for rental in started]


async def test_too_many_rows_asks_to_narrow_the_range(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await rentals(api, [(f"SN-{n}", LAPTOP, {}) for n in range(2)], ADA)
    await rentals(api, [("SN-B", LAPTOP, {})], BOB, catalog=False)
    monkeypatch.setattr(export, "MAX_RECORDS", 2)
    response = await api.post("/v1/exports/rentals", {})
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    error = response.json()["error"]
    assert error["message"].startswith("More than 2 subscriptions match; narrow the range")
    assert [detail["path"] for detail in error["details"]] == ["startDate"]
    assert (await exported(api, {"customerIds": ["cust_nobody"]}))["totalRecords"] == 0


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"format": "xlsx"}, "format"),
        ({"startDate": "2025-02-01", "endDate": "2025-01-31"}, "startDate"),
        ({"status": "paused"}, "status"),
        ({"customerIds": [f"cust_{n}" for n in range(1001)]}, "customerIds"),
        ({"includeFields": {"customerDetails": "maybe"}}, "includeFields.customerDetails"),
        ({"startDate": "2025-02-30"}, "startDate"),
        ({"endDate": "2100-01-01"}, "endDate"),
        ({"startDateFrom": "1999-12-31"}, "startDateFrom"),
        ({"customerId": ""}, "customerId"),
        ({"startDate": "2025-01-01", "startDateFrom": "2025-02-01"}, "startDateFrom"),
        ({"endDate": "2025-01-01", "startDateTo": "2025-02-01"}, "startDateTo"),
    ],
)
async def test_invalid_requests_are_validation_errors(
    api: Api, body: dict[str, Any], path: str
) -> None:
    response = await api.post("/v1/exports/rentals", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert path in [detail["path"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"customer": "cust_1"}, "customer"),
        ({"endDateFrom": "2025-01-01"}, "endDateFrom"),
        ({"includeFields": {"costRecovery": True}}, "includeFields.costRecovery"),
    ],
)
async def test_unknown_fields_are_refused_never_ignored(
    api: Api, body: dict[str, Any], path: str
) -> None:
    """A filter the export does not know would otherwise export more than was asked."""
    await rentals(api, [("SN-1", LAPTOP, {})], ADA)
    response = await api.post("/v1/exports/rentals", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    details = response.json()["error"]["details"]
    assert [(detail["path"], detail["code"]) for detail in details] == [(path, "unrecognized_keys")]


async def test_reading_subscriptions_is_the_permission(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await rentals(api, [("SN-1", LAPTOP, {})], ADA)
    reader = api.with_key(await issue_key(database, tenant, permissions=["subscriptions:read"]))
    assert (await exported(reader))["totalRecords"] == 1
    outsider = api.with_key(await issue_key(database, tenant, permissions=["orders:read"]))
    response: httpx.Response = await outsider.post("/v1/exports/rentals", {})
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
