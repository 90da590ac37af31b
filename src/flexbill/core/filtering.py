"""The one filter language of the lists: query parameters mapped to conditions.

A list declares the parameters it understands (``FilterSet``); each parameter parses its
text and yields a SQL condition, or a ``VALIDATION_ERROR`` that names the parameter.
Resources with custom fields also accept ``customField_<name>=<value>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

from flexbill.core.errors import ErrorDetail, ValidationFailed

CUSTOM_FIELD_PREFIX = "customField_"
_CUSTOM_FIELD_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

Condition = ColumnElement[bool]


class JsonFieldText(FunctionElement[str]):
    """A JSON object's field as text, the same on both databases: strings as they are,
    numbers in JSON notation, booleans as ``true``/``false`` (SQLite's ``json_extract``
    alone would give 1/0). The field name is a bound parameter."""

    type = String()
    inherit_cache = True
    name = "json_field_text"


@compiles(JsonFieldText, "postgresql")
def _json_field_text_postgresql(element: JsonFieldText, compiler: Any, **kw: Any) -> str:
    column, field = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} ->> {field})"


@compiles(JsonFieldText, "sqlite")
def _json_field_text_sqlite(element: JsonFieldText, compiler: Any, **kw: Any) -> str:
    column, field = (compiler.process(clause, **kw) for clause in element.clauses)
    path = f"'$.\"' || {field} || '\"'"
    return (
        f"CASE json_type({column}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({column}, {path}) AS TEXT) END"
    )


class FilterValueError(ValueError):
    """Raised by a filter's parser; the message is shown to the client."""

    def __init__(self, message: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Filter:
    name: str
    condition: Callable[[str], Condition]


def equals(
    name: str, column: InstrumentedAttribute[Any], normalize: Callable[[str], Any] = str
) -> Filter:
    """Exact match; ``normalize`` brings the text into the form the column stores."""
    return Filter(name, lambda value: column == normalize(value))


def one_of(name: str, column: InstrumentedAttribute[Any], allowed: Collection[str]) -> Filter:
    def condition(value: str) -> Condition:
        if value not in allowed:
            raise FilterValueError(
                f"{name} must be one of: {', '.join(allowed)}", "invalid_enum_value"
            )
        return column == value

    return Filter(name, condition)


def boolean(name: str, when_true: Condition, when_false: Condition) -> Filter:
    def condition(value: str) -> Condition:
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return when_true
        if lowered in ("false", "0"):
            return when_false
        raise FilterValueError(f"{name} must be true or false", "invalid_type")

    return Filter(name, condition)


class FilterSet:
    def __init__(
        self, *filters: Filter, custom_fields: InstrumentedAttribute[Any] | None = None
    ) -> None:
        self._filters = {f.name: f for f in filters}
        self._custom_fields = custom_fields

    def apply(self, statement: Select[Any], params: Mapping[str, str]) -> Select[Any]:
        """Add a condition for every known parameter; unknown parameters are ignored."""
        problems: list[ErrorDetail] = []
        for name, value in params.items():
            try:
                condition = self._condition(name, value)
            except FilterValueError as error:
                problems.append(ErrorDetail(path=name, message=str(error), code=error.code))
                continue
            if condition is not None:
                statement = statement.where(condition)
        if problems:
            raise ValidationFailed("Invalid query parameters", problems)
        return statement

    def _condition(self, name: str, value: str) -> Condition | None:
        known = self._filters.get(name)
        if known is not None:
            return known.condition(value)
        if self._custom_fields is not None and name.startswith(CUSTOM_FIELD_PREFIX):
            field = name[len(CUSTOM_FIELD_PREFIX) :]
            if not _CUSTOM_FIELD_NAME.match(field):
                raise FilterValueError("custom field names use letters, digits, _ and -")
            return JsonFieldText(self._custom_fields, literal(field)) == value
        return None
