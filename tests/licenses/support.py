"""Helpers of the licensing tests: products with an API key, licenses, e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.licenses import products, service
from flexbill.licenses.models import License
from flexbill.licenses.products import ProductDraft
from flexbill.licenses.rules import ProductType
from flexbill.mail.models import OutgoingMail
from flexbill.tenancy.models import Tenant as TenantRow
from tests.support import Tenant


@dataclass(frozen=True)
class Product:
    id: str
    tenant_id: str
    api_key: str


async def tenant_id_of(database: Database, tenant: Tenant, mode: str = "live") -> str:
    async with database.transaction() as session:
        found = await session.scalar(
            select(TenantRow.id).where(
                TenantRow.business_unit_id == tenant.id, TenantRow.mode == mode
            )
        )
        assert found is not None
        return found


async def new_product(
    database: Database, tenant: Tenant, kind: ProductType, **settings: Any
) -> Product:
    tenant_id = await tenant_id_of(database, tenant)
    async with database.transaction() as session:
        product = await products.create_product(
            session, tenant_id, ProductDraft(name="Your Product", type=kind, **settings)
        )
        issued = await products.issue_key(session, tenant_id, product.id)
        return Product(id=product.id, tenant_id=tenant_id, api_key=issued.secret)


async def new_license(
    database: Database, product: Product, *, balance: int, verified: bool = True
) -> str:
    async with database.transaction() as session:
        row = await products.get_product(session, product.tenant_id, product.id)
        record = await service.issue_license(
            session, row, email="client@example.com", balance=balance, verified=verified
        )
        return record.key


async def license_row(database: Database, key: str) -> License:
    async with database.transaction() as session:
        found = await session.scalar(select(License).where(License.key == key))
        assert found is not None
        return found


async def mails_to(database: Database, recipient: str) -> list[OutgoingMail]:
    async with database.transaction() as session:
        rows = await session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.recipient == recipient)
            .order_by(OutgoingMail.created_at, OutgoingMail.id)
        )
        return list(rows)
