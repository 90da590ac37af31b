"""JSON rendering for the /v1 face.

Amounts are ``Decimal`` in response models and are written as JSON numbers digit for digit
(``49.99``), never through ``float``. Times are RFC 3339 in UTC with a ``Z``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, WithJsonSchema
from pydantic.alias_generators import to_camel
from starlette.responses import Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f").encode())
    raise TypeError(f"cannot serialize {type(value).__name__}")


Amount = Annotated[
    Decimal,
    WithJsonSchema({"type": "number", "description": "Amount in major units, exact"}),
]
"""A money amount on the wire: a JSON number written digit for digit (``49.99``)."""


class V1JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=_OPTIONS)


class V1Model(BaseModel):
    """Base of every /v1 request and response model: camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def respond(model: BaseModel, status_code: int = 200) -> V1JSONResponse:
    return V1JSONResponse(model.model_dump(by_alias=True), status_code=status_code)
