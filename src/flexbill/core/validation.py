"""The codes of validation details, one vocabulary for every face and domain.

FlexPortal reports field problems with the codes of its validator (``invalid_type``,
``invalid_string``, ``too_small``, …); pydantic's error types are mapped onto them here so
that a request body and a settings patch describe the same problem the same way.
"""

from __future__ import annotations

from typing import Final

from flexbill.core.money import PRECISION_CODE

_BY_PYDANTIC_TYPE: Final = {
    "missing": "invalid_type",
    "finite_number": "invalid_type",
    "decimal_parsing": "invalid_type",
    "int_parsing": "invalid_type",
    "int_from_float": "invalid_type",
    "float_parsing": "invalid_type",
    "bool_parsing": "invalid_type",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
    "datetime_parsing": "invalid_date",
    "datetime_from_date_parsing": "invalid_date",
    "value_error": "invalid_string",
    "string_pattern_mismatch": "invalid_string",
    "string_too_short": "too_small",
    "too_short": "too_small",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "string_too_long": "too_big",
    "too_long": "too_big",
    "less_than": "too_big",
    "less_than_equal": "too_big",
    "decimal_max_places": PRECISION_CODE,
    "multiple_of": PRECISION_CODE,
    "enum": "invalid_enum_value",
    "literal_error": "invalid_enum_value",
    "json_invalid": "invalid_json",
    "extra_forbidden": "unrecognized_keys",
}


def detail_code(pydantic_type: str) -> str:
    """The detail code for one of pydantic's error types."""
    if pydantic_type in _BY_PYDANTIC_TYPE:
        return _BY_PYDANTIC_TYPE[pydantic_type]
    return "invalid_type" if pydantic_type.endswith("_type") else pydantic_type
