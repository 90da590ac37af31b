"""What an API key grants, cached in the API process for a few seconds.

Authenticating every request against the database costs more than the request itself. A
grant read from the database is therefore reused for ``ttl`` seconds. Expiry is still checked
on every request; a revocation made through this process's API is seen at once, one made
elsewhere (another process, the CLI) within ``ttl`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flexbill.core import clock


@dataclass(frozen=True)
class KeyGrant:
    key_id: str
    tenant_id: str
    business_unit_id: str
    mode: str
    region: str
    currency: str
    permissions: frozenset[str]
    tier: str
    allowed_ips: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool


class KeyCache:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        self._grants: dict[str, tuple[datetime, KeyGrant]] = {}

    def get(self, digest: str) -> KeyGrant | None:
        if not self._ttl:
            return None
        cached = self._grants.get(digest)
        if cached is None:
            return None
        read_at, grant = cached
        if clock.now() - read_at >= self._ttl:
            del self._grants[digest]
            return None
        return grant

    def put(self, digest: str, grant: KeyGrant) -> None:
        if self._ttl:
            self._grants[digest] = (clock.now(), grant)

    def forget(self, key_id: str) -> None:
        for digest in [d for d, (_, g) in self._grants.items() if g.key_id == key_id]:
            del self._grants[digest]
