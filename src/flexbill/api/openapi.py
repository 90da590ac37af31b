"""The OpenAPI document: FastAPI's, plus what the faces' guards check by hand.

Authentication is read from headers in one dependency (see ``api/v1/guard.py``) rather than
through FastAPI security objects, so the schemes, the ``Idempotency-Key`` header and the
public operations are declared here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC_PATHS = frozenset({"/v1/health", "/v1/files/{fileId}/content"})

SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "Your API key: `Authorization: Bearer pk_live_…` (or `pk_test_…`)",
    },
    "tenantId": {
        "type": "apiKey",
        "in": "header",
        "name": "Tenant-ID",
        "description": "Your business unit ID",
    },
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Repeat a POST safely: the same key with the same body replays the first "
    "response for 24 hours; with a different body it is refused with 409.",
}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "path": {"type": "string", "examples": ["billingAddress.city"]},
                            "message": {"type": "string"},
                            "code": {"type": "string", "examples": ["invalid_string"]},
                        },
                    },
                },
            },
        }
    },
}

_ERRORS = {
    "400": "VALIDATION_ERROR: the request is malformed; `details` names each field",
    "401": "AUTH_REQUIRED (no Authorization header) or INVALID_TOKEN",
    "403": "NO_TENANT_ACCESS, INSUFFICIENT_PERMISSIONS or IP_NOT_ALLOWED",
    "404": "NOT_FOUND: no such resource in this business unit and environment",
    "409": "A conflict with existing data (the code says which)",
    "422": "The resource's state does not allow this operation (the code says which)",
    "429": "RATE_LIMITED: retry after `Retry-After` seconds",
}


def _error_responses(public: bool) -> dict[str, Any]:
    statuses = ("400", "429") if public else tuple(_ERRORS)
    return {
        status: {
            "description": _ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components["securitySchemes"] = SECURITY_SCHEMES
            schemas = components.setdefault("schemas", {})
            schemas["Error"] = ERROR_SCHEMA
            # FastAPI's own validation error shape is never sent: errors use the envelope.
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            for path, operations in schema["paths"].items():
                public = path in PUBLIC_PATHS
                for method, operation in operations.items():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    responses.update(_error_responses(public))
                    if public:
                        continue
                    operation["security"] = [{"apiKey": [], "tenantId": []}]
                    if method == "post":
                        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
