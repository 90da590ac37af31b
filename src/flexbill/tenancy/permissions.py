"""The permissions an API key can hold: ``<resource>:read``, ``<resource>:write``,
``admin`` (manage the business unit's API keys) and ``*`` (everything).

``write`` on a resource includes ``read`` on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from flexbill.core.errors import ErrorDetail, ValidationFailed

ALL = "*"
ADMIN = "admin"

RESOURCES = (
    "customers",
    "products",
    "orders",
    "subscriptions",
    "assets",
    "payments",
    "invoices",
    "billing-groups",
    "files",
    "webhooks",
    "events",
    "licenses",
    "usage",
    "plans",
    "credit-notes",
    "settings",
)

KNOWN = frozenset(
    [ALL, ADMIN]
    + [f"{resource}:{access}" for resource in RESOURCES for access in ("read", "write")]
)


def grants(held: Collection[str], wanted: str) -> bool:
    if ALL in held or wanted in held:
        return True
    resource, _, access = wanted.partition(":")
    return access == "read" and f"{resource}:write" in held


def validate(requested: Iterable[str], path: str = "permissions") -> list[str]:
    """The requested permissions, de-duplicated, or a VALIDATION_ERROR naming unknown ones."""
    unique = list(dict.fromkeys(requested))
    unknown = [p for p in unique if p not in KNOWN]
    if unknown:
        raise ValidationFailed(
            "Unknown permission",
            [
                ErrorDetail(
                    path=path, message=f"unknown permission '{p}'", code="invalid_enum_value"
                )
                for p in unknown
            ],
        )
    if not unique:
        raise ValidationFailed.field(path, "at least one permission is required", "too_small")
    return unique
