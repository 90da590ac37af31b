"""The /v1 error envelope and the mapping from domain error codes to HTTP statuses.

Every failure answers ``{"error": {"code", "message", "details"}}`` (seed 000), including
unknown routes, malformed JSON and unexpected server errors (which reveal no internals).

``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259), although Python's parser
reads them: a body holding one is malformed JSON like any other, refused before a route
sees it (``RejectNonFiniteNumbers``), so no field, typed or free-form (``customFields``),
ever stores a number that PostgreSQL's JSON and every later filter would choke on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from email.message import Message as ContentType
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flexbill.api.v1.guard import authenticate_caller
from flexbill.api.v1.responses import V1JSONResponse
from flexbill.core.errors import (
    Conflict,
    ErrorDetail,
    FlexbillError,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from flexbill.core.validation import detail_code

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "AUTH_REQUIRED": 401,
    "INVALID_TOKEN": 401,
    "NO_TENANT_ACCESS": 403,
    "INSUFFICIENT_PERMISSIONS": 403,
    "IP_NOT_ALLOWED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "VALIDATION_ERROR": 400,
    "RATE_LIMITED": 429,
    "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS": 409,
    "CUSTOMER_HAS_PENDING_ORDERS": 409,
    "ORDER_NOT_CANCELLABLE": 400,
    "DUPLICATE_SKU": 409,
    "INVALID_PRICING": 400,
    "INVALID_CSV": 400,
    "VARIANT_IN_USE": 409,
    "PRODUCT_HAS_ACTIVE_ORDERS": 409,
    "ASSET_EXISTS": 409,
    "ASSET_IN_USE": 409,
    "ASSET_NOT_FOUND": 404,
    "VARIANT_NOT_FOUND": 404,
    "CUSTOMER_NOT_FOUND": 404,
    "ORDER_NOT_FOUND": 404,
    "INVALID_CONTRACT_LENGTH": 400,
    "VARIANT_INACTIVE": 422,
    "ORDER_NOT_CONFIRMED": 422,
    "INVALID_ORDER_STATUS": 422,
    "INVALID_STATUS_TRANSITION": 422,
    "ASSET_NOT_AVAILABLE": 422,
    "ITEM_FULLY_FULFILLED": 409,
    "SKU_MISMATCH": 409,
    "SUBSCRIPTION_NOT_FOUND": 404,
    "BILLING_GROUP_NOT_FOUND": 404,
    "SUBSCRIPTION_NOT_ACTIVE": 422,
    "SUBSCRIPTION_DIFFERENT_CUSTOMER": 400,
    "SUBSCRIPTION_IN_ANOTHER_GROUP": 409,
    "INVALID_BILLING_DAY": 400,
    "INVALID_EXTENSION_MONTHS": 400,
    "MAX_EXTENSIONS_REACHED": 422,
    "EXTENSION_TOO_LATE": 422,
    "INVALID_BUYOUT_PRICE": 400,
    "LIST_PRICE_UNKNOWN": 422,
    "INVALID_FEE": 400,
    "ALREADY_CANCELLED": 409,
    "ALREADY_ENDED": 409,
    "ALREADY_PAID": 409,
    "PAYMENT_CANCELLED": 409,
    "PAYMENT_PROCESSING": 409,
    "INVALID_STATUS": 422,
    "NO_PAYMENT_METHOD": 422,
    "CONCURRENT_UPDATE": 409,
    "TEST_MODE_ONLY": 403,
    "CUSTOMER_HAS_TEST_CLOCK": 409,
    "WEBHOOK_ENDPOINT_NOT_FOUND": 404,
    "WEBHOOK_DELIVERY_NOT_FOUND": 404,
    "EVENT_NOT_FOUND": 404,
    "FILE_NOT_FOUND": 404,
    "FILE_LINK_INVALID": 403,
    "FILE_LINK_EXPIRED": 403,
    "TEMPLATE_NOT_FOUND": 404,
    "FILE_TOO_LARGE": 413,
    "UNSUPPORTED_FILE_TYPE": 415,
    "DELETE_FAILED": 500,
    "LICENSE_API_KEY_INVALID": 401,
    "LICENSE_NOT_FOUND": 404,
    "LICENSE_PRODUCT_NOT_FOUND": 404,
    "LICENSE_PRODUCT_KEY_NOT_FOUND": 404,
    "LICENSE_PRODUCT_TYPE": 400,
    "LICENSE_NOT_VERIFIED": 403,
    "LICENSE_REVOKED": 403,
    "INSUFFICIENT_BALANCE": 402,
    "NO_FREE_TRIAL": 400,
    "VALIDATION_LINK_INVALID": 404,
    "ACTIVATION_LIMIT_REACHED": 409,
    "ACTIVATION_NOT_FOUND": 404,
    "LICENSE_NOT_VALID": 422,
    "SIGNING_KEY_MISSING": 404,
    "PLAN_NOT_FOUND": 404,
    "PLAN_PRICE_NOT_FOUND": 404,
    "PLAN_NOT_AVAILABLE": 422,
    "PRICE_CURRENCY_MISSING": 422,
    "SUBSCRIPTION_ITEM_NOT_FOUND": 404,
    "CHANGE_ALREADY_SCHEDULED": 409,
    "USAGE_NOT_FOUND": 404,
    "USAGE_NOT_METERED": 422,
    "USAGE_PERIOD_CLOSED": 409,
    "USAGE_ID_CONFLICT": 409,
    "CREDIT_NOTE_NOT_FOUND": 404,
    "INVOICE_NOT_FOUND": 404,
    "CREDIT_EXCEEDS_INVOICE": 422,
    "CREDIT_NOTE_CANCELLED": 409,
    "INSUFFICIENT_CREDIT": 422,
    "REFUND_FAILED": 422,
    "INTERNAL_ERROR": 500,
}

_STATUS_BY_KIND: Sequence[tuple[type[FlexbillError], int]] = (
    (ValidationFailed, 400),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidState, 422),
)


FaceErrorRenderer = Callable[[int, str], Response]
"""How another face answers an error on its paths: ``render(status, message)``."""


def register_face(app: FastAPI, paths: Collection[str], render: FaceErrorRenderer) -> None:
    """Errors on ``paths`` (exact paths of another face) answer in that face's envelope,
    with the status this map gives their code."""
    faces: dict[str, FaceErrorRenderer] = app.state.__dict__.setdefault("error_faces", {})
    faces.update(dict.fromkeys(paths, render))


def _face_of(request: Request) -> FaceErrorRenderer | None:
    faces: dict[str, FaceErrorRenderer] = getattr(request.app.state, "error_faces", {})
    return faces.get(request.url.path)


def status_for(error: FlexbillError) -> int:
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for kind, status in _STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 400


def envelope(code: str, message: str, details: Sequence[ErrorDetail] = ()) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [{"path": d.path, "message": d.message, "code": d.code} for d in details],
        }
    }


def error_response(error: FlexbillError) -> V1JSONResponse:
    response = V1JSONResponse(
        envelope(error.code, error.message, error.details), status_code=status_for(error)
    )
    retry_after = error.data.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _detail(error: dict[str, Any]) -> ErrorDetail:
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header"):
        location = location[1:]
    kind = str(error.get("type", "invalid"))
    message = "Required" if kind == "missing" else str(error.get("msg", "Invalid value"))
    if kind == "json_invalid":
        message, location = "Request body is not valid JSON", []
    elif kind == "model_attributes_type" and not location:
        message = "Request body must be a JSON object sent with Content-Type: application/json"
    return ErrorDetail(path=".".join(location), message=message, code=detail_code(kind))


async def _on_flexbill_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, FlexbillError)
    face = _face_of(request)
    if face is not None:
        return face(status_for(error), error.message)
    return error_response(error)


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = [_detail(e) for e in error.errors()]
    face = _face_of(request)
    if face is not None:
        problems = "; ".join(f"{d.path or 'request'}: {d.message}" for d in details)
        return face(400, f"Invalid request ({problems})")
    malformed = any(d.code == "invalid_json" for d in details)
    if malformed:
        # FastAPI decodes the body before it runs the route's guard; authentication
        # errors must still come first, so check the caller now.
        try:
            await authenticate_caller(request)
        except FlexbillError as auth_error:
            return error_response(auth_error)
    message = "Request body is not valid JSON" if malformed else "Invalid request"
    return error_response(ValidationFailed(message, details))


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    face = _face_of(request)
    if face is not None:
        return face(
            error.status_code,
            f"{request.method} is not allowed on {request.url.path}"
            if error.status_code == 405
            else str(error.detail),
        )
    if error.status_code == 404:
        code, message = "NOT_FOUND", f"No route matches {request.method} {request.url.path}"
    elif error.status_code == 405:
        code, message = (
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed on {request.url.path}",
        )
    else:
        code, message = "HTTP_ERROR", str(error.detail)
    response = V1JSONResponse(envelope(code, message), status_code=error.status_code)
    if error.headers:
        response.headers.update(error.headers)
    return response


def internal_error_response(method: str, path: str, error: BaseException) -> V1JSONResponse:
    """A 500 that reveals nothing of the failure; the details go to the log."""
    log.error("unhandled error on %s %s", method, path, exc_info=error)
    return V1JSONResponse(
        envelope("INTERNAL_ERROR", "Internal server error; the request was not applied"),
        status_code=500,
    )


async def _on_unexpected_error(request: Request, error: Exception) -> Response:
    response = internal_error_response(request.method, request.url.path, error)
    face = _face_of(request)
    if face is not None:
        return face(500, "Internal server error; the request was not applied")
    return response


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(f"{name} is not a JSON number")


def _non_finite_number(body: bytes) -> str | None:
    """What makes a body that Python's JSON parser reads invalid JSON (``NaN`` is not a
    JSON number), or ``None``. Bodies without those words are not parsed here."""
    if b"NaN" not in body and b"Infinity" not in body:
        return None
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except _NonFiniteNumber as error:
        return str(error)
    except ValueError:
        return None  # malformed in another way: the route's own parser says so
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = ContentType()
            content_type["content-type"] = value.decode("latin-1")
            subtype = content_type.get_content_subtype()
            return content_type.get_content_maintype() == "application" and (
                subtype == "json" or subtype.endswith("+json")
            )
    return True  # FastAPI reads a body without a content type as JSON too


class RejectNonFiniteNumbers:
    """Answers a /v1 request whose JSON body holds ``NaN`` or ``±Infinity`` as malformed
    JSON (``VALIDATION_ERROR``, detail code ``invalid_json``), as FastAPI answers any other
    malformed body; every other request passes through with its body unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith("/v1/")
            or scope["method"] in ("GET", "HEAD", "OPTIONS")
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        more = True
        while more:
            message = await receive()
            messages.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        problem = _non_finite_number(body)
        if problem is not None:
            error = RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": problem, "input": {}}]
            )
            response = await _on_validation_error(Request(scope), error)
            await response(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(FlexbillError, _on_flexbill_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)
    # Inside the unit of work (added later, hence outside): the answer may authenticate
    # the caller, which needs the request's session.
    app.add_middleware(RejectNonFiniteNumbers)
