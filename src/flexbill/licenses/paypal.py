"""PayPal Instant Payment Notifications: a completed payment buys a license's credit.

PayPal posts a form (``txn_id``, ``payment_status``, ``receiver_email``, ``mc_gross``,
``mc_currency``, ``payer_email``, ``item_number``, …) and repeats it until answered 200,
sometimes out of order (``Pending`` after ``Completed``). A message is believed only once
PayPal itself answers ``VERIFIED`` to the same message posted back after
``cmd=_notify-validate``. Only ``Completed`` payments are applied, each ``txn_id`` once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.core.ids import new_id
from flexbill.core.money import PrecisionError, to_minor_exact
from flexbill.licenses import errors, service
from flexbill.licenses.models import License, LicenseProduct, PaypalPayment
from flexbill.licenses.rules import ProductType
from flexbill.mail import outbox

LIVE_VERIFY_URL = "https://ipnpb.paypal.com/cgi-bin/webscr"
SANDBOX_VERIFY_URL = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
VALIDATE_PREFIX = b"cmd=_notify-validate&"


def parse(raw: bytes) -> dict[str, str]:
    """The fields of an IPN message, decoded in the ``charset`` it names (PayPal's
    default is windows-1252)."""
    first = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    charset = first.get("charset", "windows-1252")
    try:
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding=charset))
    except LookupError:
        return first


def product_id_of(fields: dict[str, str]) -> str:
    """The license product a payment is for: the button's ``item_number``, or ``custom``."""
    return (fields.get("item_number") or fields.get("custom") or "").strip()


def verify_url(product: LicenseProduct, configured: str | None) -> str:
    if configured:
        return configured
    return SANDBOX_VERIFY_URL if product.is_test else LIVE_VERIFY_URL


async def is_genuine(raw: bytes, url: str, *, timeout_seconds: float) -> bool:
    """Whether PayPal answers ``VERIFIED`` to the message posted back to it unchanged."""
    async with httpx.AsyncClient(timeout=timeout_seconds) as client:
        response = await client.post(
            url,
            content=VALIDATE_PREFIX + raw,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "flexbill-ipn",
            },
        )
    return response.status_code == 200 and response.text.strip() == "VERIFIED"


def not_verified() -> FlexbillError:
    return FlexbillError("IPN_NOT_VERIFIED", "PayPal did not verify this notification")


def _mismatch(message: str) -> FlexbillError:
    return FlexbillError("IPN_PAYMENT_MISMATCH", message)


@dataclass(frozen=True)
class Outcome:
    message: str
    license: License | None = None


def _amount_matches(product: LicenseProduct, fields: dict[str, str]) -> bool:
    currency = fields.get("mc_currency", "").upper()
    if product.payment_amount is None or currency != (product.payment_currency or ""):
        return False
    try:
        paid = to_minor_exact(Decimal(fields.get("mc_gross", "")), currency)
    except (InvalidOperation, PrecisionError):
        return False
    return paid == product.payment_amount


async def apply_payment(
    session: AsyncSession, product: LicenseProduct, fields: dict[str, str]
) -> Outcome:
    """Apply a verified notification for ``product``: credit the payer's license, or
    issue a verified one, and e-mail its key."""
    status = fields.get("payment_status", "")
    if status != "Completed":
        return Outcome(f"Notification ignored: payment status is '{status}'")
    txn_id = fields.get("txn_id", "").strip()
    if not txn_id:
        raise _mismatch("The notification has no txn_id")
    already_applied = Outcome(f"Notification ignored: transaction '{txn_id}' was already applied")
    seen = await session.scalar(
        select(PaypalPayment.id).where(
            PaypalPayment.tenant_id == product.tenant_id, PaypalPayment.txn_id == txn_id
        )
    )
    if seen is not None:
        return already_applied
    receiver = (fields.get("receiver_email") or fields.get("business") or "").strip().lower()
    if not product.paypal_receiver_email or receiver != product.paypal_receiver_email.lower():
        raise _mismatch(f"The payment was made to '{receiver}', not to this product's account")
    if not _amount_matches(product, fields):
        raise _mismatch(
            f"The payment of {fields.get('mc_gross')} {fields.get('mc_currency')} is not "
            "this product's price"
        )
    payer = outbox.recipient_address(fields.get("payer_email", "")).lower()
    claim = await _claim(session, product, txn_id, payer)
    if claim is None:
        return already_applied
    if ProductType(product.type) is ProductType.CUSTOM:
        return await _send_access_information(session, product, payer)
    existing = (
        await session.scalars(
            select(License)
            .where(
                License.tenant_id == product.tenant_id,
                License.product_id == product.id,
                License.email == payer,
                License.revoked_at.is_(None),
            )
            .order_by(License.created_at.desc(), License.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if existing is None:
        record = await service.issue_license(
            session, product, email=payer, balance=product.credit_per_payment, verified=True
        )
    else:
        record = await service.mark_paid(session, product, existing, product.credit_per_payment)
    claim.license_id = record.id
    await session.flush()
    await outbox.send(
        session, product.tenant_id, template="license_key", to=payer,
        data={
            "product": product.name, "license_key": record.key,
            "balance": service.shown_balance(product, record.balance), "unit": product.unit,
            "expires_at": service.expiry_of(product, record),
        },
    )  # fmt: skip
    return Outcome("Payment applied", record)


async def _send_access_information(
    session: AsyncSession, product: LicenseProduct, payer: str
) -> Outcome:
    """A Custom product issues no key: the payer is e-mailed the vendor's access
    information, once per transaction."""
    if not (product.access_information or "").strip():
        raise errors.wrong_product_type(
            "Product type 'Custom' needs its access information to send to the payer"
        )
    await outbox.send(
        session, product.tenant_id, template="access_information", to=payer,
        data={"product": product.name, "access_information": product.access_information},
    )  # fmt: skip
    return Outcome("Payment applied: access information sent")


async def _claim(
    session: AsyncSession, product: LicenseProduct, txn_id: str, payer: str
) -> PaypalPayment | None:
    """Record the transaction before applying it, or ``None`` when another notification
    of it got there first. Two identical notifications at the same instant both pass the
    lookup above; the unique key then lets one through and the other sees "already
    applied" (its savepoint rolled back, its request's transaction intact)."""
    row = PaypalPayment(
        id=new_id("lpay"), tenant_id=product.tenant_id, txn_id=txn_id,
        product_id=product.id, license_id=None, payer_email=payer,
        amount=product.payment_amount or 0, currency=product.payment_currency or "",
    )  # fmt: skip
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row
