"""Public identifiers: a resource prefix and a time-ordered random part (``cust_01j9…``).

The random part is 48 bits of milliseconds and 80 random bits in Crockford base32, so ids
sort roughly by creation time, which keeps primary-key inserts local in the index. Within
one process they sort exactly by creation: an id made in the same millisecond as the one
before it (or while the system clock steps back) continues from it, as monotonic ULIDs do.
"""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS = 80

_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the latest id


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _next_parts() -> tuple[int, int]:
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        last_millis, last_random = _last
        if millis > last_millis:
            parts = (millis, secrets.randbits(_RANDOM_BITS))
        elif last_random + 1 < 2**_RANDOM_BITS:
            parts = (last_millis, last_random + 1)
        else:  # 2**80 ids in one millisecond: borrow the next one
            parts = (last_millis + 1, secrets.randbits(_RANDOM_BITS))
        _last = parts
    return parts


def new_id(prefix: str) -> str:
    millis, random_part = _next_parts()
    return f"{prefix}_{_base32(millis, 10)}{_base32(random_part, 16)}"
