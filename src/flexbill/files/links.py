"""Signed, expiring links to a file's content. Pure: the key and the time are given.

A link names the tenant, the file, its expiry (Unix seconds) and how a browser should
show it, and carries an HMAC-SHA256 of those with the server's secret. Whoever holds it
may read the file until it expires, without an API key; changing any part of it breaks
the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlencode

from flexbill.files.errors import link_expired, link_invalid

MIN_MINUTES = 1
MAX_MINUTES = 1440
DEFAULT_MINUTES = 60


class Disposition(StrEnum):
    INLINE = "inline"  # shown in the browser ("view")
    ATTACHMENT = "attachment"  # saved as a file ("download")


DISPOSITION_OF_ACTION = {"view": Disposition.INLINE, "download": Disposition.ATTACHMENT}


@dataclass(frozen=True)
class Link:
    tenant_id: str
    file_id: str
    expires: int  # Unix seconds
    disposition: Disposition

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def new_link(
    tenant_id: str, file_id: str, disposition: Disposition, *, now: datetime, minutes: int
) -> Link:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValueError(f"a link lasts {MIN_MINUTES}–{MAX_MINUTES} minutes, not {minutes}")
    expires = int((now + timedelta(minutes=minutes)).timestamp())
    return Link(tenant_id, file_id, expires, disposition)


def signature(key: bytes, link: Link) -> str:
    message = "\n".join(
        ("file-content", link.tenant_id, link.file_id, str(link.expires), link.disposition)
    )
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def url(public_url: str, key: bytes, link: Link) -> str:
    query = urlencode(
        {
            "tenant": link.tenant_id,
            "expires": link.expires,
            "disposition": link.disposition.value,
            "signature": signature(key, link),
        }
    )
    return f"{public_url.rstrip('/')}/v1/files/{quote(link.file_id, safe='')}/content?{query}"


def verify(key: bytes, link: Link, given_signature: str, *, now: datetime) -> None:
    """Pass, or raise ``FILE_LINK_INVALID`` (altered; checked first, so that an altered
    expiry is never reported as expired) or ``FILE_LINK_EXPIRED``."""
    if not hmac.compare_digest(signature(key, link).encode(), given_signature.encode()):
        raise link_invalid()
    if now.timestamp() >= link.expires:
        raise link_expired()
