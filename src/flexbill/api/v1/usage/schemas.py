"""Usage record bodies of the /v1 face.

Request bodies are read here rather than by FastAPI, for two reasons: quantities are
decimals and must never pass through ``float`` (the body is parsed with JSON numbers as
``Decimal``), and a batch judges each record on its own, so that one malformed record is
reported at its position (``records.3.quantity``) while the others are stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from flexbill.api.v1.responses import V1Model
from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.validation import detail_code
from flexbill.usage.models import MAX_CLIENT_ID_LENGTH
from flexbill.usage.rules import MAX_NAME_LENGTH, QUANTITY_LIMIT, QUANTITY_PLACES, NewUsage
from flexbill.usage.service import MAX_BATCH, Outcome, Recorded
from flexbill.usage.views import UsageView

MAX_DESCRIPTION_LENGTH = 5000

Reference = Annotated[str, Field(min_length=1, max_length=100)]
Quantity = Annotated[
    Decimal,
    Field(
        description=f"Units used, at least 0 and below {QUANTITY_LIMIT:,}, at most "
        f"{QUANTITY_PLACES} decimal places; a JSON number (read exactly, never as a float) "
        "or a decimal string",
    ),
]
ClientId = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=MAX_CLIENT_ID_LENGTH,
        description="Your id of the record: sending it again is harmless (answered with the "
        "stored record); left out, the record's own id serves",
    ),
]
StatusName = Literal["pending", "processed"]


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(f"{name} is not a JSON number")


def read_json(body: bytes) -> Any:
    """A request body as JSON with every number with a fraction or exponent as ``Decimal``."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, _NonFiniteNumber
        message = "Request body is not valid JSON"
        detail = ErrorDetail(path="", message=str(error) or message, code="invalid_json")
        raise ValidationFailed(message, [detail]) from None


class UsageCreateBody(V1Model):
    """One usage record: the body of ``POST /v1/usage``, an element of a batch."""

    subscription_id: Reference
    item_id: Reference = Field(description="The subscription item (SubscriptionFlow's charge)")
    quantity: Quantity
    start_date: date
    end_date: date = Field(description="Not before `startDate`")
    id: ClientId = None
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)

    def to_domain(self) -> NewUsage:
        return NewUsage(
            subscription_id=self.subscription_id, item_id=self.item_id, quantity=self.quantity,
            start_date=self.start_date, end_date=self.end_date, client_id=self.id,
            name=self.name, description=self.description,
        )  # fmt: skip


def _joined(*parts: str | int) -> str:
    return ".".join(str(part) for part in parts if part != "")


def _problems(error: ValidationError, prefix: str) -> list[ErrorDetail]:
    details = []
    for problem in error.errors(include_url=False):
        path = _joined(prefix, *problem["loc"])
        kind = problem["type"]
        message = "Required" if kind == "missing" else problem["msg"]
        details.append(ErrorDetail(path=path, message=message, code=detail_code(kind)))
    return details


def new_usage(data: Any, prefix: str = "") -> NewUsage:
    """One record from its JSON, or ``VALIDATION_ERROR`` with the paths of its problems
    (under ``prefix``, a batch's ``records.<i>``)."""
    if not isinstance(data, dict):
        raise ValidationFailed.field(prefix, "A usage record is a JSON object", "invalid_type")
    try:
        return UsageCreateBody.model_validate(data).to_domain()
    except ValidationError as error:
        raise ValidationFailed("Invalid request", _problems(error, prefix)) from None


def batch_records(data: Any) -> list[Any]:
    """The ``records`` of a batch body, at most ``MAX_BATCH`` of them, not yet judged."""
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ValidationFailed.field("records", "records must be a list of usage records",
                                     "invalid_type")  # fmt: skip
    if len(records) > MAX_BATCH:
        raise ValidationFailed.field(
            "records", f"A batch holds at most {MAX_BATCH:,} records; got {len(records):,}",
            "too_big",
        )  # fmt: skip
    return records


class UsageBatchBody(V1Model):
    """The body of ``POST /v1/usage/batch`` (for the OpenAPI document; each record is
    judged on its own)."""

    records: list[UsageCreateBody] = Field(max_length=MAX_BATCH)


