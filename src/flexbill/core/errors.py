"""Domain errors carry a stable code, a message and details, never an HTTP status.

Each API face maps codes to its own status and envelope (see ``flexbill.api.v1.errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One problem with one input field; ``path`` is dotted (``billingAddress.city``)."""

    path: str
    message: str
    code: str


@dataclass
class FlexbillError(Exception):
    code: str
    message: str
    details: Sequence[ErrorDetail] = field(default_factory=tuple)
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")


class NotFound(FlexbillError):
    def __init__(self, what: str, identifier: str) -> None:
        super().__init__("NOT_FOUND", f"{what} '{identifier}' not found")


class ValidationFailed(FlexbillError):
    def __init__(self, message: str, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__("VALIDATION_ERROR", message, tuple(details))

    @classmethod
    def field(cls, path: str, message: str, code: str = "invalid") -> ValidationFailed:
        return cls("Invalid request", [ErrorDetail(path=path, message=message, code=code)])


class Conflict(FlexbillError):
    """A request that contradicts existing state; ``code`` says which rule it broke."""


class InvalidState(FlexbillError):
    """An operation the resource's current status does not allow."""
