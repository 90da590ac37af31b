"""Rendering every template: subject, text and HTML from the same words, values escaped in
the HTML, data that does not fit refused; the address check and which SMTP refusals are
final. Pure functions, no database."""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core.errors import FlexbillError, ValidationFailed
from flexbill.mail.outbox import message_id, recipient_address
from flexbill.mail.smtp import is_final
from flexbill.mail.templates import TEMPLATES, render

INVOICE: dict[str, Any] = {
    "invoice_number": "INV-2025-0042", "amount": Decimal("71.39"), "currency": "EUR",
    "due_date": date(2025, 3, 24), "customer_name": "Ada Lovelace", "company_name": "Acme Rentals",
}  # fmt: skip
PAYMENT: dict[str, Any] = {
    "amount": Decimal("1234.5"), "currency": "USD", "reason": "Your card has insufficient funds.",
    "company_name": "Acme Rentals",
}  # fmt: skip
WEBHOOK: dict[str, Any] = {
    "endpoint_url": "https://hooks.example.com/flexbill", "reason": "HTTP 503 Service Unavailable",
    "failing_since": datetime(2025, 3, 7, 9, 30, tzinfo=UTC),
}  # fmt: skip
LICENSE: dict[str, Any] = {
    "product": "PhotoTool Pro",
    "license_key": "9b2f7c1e-3c1d-4f4e-9a59-1b2c3d4e5f60",
}
TRIAL: dict[str, Any] = {
    "product": "PhotoTool Pro",
    "validation_link": "https://billing.example.com/licenses/verify?token=abc&user=7",
}


@pytest.mark.parametrize(
    ("template", "data", "subject", "lines"),
    [
        (
            "invoice_issued", INVOICE, "Invoice INV-2025-0042 from Acme Rentals",
            ["Hello Ada Lovelace,",
             "Acme Rentals has issued invoice INV-2025-0042 for 71.39 EUR, due on 2025-03-24.",
             "Kind regards,\nAcme Rentals"],
        ),
        (
            "invoice_issued", {**INVOICE, "link": "https://acme.example/i/42"},
            "Invoice INV-2025-0042 from Acme Rentals",
            ["View the invoice: https://acme.example/i/42"],
        ),
        (
            "payment_failed", {**PAYMENT, "next_retry_at": "2025-03-13T09:00:00Z",
                               "customer_name": "Ada", "invoice_number": "INV-7"},
            "Your payment of 1,234.50 USD to Acme Rentals failed",
            ["Hello Ada,", "We could not collect your payment of 1,234.50 USD for invoice INV-7.",
             "Reason: Your card has insufficient funds.",
             "We will try again on 2025-03-13 09:00 UTC."],
        ),
        (
            "payment_failed", {**PAYMENT, "amount": Decimal(5000), "currency": "JPY"},
            "Your payment of 5,000 JPY to Acme Rentals failed",
            ["Hello,", "This was the last attempt: the payment will not be tried again. "
             "Please contact Acme Rentals to settle it."],
        ),
        (
            "webhook_endpoint_disabled", {**WEBHOOK, "endpoint_id": "we_01"},
            "Webhook endpoint disabled: https://hooks.example.com/flexbill",
            ["flexbill has disabled your webhook endpoint https://hooks.example.com/flexbill "
             "(we_01): its deliveries have failed since 2025-03-07 09:30 UTC.",
             "Last error: HTTP 503 Service Unavailable"],
        ),
        (
            "license_key", {**LICENSE, "balance": 365, "unit": "days",
                            "expires_at": date(2026, 3, 1), "company_name": "PhotoTool Ltd"},
            "Your license key for PhotoTool Pro",
            ["9b2f7c1e-3c1d-4f4e-9a59-1b2c3d4e5f60", "Balance: 365 days",
             "Valid until: 2026-03-01", "Kind regards,\nPhotoTool Ltd"],
        ),
        (
            "license_key", {**LICENSE, "balance": Decimal("1500.25")},
            "Your license key for PhotoTool Pro", ["Balance: 1,500.25\n\nKeep this e-mail"],
        ),
        (
            "trial_validation", TRIAL, "Confirm your e-mail address for PhotoTool Pro",
            ["start your free trial of PhotoTool Pro.",
             "Confirm my e-mail address: https://billing.example.com/licenses/verify?token=abc&user=7"],
        ),
        ("test", {}, "flexbill test e-mail", ["If you can read it, outgoing e-mail works."]),
    ],
)  # fmt: skip
def test_each_template_renders_subject_text_and_html(
    template: str, data: dict[str, Any], subject: str, lines: list[str]
) -> None:
    rendered = render(template, data)
    assert rendered.subject == subject
    for line in lines:
        assert line in rendered.text
        if "://" not in line:  # links: see the next test
            paragraphs = (part.replace("\n", "<br>\n") for part in line.split("\n\n"))
            assert "</p>\n<p>".join(paragraphs) in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f"<title>{subject}</title>" in rendered.html


def test_the_invoice_link_and_the_validation_link_are_links_in_html() -> None:
    invoice = render("invoice_issued", {**INVOICE, "link": "https://acme.example/i/42"})
    assert '<a href="https://acme.example/i/42">View the invoice</a>' in invoice.html
    trial = render("trial_validation", TRIAL)
    assert (
        '<a href="https://billing.example.com/licenses/verify?token=abc&amp;user=7">'
        "Confirm my e-mail address</a>"
    ) in trial.html
    assert "<a " not in render("invoice_issued", INVOICE).html


