"""Whether a webhook URL points at a public address.

A multi-tenant install must not let one tenant's endpoint make the server call its own
loopback, the private network behind it or a cloud metadata address (server-side request
forgery). With ``FLEXBILL_WEBHOOK_PRIVATE_TARGETS=false`` such URLs are refused when an
endpoint is saved and again before every delivery (the name may resolve differently by
then). A name that does not resolve is not refused here: its delivery fails to connect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from flexbill.config import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: Address) -> bool:
    """Global unicast: not loopback, private, link-local, shared, reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


async def refusal(url: str) -> str | None:
    """Why ``url`` may not be called, or ``None`` when it may (always ``None`` while the
    server allows private targets)."""
    if get_settings().webhook_private_targets:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in await _resolve(host, port):
        if not is_public(address):
            return f"'{host}' resolves to {address}, which is not a public address"
    return None
