"""The pure parts of files: content sniffing, safe names, link signatures, and how
documents write amounts, dates and text their font lacks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from flexbill.files import links
from flexbill.files.errors import LinkRefused
from flexbill.files.letterhead import customer_party, letterhead_of
from flexbill.files.links import Disposition, Link
from flexbill.files.pdf import (
    Party,
    address_lines,
    format_date,
    format_money,
    format_percent,
    to_core_font,
)
from flexbill.files.sniffing import CSV, JPEG, PDF, PNG, TEXT, safe_filename, sniff
from flexbill.settings.rules import Company
from tests.files.support import JPEG_BYTES, PDF_BYTES, PNG_BYTES

NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
KEY = b"k" * 32


@pytest.mark.parametrize(
    ("data", "filename", "declared", "expected"),
    [
        (PDF_BYTES, "a.pdf", "application/pdf", PDF),
        (PDF_BYTES, "photo.png", "image/png", PDF),  # the bytes decide, not the name or type
        (PNG_BYTES, "notes.txt", "text/plain", PNG),
        (JPEG_BYTES, "x", None, JPEG),
        (b"Hello, world\r\n\tindented\f", "hello", "application/octet-stream", TEXT),
        ("Grüße, € 5\n".encode(), "greeting.txt", None, TEXT),
        (b"\xef\xbb\xbfsku,qty\nA,1\n", "items.CSV", None, CSV),
        (b"sku,qty\nA,1\n", "items", "text/csv; charset=utf-8", CSV),
        (b"<script>alert(1)</script>", "page.html", "text/html", TEXT),  # served as plain text
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.pdf", "application/pdf", None),
        (b"text with a NUL\x00 in it", "a.txt", "text/plain", None),
        (b"escape \x1b[31m red", "a.txt", "text/plain", None),
        ("C1 control \x85 here".encode(), "a.txt", "text/plain", None),
        (b"\xff\xfe latin-1 \xe9", "a.txt", "text/plain", None),
        (b"GIF89a\x01\x00", "a.gif", "image/gif", None),
        (b"", "empty.txt", "text/plain", None),
    ],
)
def test_sniff_believes_the_bytes(
    data: bytes, filename: str, declared: str | None, expected: str | None
) -> None:
    assert sniff(data, filename=filename, declared=declared) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("contract.pdf", "contract.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\report.pdf", "report.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("  spaced name.png  ", "spaced name.png"),
        ("tab\tand\x00nul.txt", "tabandnul.txt"),
        ("dir/", "fallback.pdf"),
        ("", "fallback.pdf"),
        (None, "fallback.pdf"),
        ("Übersicht – März.pdf", "Übersicht – März.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("y" * 300, "y" * 255),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, "fallback.pdf") == expected


def _link(**changes: object) -> Link:
    fields: dict[str, object] = {
        "tenant_id": "tnl_1", "file_id": "file_1", "expires": int(NOW.timestamp()) + 3600,
        "disposition": Disposition.INLINE,
    }  # fmt: skip
    fields.update(changes)
    return Link(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("presented", "key", "at", "refusal"),
    [
        (_link(), KEY, NOW, None),
        (_link(), KEY, NOW + timedelta(minutes=59, seconds=59), None),
        (_link(), KEY, NOW + timedelta(minutes=60), "FILE_LINK_EXPIRED"),
        (_link(file_id="file_2"), KEY, NOW, "FILE_LINK_INVALID"),
        (_link(tenant_id="tnl_2"), KEY, NOW, "FILE_LINK_INVALID"),
        (_link(disposition=Disposition.ATTACHMENT), KEY, NOW, "FILE_LINK_INVALID"),
        # A later expiry is an altered link, not a valid one; an earlier one is altered too,
        # not "expired".
        (_link(expires=int(NOW.timestamp()) + 7200), KEY, NOW, "FILE_LINK_INVALID"),
        (_link(expires=int(NOW.timestamp()) - 1), KEY, NOW, "FILE_LINK_INVALID"),
        (_link(), b"another key", NOW, "FILE_LINK_INVALID"),
    ],
)
def test_a_link_opens_only_as_signed_and_until_it_expires(
    presented: Link, key: bytes, at: datetime, refusal: str | None
) -> None:
    signature = links.signature(KEY, _link())
    if refusal is None:
        links.verify(key, presented, signature, now=at)
        return
    with pytest.raises(LinkRefused) as refused:
        links.verify(key, presented, signature, now=at)
    assert refused.value.code == refusal


def test_a_link_url_names_tenant_expiry_and_disposition() -> None:
    link = links.new_link("tnl_1", "file_1", Disposition.ATTACHMENT, now=NOW, minutes=90)
    assert link.expires_at == NOW + timedelta(minutes=90)
    url = urlsplit(links.url("https://bills.example/", KEY, link))
    assert (url.scheme, url.netloc, url.path) == (
        "https", "bills.example", "/v1/files/file_1/content",
    )  # fmt: skip
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query == {
        "tenant": "tnl_1", "expires": str(int(NOW.timestamp()) + 5400),
        "disposition": "attachment", "signature": links.signature(KEY, link),
    }  # fmt: skip


@pytest.mark.parametrize("minutes", [0, 1441, -5])
def test_a_link_lasts_one_minute_to_a_day(minutes: int) -> None:
    with pytest.raises(ValueError, match="1–1440"):
        links.new_link("tnl_1", "file_1", Disposition.INLINE, now=NOW, minutes=minutes)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (4999, "EUR", "€ 49.99"),
        (123456789, "USD", "$ 1,234,567.89"),
        (100000, "GBP", "£ 1,000.00"),
        (1500, "JPY", "¥ 1,500"),
        (12345, "KWD", "KWD 12.345"),
        (0, "CHF", "CHF 0.00"),
        (-500, "EUR", "-€ 5.00"),
    ],
)
def test_format_money(amount: int, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2025, 7, 1), "1 July 2025"), (date(2024, 12, 31), "31 December 2024")],
)
def test_format_date(day: date, expected: str) -> None:
    assert format_date(day) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (Decimal("19.00"), "19%"),
        (Decimal("7.50"), "7.5%"),
        (Decimal(0), "0%"),
        (Decimal(100), "100%"),
    ],
)
def test_format_percent(rate: Decimal, expected: str) -> None:
    assert format_percent(rate) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Müller & Söhne – € 5", "Müller & Söhne – € 5"),
        ("Łukasz Żółć", "?ukasz Zó?c"),
        ("Ελλάδα", "??????"),
        ("Dvořák", "Dvorák"),
    ],
)
def test_text_the_core_font_lacks_loses_accents_or_becomes_a_question_mark(
    text: str, expected: str
) -> None:
    assert to_core_font(text) == expected


def test_the_letterhead_shows_what_the_company_settings_say() -> None:
    company = Company(
        name="Rent & Go GmbH", address="Hauptstraße 1\n\n10115 Berlin ", email="hi@rentgo.example",
        phone="+49 30 1234", vat_id="DE123456789", registration_number="HRB 12345",
    )  # fmt: skip
    letterhead = letterhead_of(company, "Unit name")
    assert letterhead.party == Party(
        "Rent & Go GmbH",
        ("Hauptstraße 1", "10115 Berlin", "hi@rentgo.example", "+49 30 1234",
         "VAT ID: DE123456789", "Registration no.: HRB 12345"),
    )  # fmt: skip
    assert letterhead.footer == (
        "Rent & Go GmbH · VAT ID DE123456789 · Reg. no. HRB 12345 · hi@rentgo.example"
    )
    unnamed = letterhead_of(Company(), "Unit name")
    assert (unnamed.party, unnamed.footer) == (Party("Unit name"), "Unit name")


def test_a_customer_is_addressed_by_name_company_address_and_contact() -> None:
    address = {
        "contact_name": "Ada Lovelace", "company": "Analytical Engines", "street_address": "1 Way",
        "postal_code": "22202", "city": "Arlington", "admin_area": "VA", "country": "US",
    }  # fmt: skip
    party = customer_party(
        "Ada", "Lovelace", company="Analytical Engines", email="ada@example.com", phone=None,
        address=address,
    )  # fmt: skip
    assert party == Party(
        "Ada Lovelace",
        ("Analytical Engines", "1 Way", "22202 Arlington, VA", "US", "ada@example.com"),
    )
    assert address_lines(None) == ()
