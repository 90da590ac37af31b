"""The files' own error codes. Faces map them to statuses (for /v1: ``api/v1/errors.py``)."""

from __future__ import annotations

from flexbill.core.errors import FlexbillError


def file_not_found(file_id: str) -> FlexbillError:
    return FlexbillError("FILE_NOT_FOUND", f"File '{file_id}' not found")


def customer_not_found(customer_id: str) -> FlexbillError:
    return FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{customer_id}' not found")


def template_not_found(template: str, known: tuple[str, ...]) -> FlexbillError:
    return FlexbillError(
        "TEMPLATE_NOT_FOUND",
        f"No contract template '{template}'; templates: {', '.join(known)}",
    )


def file_too_large(limit: int) -> FlexbillError:
    return FlexbillError("FILE_TOO_LARGE", f"Files may be at most {limit} bytes")


def unsupported_file_type(allowed: tuple[str, ...]) -> FlexbillError:
    return FlexbillError(
        "UNSUPPORTED_FILE_TYPE",
        f"The file's content is not one of the accepted types: {', '.join(allowed)}",
    )


def delete_failed(file_id: str) -> FlexbillError:
    return FlexbillError(
        "DELETE_FAILED", f"The storage refused to delete file '{file_id}'; nothing was deleted"
    )


class LinkRefused(FlexbillError):
    """A file link that does not open: altered, or past its expiry."""


def link_invalid() -> LinkRefused:
    return LinkRefused("FILE_LINK_INVALID", "This file link is not valid")


def link_expired() -> LinkRefused:
    return LinkRefused("FILE_LINK_EXPIRED", "This file link has expired; ask for a new one")