class UsageRecordBody(V1Model):
    id: str = Field(description="flexbill's id of the record (`usage_…`)")
    client_id: str = Field(description="The id you sent, or `id` when you sent none")
    customer_id: str
    subscription_id: str
    item_id: str
    name: str | None
    description: str | None
    quantity: Decimal
    start_date: date
    end_date: date
    status: StatusName = Field(description="`processed` once an invoice has rated it")
    invoice_id: str | None = Field(description="The invoice that rated it")
    created_at: datetime

    @classmethod
    def of(cls, view: UsageView) -> UsageRecordBody:
        return cls(
            id=view.id, client_id=view.client_id, customer_id=view.customer_id,
            subscription_id=view.subscription_id, item_id=view.item_id, name=view.name,
            description=view.description, quantity=view.quantity, start_date=view.start_date,
            end_date=view.end_date, status="processed" if view.status == "processed"
            else "pending", invoice_id=view.invoice_id, created_at=view.created_at,
        )  # fmt: skip


class UsageRecorded(V1Model):
    success: bool = True
    message: str
    duplicate: bool = Field(
        description="`true`: a record with this `id` and the same content was stored before; "
        "this is that record, and nothing new was stored"
    )
    usage_record: UsageRecordBody


class UsageAnswer(V1Model):
    success: bool = True
    usage_record: UsageRecordBody


class UsageList(V1Model):
    success: bool = True
    usage_records: list[UsageRecordBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class ErrorDetailBody(V1Model):
    path: str
    message: str
    code: str


class ErrorBody(V1Model):
    code: str
    message: str
    details: list[ErrorDetailBody]


class BatchResult(V1Model):
    index: int = Field(description="The record's position in `records`, from 0")
    status: Literal["created", "duplicate", "error"]
    usage_record: UsageRecordBody | None = Field(
        description="The stored record (`created`, `duplicate`)"
    )
    error: ErrorBody | None = Field(description="Why the record was refused (`error`)")


class UsageBatchAnswer(V1Model):
    success: bool = True
    created: int = Field(description="Records stored by this request")
    duplicates: int = Field(description="Records stored before under the same `id`")
    failed: int = Field(description="Records refused; each result says why")
    results: list[BatchResult]


# A batch answers up to a thousand records. Its JSON is built here directly, in the shape
# of ``UsageBatchAnswer`` (which documents it): through the response models, rendering
# took longer than storing the records (tests/usage/test_batch.py compares the two).


def record_json(view: UsageView) -> dict[str, Any]:
    """``UsageRecordBody.of(view)`` as JSON-ready values."""
    return {
        "id": view.id, "clientId": view.client_id, "customerId": view.customer_id,
        "subscriptionId": view.subscription_id, "itemId": view.item_id, "name": view.name,
        "description": view.description, "quantity": view.quantity,
        "startDate": view.start_date, "endDate": view.end_date, "status": view.status,
        "invoiceId": view.invoice_id, "createdAt": view.created_at,
    }  # fmt: skip


def _error_json(error: FlexbillError, prefix: str) -> dict[str, Any]:
    return {
        "code": error.code,
        "message": error.message,
        "details": [
            {"path": _joined(prefix, d.path), "message": d.message, "code": d.code}
            for d in error.details
        ],
    }


def batch_answer(outcomes: Sequence[Recorded | FlexbillError]) -> dict[str, Any]:
    """The answer to a batch: one result per record, in order. A ``FlexbillError`` is a
    record the face refused (its paths are complete); a ``Recorded`` what the domain did
    (its error's paths are the record's fields)."""
    results = []
    counts = {Outcome.CREATED: 0, Outcome.DUPLICATE: 0, Outcome.FAILED: 0}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, FlexbillError):
            kind, usage, error = Outcome.FAILED, None, _error_json(outcome, "")
        elif outcome.error is not None:
            kind, usage = Outcome.FAILED, None
            error = _error_json(outcome.error, f"records.{index}")
        else:
            assert outcome.usage is not None
            kind, usage, error = outcome.outcome, record_json(outcome.usage), None
        counts[kind] += 1
        results.append({"index": index, "status": kind.value, "usageRecord": usage, "error": error})
    return {
        "success": True, "created": counts[Outcome.CREATED],
        "duplicates": counts[Outcome.DUPLICATE], "failed": counts[Outcome.FAILED],
        "results": results,
    }  # fmt: skip
