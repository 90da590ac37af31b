"""The FlexLicense face (seed 002): GET endpoints answering {"msg": ...}, and PayPal IPN.

Authentication is the product API key in the ``apikey`` query parameter. Errors answer a
4xx with ``{"msg": "..."}`` (``api/v1/errors.py`` dispatches on these paths). Some GETs
write (a withdrawal, a trial, a validation link): those run in a write transaction of
their own, committed when the answer is a success, since the request's session of a GET
is a read-only autocommit one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.api.runtime import runtime
from flexbill.api.v1 import errors as v1_errors
from flexbill.api.v1.responses import V1JSONResponse
from flexbill.config import get_settings
from flexbill.core.errors import ValidationFailed
from flexbill.licenses import paypal, products, service

router = APIRouter(tags=["FlexLicense"])

VALIDATION_PATH = "/license-validation"
PATHS = ("/license-status", "/withdraw-client", "/create-client", "/ipn_notification",
         VALIDATION_PATH)  # fmt: skip


def answer(content: dict[str, Any], status_code: int = 200) -> V1JSONResponse:
    return V1JSONResponse(content, status_code=status_code)


def error_answer(status: int, message: str) -> V1JSONResponse:
    return answer({"msg": message}, status_code=status)


def install(app: FastAPI) -> None:
    app.include_router(router)
    v1_errors.register_face(app, PATHS, error_answer)


def _required(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise ValidationFailed(f"Missing query parameter '{name}'")
    return value.strip()


def _timestamp(moment: datetime) -> str:
    """``2022-10-05T13:46:46.959Z``, as the seed's example writes it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _session(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.session
    return session


@router.get("/license-status")
async def license_status(
    request: Request, apikey: str | None = None, licensekey: str | None = None
) -> V1JSONResponse:
    """Whether a user's license is valid, with its balance (seed 002). `valid` is false
    when the license expired, its balance is negative or it is not verified yet."""
    product, record = await service.license_by_keys(
        _session(request), _required("apikey", apikey), _required("licensekey", licensekey)
    )
    content: dict[str, Any] = {
        "msg": "License status returned",
        "balance": service.shown_balance(product, record.balance),
        "type": product.type,
        "unit": product.unit,
        "product": product.name,
        "valid": service.is_valid(product, record),
        "verified": record.verified,
        "isTest": product.is_test,
    }
    expires = service.expiry_of(product, record)
    if expires is not None:  # Time limited, once verified: a trial's days start then
        content["expires"] = _timestamp(expires)
    return answer(content)


@router.get("/withdraw-client")
async def withdraw_client(
    request: Request,
    apikey: str | None = None,
    licensekey: str | None = None,
    amount: str | None = None,
    currency: str | None = None,
) -> V1JSONResponse:
    """Debit a client's Inner credit or Currency balance (seed 002). For a Currency
    product, `amount` is in `currency` (the product's by default), converted at the
    product's exchange rate, plus its rate percentage, at least its minimum charge."""
    async with runtime(request).database.transaction() as session:
        product = await products.product_of_api_key(session, _required("apikey", apikey))
        withdrawal = await service.withdraw(
            session, product, _required("licensekey", licensekey),
            _required("amount", amount), currency,
        )  # fmt: skip
        return answer(
            {
                "msg": "Client debited",
                "product": product.name,
                "unit": withdrawal.unit,
                "amount": withdrawal.amount,
            }
        )


def validation_link(token: str) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}{VALIDATION_PATH}?token={quote(token, safe='')}"


@router.get("/create-client")
async def create_client(
    request: Request, apikey: str | None = None, email: str | None = None
) -> V1JSONResponse:
    """A trial license with the product's free-trial balance (seed 002): not verified,
    and not valid, until the client follows the link e-mailed to `email`."""
    async with runtime(request).database.transaction() as session:
        product = await products.product_of_api_key(session, _required("apikey", apikey))
        record = await service.create_trial(
            session, product, _required("email", email), validation_link
        )
        return answer({"key": record.key, "msg": "New license key returned"})


@router.get(VALIDATION_PATH)
async def validate_trial(request: Request, token: str | None = None) -> V1JSONResponse:
    """The link of a trial's e-mail: the license becomes verified (once)."""
    async with runtime(request).database.transaction() as session:
        product, _record = await service.verify_trial(session, _required("token", token))
        return answer({"msg": f"Your license of {product.name} is verified"})


@router.post("/ipn_notification")
async def ipn_notification(request: Request) -> V1JSONResponse:
    """PayPal's Instant Payment Notification callback: set it in the PayPal account.
    A verified, completed payment for a product (its id as the button's `item_number`)
    issues a verified license to `payer_email`, or credits theirs, and e-mails the key."""
    raw = await request.body()
    fields = paypal.parse(raw)
    product_id = paypal.product_id_of(fields)
    # Looked up in a short read of its own: the request's write transaction must not be
    # open (on SQLite: hold the write lock) while PayPal is asked.
    async with runtime(request).database.transaction(write=False) as reader:
        product = await products.product_by_id(reader, product_id)
    if product is None:
        raise ValidationFailed(f"Unknown product '{product_id}' in item_number")
    settings = get_settings()
    url = paypal.verify_url(product, settings.paypal_ipn_verify_url)
    if not await paypal.is_genuine(raw, url, timeout_seconds=settings.paypal_timeout_seconds):
        raise paypal.not_verified()
    outcome = await paypal.apply_payment(_session(request), product, fields)
    content: dict[str, Any] = {"msg": outcome.message}
    if outcome.license is not None:
        content["key"] = outcome.license.key
    return answer(content)
