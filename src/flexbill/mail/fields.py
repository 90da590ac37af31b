"""The values a template accepts, checked and turned into the text the e-mail shows.

Callers are other parts of flexbill, so a value of the wrong kind is a programming error
(``ValueError``), never a client's mistake. Amounts are ``Decimal`` major units (what
``flexbill.core.money.to_major`` gives), never ``int`` (minor or major?) nor ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flexbill.core.money import decimal_places, exponent


class Kind(StrEnum):
    TEXT = "text"  # any non-blank text
    CURRENCY = "currency"  # ISO 4217 code; templates with an amount name it "currency"
    AMOUNT = "amount"  # Decimal major units, shown with the currency: "71.39 EUR"
    NUMBER = "number"  # int or Decimal (a balance): "1,250"
    DATE = "date"  # date, aware datetime, or the ISO 8601 text of one
    URL = "url"  # an absolute http(s) URL


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = True


def optional(name: str, kind: Kind = Kind.TEXT) -> Field:
    return Field(name, kind, required=False)


def formatted(template: str, fields: Sequence[Field], data: Mapping[str, Any]) -> dict[str, str]:
    """The display text of each field given in ``data`` (an optional field given as
    ``None`` counts as absent). Raises ``ValueError`` for a missing required field, a field
    the template does not know, or a value of the wrong kind."""
    known = {field.name for field in fields}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"e-mail {template!r} has no field {unknown}; its fields: {sorted(known)}")
    missing = [f.name for f in fields if f.required and data.get(f.name) is None]
    if missing:
        raise ValueError(f"e-mail {template!r} needs {missing}")
    shown: dict[str, str] = {}
    for field in fields:
        value = data.get(field.name)
        if value is None or field.kind is Kind.AMOUNT:
            continue
        shown[field.name] = _shown(template, field, value)
    for field in fields:
        if field.kind is Kind.AMOUNT and data.get(field.name) is not None:
            currency = shown.get("currency")
            if currency is None:
                raise ValueError(f"e-mail {template!r} shows {field.name!r} without a currency")
            shown[field.name] = _amount(template, field.name, data[field.name], currency)
    return shown


def _shown(template: str, field: Field, value: Any) -> str:
    where = f"e-mail {template!r} field {field.name!r}"
    if field.kind is Kind.TEXT:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where} must be non-blank text, not {value!r}")
        return "\n".join(value.strip().splitlines())  # one kind of line break: \n
    if field.kind is Kind.CURRENCY:
        if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
            raise ValueError(f"{where} must be an ISO 4217 code like 'EUR', not {value!r}")
        return value.upper()
    if field.kind is Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError(f"{where} must be an int or a Decimal, not {value!r}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{where} must be a finite number, not {value!r}")
        return format(value, ",")
    if field.kind is Kind.DATE:
        return _date(where, value)
    return _url(where, value)


def _amount(template: str, name: str, value: Any, currency: str) -> str:
    where = f"e-mail {template!r} field {name!r}"
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{where} must be a finite Decimal of major units, not {value!r}")
    digits = exponent(currency)
    if decimal_places(value) > digits:
        raise ValueError(f"{where}: {value} has more decimals than {currency} has")
    return f"{value.quantize(Decimal(1).scaleb(-digits)):,} {currency}"


def _date(where: str, value: Any) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where} must be an ISO 8601 date or time, not {value!r}") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{where} must be timezone-aware, not {value!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError(f"{where} must be a date or a datetime, not {value!r}")


def _url(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a URL, not {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or value != "".join(value.split()):
        raise ValueError(f"{where} must be an absolute http(s) URL, not {value!r}")
    return value
