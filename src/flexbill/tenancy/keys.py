"""API key format: ``pk_<mode>_<region>_<secret>`` (FlexPortal shows ``pk_live_nl_…``).

The mode in the prefix lets a reader tell live keys from test keys at a glance.
"""

from __future__ import annotations

import hashlib
import secrets
import string

_SECRET_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 32  # 32 base62 characters ≈ 190 bits
DISPLAY_PREFIX_LENGTH = 16


def generate(mode: str, region: str) -> str:
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(_SECRET_LENGTH))
    return f"pk_{mode}_{region}_{secret}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