HOSTILE = '<script>alert("x")</script> & Co\'s'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#x27;s"


@pytest.mark.parametrize(
    ("template", "data"),
    [
        ("invoice_issued", {**INVOICE, "customer_name": HOSTILE}),
        ("invoice_issued", {**INVOICE, "company_name": HOSTILE}),
        ("payment_failed", {**PAYMENT, "reason": HOSTILE}),
        ("webhook_endpoint_disabled", {**WEBHOOK, "reason": HOSTILE}),
        ("license_key", {**LICENSE, "product": HOSTILE}),
        ("trial_validation", {**TRIAL, "company_name": HOSTILE}),
    ],
)
def test_values_are_escaped_in_html_and_kept_as_written_in_text(
    template: str, data: dict[str, Any]
) -> None:
    rendered = render(template, data)
    assert ESCAPED in rendered.html
    assert "<script>" not in rendered.html
    assert HOSTILE in rendered.text


def test_a_line_break_in_a_value_never_splits_the_subject() -> None:
    rendered = render("invoice_issued", {**INVOICE, "company_name": "Acme\r\nBcc: x@evil.example"})
    assert rendered.subject == "Invoice INV-2025-0042 from Acme Bcc: x@evil.example"
    assert "Kind regards,\nAcme\nBcc: x@evil.example" in rendered.text
    assert "Kind regards,<br>\nAcme<br>\nBcc: x@evil.example" in rendered.html


@pytest.mark.parametrize(
    ("template", "data", "message"),
    [
        ("invoice_issued", {k: v for k, v in INVOICE.items() if k != "due_date"}, "needs ['due_date']"),
        ("invoice_issued", {**INVOICE, "customer_name": None}, "needs ['customer_name']"),
        ("invoice_issued", {**INVOICE, "dueDate": "2025-03-24"}, "has no field ['dueDate']"),
        ("invoice_issued", {**INVOICE, "amount": 7139}, "must be a finite Decimal"),
        ("invoice_issued", {**INVOICE, "amount": 71.39}, "must be a finite Decimal"),
        ("invoice_issued", {**INVOICE, "amount": Decimal("NaN")}, "must be a finite Decimal"),
        ("invoice_issued", {**INVOICE, "amount": Decimal("71.391")}, "more decimals than EUR"),
        ("invoice_issued", {**INVOICE, "currency": "EURO"}, "ISO 4217"),
        ("invoice_issued", {**INVOICE, "customer_name": "  "}, "non-blank text"),
        ("invoice_issued", {**INVOICE, "due_date": "24.03.2025"}, "ISO 8601"),
        ("invoice_issued", {**INVOICE, "due_date": datetime(2025, 3, 24)}, "timezone-aware"),  # noqa: DTZ001
        ("invoice_issued", {**INVOICE, "link": "javascript:alert(1)"}, "http(s) URL"),
        ("invoice_issued", {**INVOICE, "link": "https://acme.example/a b"}, "http(s) URL"),
        ("license_key", {**LICENSE, "balance": True}, "int or a Decimal"),
        ("license_key", {**LICENSE, "balance": 1.5}, "int or a Decimal"),
        ("test", {"anything": 1}, "has no field ['anything']"),
    ],
)  # fmt: skip
def test_data_that_does_not_fit_is_a_programming_error(
    template: str, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        render(template, data)


def test_an_unknown_template_is_template_not_found() -> None:
    with pytest.raises(FlexbillError) as raised:
        render("invoice_paid", INVOICE)
    assert raised.value.code == "TEMPLATE_NOT_FOUND"
    assert raised.value.message == "E-mail template 'invoice_paid' not found"


def test_the_templates_other_work_needs_exist() -> None:
    assert set(TEMPLATES) == {
        "invoice_issued", "payment_failed", "webhook_endpoint_disabled", "license_key",
        "trial_validation", "access_information", "test",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        (" Ada@Example.COM ", "Ada@example.com"),
        ("ada@exämple.com", "ada@xn--exmple-cua.com"),
        ("adä@example.com", "adä@example.com"),
    ],
)
def test_valid_addresses_are_normalized(given: str, normalized: str) -> None:
    assert recipient_address(given) == normalized


@pytest.mark.parametrize(
    "given",
    ["", "ada", "ada@localhost", "Ada <ada@example.com>", "ada@example.com, eve@example.com",
     "ada@example.com\r\nBcc: eve@example.com", f"ada@{'a' * 64}.example.com"],
)  # fmt: skip
def test_invalid_addresses_are_a_validation_error_on_to(given: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        recipient_address(given)
    assert raised.value.code == "VALIDATION_ERROR"
    assert [detail.path for detail in raised.value.details] == ["to"]


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("Acme Rentals <billing@acme.example>", "<mail_1@acme.example>"),
        ("no-reply@flexbill.example", "<mail_1@flexbill.example>"),
        ("flexbill", "<mail_1@flexbill.localhost>"),
    ],
)
def test_message_ids_are_in_the_senders_domain(sender: str, expected: str) -> None:
    assert message_id("mail_1", sender) == expected


@pytest.mark.parametrize(
    ("error", "final"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"No such mailbox")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"Mailbox busy")}), False),
        (smtplib.SMTPDataError(554, b"Message rejected as spam"), True),
        (smtplib.SMTPDataError(451, b"Try again later"), False),
        (smtplib.SMTPSenderRefused(550, b"Sender not allowed", "a@example.com"), False),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_only_a_refusal_of_the_message_itself_is_final(error: Exception, final: bool) -> None:
    assert is_final(error) is final
