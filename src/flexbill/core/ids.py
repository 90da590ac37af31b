"""Public identifiers: a resource prefix and a time-ordered random part (``cust_01j9…``).

The random part is 48 bits of milliseconds and 80 random bits in Crockford base32, so ids
sort roughly by creation time, which keeps primary-key inserts local in the index.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"
