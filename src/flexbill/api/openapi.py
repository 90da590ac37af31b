"""The OpenAPI document: FastAPI's, plus what the faces' guards check by hand.

Authentication is read from headers in one dependency (see ``api/v1/guard.py``) rather than
through FastAPI security objects, so the schemes, the ``Idempotency-Key`` header and the
public operations are declared here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC_PATHS = frozenset({"/v1/health"})

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


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in schema["paths"].items():
                if path in PUBLIC_PATHS:
                    continue
                for method, operation in operations.items():
                    operation["security"] = [{"apiKey": [], "tenantId": []}]
                    if method == "post":
                        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
