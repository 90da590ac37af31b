"""PayPal IPN, with a real HTTP server on loopback standing in for PayPal's verification."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import httpx
import pytest

from flexbill.core.db import Database
from flexbill.licenses.rules import ProductType
from tests.licenses.support import mails_to, new_product
from tests.support import Tenant


@dataclass
class FakePaypal:
    url: str
    answer: str = "VERIFIED"
    received: list[bytes] = field(default_factory=list)


@pytest.fixture
def paypal(configure: Callable[..., None]) -> Iterator[FakePaypal]:
    state = FakePaypal(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.received.append(self.rfile.read(int(self.headers["Content-Length"])))
            body = state.answer.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webscr"
    configure(paypal_ipn_verify_url=state.url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def notification(product_id: str, txn_id: str, status: str = "Completed", **extra: str) -> str:
    fields = {
        "mc_gross": "19.90", "protection_eligibility": "Eligible", "payer_id": "LPLWNMTBWMFAY",
        "payment_date": "20:12:59 Jan 13, 2026 PST", "payment_status": status,
        "charset": "windows-1252", "first_name": "Ada", "mc_fee": "0.88",
        "notify_version": "3.9", "payer_status": "verified", "business": "sales@vendor.example",
        "quantity": "1", "verify_sign": "AtkOfCXbDm2hu0ZELryHFjY-Vb7PAUvS6nMXgysbElEn9v-1XcmSoGtf",
        "payer_email": "Buyer@Example.com", "txn_id": txn_id, "payment_type": "instant",
        "last_name": "Lovelace", "receiver_email": "sales@vendor.example",
        "receiver_id": "S8XGHLYDW9T3S", "txn_type": "web_accept", "item_name": "Your Product",
        "mc_currency": "EUR", "item_number": product_id, "test_ipn": "1",
        "ipn_track_id": "a0c2f4e1b3d59",
    }  # fmt: skip
    fields.update(extra)
    return urlencode(fields)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_completed_payments_issue_then_credit_a_license_once(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, paypal: FakePaypal
) -> None:
    product = await new_product(
        database, tenant, ProductType.INNER_CREDIT, unit="creditz", credit_per_payment=100,
        paypal_receiver_email="sales@vendor.example", payment_amount=1990,
        payment_currency="EUR", is_test=True,
    )  # fmt: skip
    # Out of order: PayPal's "Pending" of the first payment arrives after its "Completed".
    first = notification(product.id, "61E67681CH3238416")
    issued = await client.post("/ipn_notification", content=first, headers=FORM)
    assert issued.status_code == 200
    assert issued.json()["msg"] == "Payment applied"
    key = issued.json()["key"]
    assert paypal.received[0] == b"cmd=_notify-validate&" + first.encode()
    pending = await client.post(
        "/ipn_notification", content=notification(product.id, "61E67681CH3238416", "Pending"),
        headers=FORM,
    )  # fmt: skip
    assert pending.json() == {"msg": "Notification ignored: payment status is 'Pending'"}
    duplicate = await client.post("/ipn_notification", content=first, headers=FORM)
    assert duplicate.json() == {
        "msg": "Notification ignored: transaction '61E67681CH3238416' was already applied"
    }
    second = await client.post(
        "/ipn_notification", content=notification(product.id, "9XK37562JB0741234"), headers=FORM
    )
    assert second.json() == {"msg": "Payment applied", "key": key}
    status = await client.get(f"/license-status?apikey={product.api_key}&licensekey={key}")
    assert status.json() == {
        "msg": "License status returned", "balance": 200, "type": "Inner credit",
        "unit": "creditz", "product": "Your Product", "valid": True, "verified": True,
        "isTest": True,
    }  # fmt: skip
    mails = await mails_to(database, "buyer@example.com")
    assert [m.template for m in mails] == ["license_key", "license_key"]
    assert key in mails[0].text_body
    assert "Balance: 100 creditz" in mails[0].text_body
    assert "Balance: 200 creditz" in mails[1].text_body


async def test_unverified_or_mismatched_notifications_change_nothing(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, paypal: FakePaypal
) -> None:
    product = await new_product(
        database, tenant, ProductType.TIME_LIMITED, credit_per_payment=30,
        paypal_receiver_email="sales@vendor.example", payment_amount=1990,
        payment_currency="EUR",
    )  # fmt: skip
    paypal.answer = "INVALID"
    forged = await client.post(
        "/ipn_notification", content=notification(product.id, "1AB"), headers=FORM
    )
    assert (forged.status_code, forged.json()) == (
        400, {"msg": "PayPal did not verify this notification"},
    )  # fmt: skip
    paypal.answer = "VERIFIED"
    cheap = await client.post(
        "/ipn_notification", content=notification(product.id, "2AB", mc_gross="1.00"),
        headers=FORM,
    )  # fmt: skip
    assert (cheap.status_code, cheap.json()) == (
        400, {"msg": "The payment of 1.00 EUR is not this product's price"},
    )  # fmt: skip
    elsewhere = await client.post(
        "/ipn_notification",
        content=notification(product.id, "3AB", receiver_email="thief@example.com"),
        headers=FORM,
    )
    assert elsewhere.status_code == 400
    assert elsewhere.json() == {
        "msg": "The payment was made to 'thief@example.com', not to this product's account"
    }
    unknown = await client.post(
        "/ipn_notification", content=notification("lprod_nope", "4AB"), headers=FORM
    )
    assert unknown.json() == {"msg": "Unknown product 'lprod_nope' in item_number"}
    assert await mails_to(database, "buyer@example.com") == []
    # The mismatched payment was not recorded: once the price is right it applies.
    retried = await client.post(
        "/ipn_notification", content=notification(product.id, "2AB"), headers=FORM
    )
    assert retried.json()["msg"] == "Payment applied"


async def test_a_custom_product_e_mails_its_access_information_once(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, paypal: FakePaypal
) -> None:
    """Custom products have no keys: a payment gets the vendor's access information by
    e-mail (FlexLicense's "only e-mails the vendor's access information")."""
    product = await new_product(
        database, tenant, ProductType.CUSTOM, paypal_receiver_email="sales@vendor.example",
        payment_amount=1990, payment_currency="EUR",
        access_information="Download: https://vendor.example/dl\nSerial: ask support",
    )  # fmt: skip
    paid = notification(product.id, "5TY05013RG002845M")
    answer = await client.post("/ipn_notification", content=paid, headers=FORM)
    assert (answer.status_code, answer.json()) == (
        200, {"msg": "Payment applied: access information sent"},
    )  # fmt: skip
    again = await client.post("/ipn_notification", content=paid, headers=FORM)
    assert again.json() == {
        "msg": "Notification ignored: transaction '5TY05013RG002845M' was already applied"
    }
    (mail,) = await mails_to(database, "buyer@example.com")
    assert (mail.template, mail.subject) == ("access_information", "Your access to Your Product")
    assert "Download: https://vendor.example/dl\n\nSerial: ask support" in mail.text_body


async def test_the_same_notification_twice_at_once_is_applied_once(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, paypal: FakePaypal
) -> None:
    product = await new_product(
        database, tenant, ProductType.INNER_CREDIT, unit="creditz", credit_per_payment=100,
        paypal_receiver_email="sales@vendor.example", payment_amount=1990,
        payment_currency="EUR", is_test=True,
    )  # fmt: skip
    body = notification(product.id, "7AB12345CD6789012")
    answers = await asyncio.gather(
        *(client.post("/ipn_notification", content=body, headers=FORM) for _ in range(4))
    )
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    messages = sorted(answer.json()["msg"] for answer in answers)
    assert messages == ["Notification ignored: transaction '7AB12345CD6789012' was already applied"] * 3 + ["Payment applied"]  # fmt: skip
    mails = await mails_to(database, "buyer@example.com")
    assert [m.template for m in mails] == ["license_key"]
    assert "Balance: 100 creditz" in mails[0].text_body
