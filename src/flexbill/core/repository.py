"""Tenant-scoped access to a table: the choke point that keeps tenants apart.

Every statement a repository builds is already filtered by ``tenant_id``; an id supplied
by a client is only ever resolved through ``get``, so another tenant's row is simply
``NOT_FOUND``, never a leak and never a 403.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from flexbill.core.errors import NotFound


class TenantRow(Protocol):
    tenant_id: Any
    id: Any


M = TypeVar("M", bound=TenantRow)


class TenantRepository(Generic[M]):
    model: type[M]
    noun: str = "Resource"

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _column(self, name: str) -> InstrumentedAttribute[str]:
        column: InstrumentedAttribute[str] = getattr(self.model, name)
        return column

    def select(self) -> Select[M]:
        return select(self.model).where(self._column("tenant_id") == self.tenant_id)

    async def find(self, row_id: str, *, for_update: bool = False) -> M | None:
        # The primary key is (tenant_id, id): a lookup by key cannot leave the tenant, and
        # the ORM's cached by-key load is much cheaper than building a statement.
        return await self.session.get(
            self.model, (self.tenant_id, row_id), with_for_update=for_update or None
        )

    async def get(self, row_id: str, *, for_update: bool = False) -> M:
        row = await self.find(row_id, for_update=for_update)
        if row is None:
            raise NotFound(self.noun, row_id)
        return row

    def add(self, row: M) -> M:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row
