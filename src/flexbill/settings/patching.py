"""Changing settings with a partial document, as JSON Merge Patch (RFC 7386) defines it.

Objects merge key by key, lists and scalars replace, and ``null`` removes a key, which
here means the field returns to its default. The merged document is then validated as a
whole, so a patch is judged by the settings it produces (``billing_cycle.type`` set to
``fixed_day`` needs a ``day_of_month``, whether the patch sent one or an earlier patch did).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from flexbill.core.errors import ErrorDetail, ValidationFailed
from flexbill.core.validation import detail_code
from flexbill.settings.rules import READ_ONLY, BusinessSettings


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` with ``patch`` applied (RFC 7386); neither argument is changed."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            below = merged.get(key)
            merged[key] = merge_patch(below if isinstance(below, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged


def apply_patch(current: BusinessSettings, patch: Mapping[str, Any]) -> BusinessSettings:
    """The settings ``patch`` turns ``current`` into, or a ``VALIDATION_ERROR`` naming every
    problem of the result. ``updated_at`` is carried over; the caller sets the new one."""
    _refuse_read_only(patch)
    merged = merge_patch(current.document(), patch)
    try:
        return BusinessSettings.from_document(
            merged, currency=current.currency, updated_at=current.updated_at
        )
    except ValidationError as error:
        raise ValidationFailed(
            "Invalid settings", [_detail(problem) for problem in error.errors()]
        ) from None


def _refuse_read_only(patch: Mapping[str, Any]) -> None:
    problems = [
        ErrorDetail(path=name, message=message, code="read_only")
        for name, message in READ_ONLY.items()
        if name in patch
    ]
    if problems:
        message = problems[0].message if len(problems) == 1 else "Read-only settings sent"
        raise ValidationFailed(message, problems)


def _detail(problem: ErrorDetails) -> ErrorDetail:
    location = [str(part) for part in problem["loc"]]
    field = (problem.get("ctx") or {}).get("field")
    if field:
        location.append(str(field))
    kind = problem["type"]
    if kind == "extra_forbidden":
        message = "Unknown field"
    elif kind == "missing":
        message = "Required"
    else:
        message = problem["msg"]
    code = detail_code(kind)
    return ErrorDetail(path=".".join(location), message=message, code=code)
