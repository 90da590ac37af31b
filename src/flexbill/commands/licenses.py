"""`flexbill licenses …`: license products, their API keys and licenses of a business
unit, in its live or test environment. Each command is one transaction."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.commands.support import (
    JsonFlag,
    Mode,
    ModeOption,
    TenantOption,
    in_transaction,
    print_data,
    print_rows,
)
from flexbill.core.pagination import PageRequest
from flexbill.licenses import products, service
from flexbill.licenses.models import LicenseProduct
from flexbill.licenses.products import ProductDraft
from flexbill.licenses.rules import ProductType
from flexbill.tenancy import service as tenancy

app = typer.Typer(help="License products and licenses.", no_args_is_help=True)
product_app = typer.Typer(help="License products.", no_args_is_help=True)
key_app = typer.Typer(help="API keys of a license product.", no_args_is_help=True)
app.add_typer(product_app, name="products")
app.add_typer(key_app, name="keys")


async def _tenant_id(session: AsyncSession, tenant: str, mode: Mode) -> str:
    return (await tenancy.environment_context(session, tenant, mode.value)).tenant_id


def _product_data(product: LicenseProduct) -> dict[str, Any]:
    return {
        "id": product.id, "name": product.name, "type": product.type, "unit": product.unit,
        "isTest": product.is_test,
    }  # fmt: skip


@product_app.command("add")
def add_product(
    name: Annotated[str, typer.Argument(help="The product's name.")],
    kind: Annotated[ProductType, typer.Option("--type", help="The FlexLicense product type.")],
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    unit: Annotated[str | None, typer.Option(help="Credit label or currency code.")] = None,
    free_trial: Annotated[int, typer.Option(help="Trial balance (minor units).")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Create a license product (settings beyond these: PATCH /v1/license-products)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant_id = await _tenant_id(session, tenant, mode)
        draft = ProductDraft(name=name, type=kind, unit=unit, free_trial=free_trial)
        return _product_data(await products.create_product(session, tenant_id, draft))

    print_data(in_transaction(work), as_json)


@product_app.command("list")
def list_products(
    tenant: TenantOption, mode: ModeOption = Mode.LIVE, as_json: JsonFlag = False
) -> None:
    """List the environment's license products, newest first (at most 100)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        tenant_id = await _tenant_id(session, tenant, mode)
        page = await products.list_products(session, tenant_id, PageRequest(limit=100))
        return [_product_data(product) for product in page.items]

    def line(row: dict[str, Any]) -> str:
        return f"{row['id']}  {row['type']}  {row['unit']}  {row['name']}"

    print_rows("licenseProducts", in_transaction(work), as_json, line)


@key_app.command("issue")
def issue_key(
    product_id: str, tenant: TenantOption, mode: ModeOption = Mode.LIVE, as_json: JsonFlag = False
) -> None:
    """Issue an API key of a product; the key is printed once."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant_id = await _tenant_id(session, tenant, mode)
        issued = await products.issue_key(session, tenant_id, product_id)
        return {"id": issued.record.id, "key": issued.secret}

    print_data(in_transaction(work), as_json)


@key_app.command("revoke")
def revoke_key(
    product_id: str,
    key_id: str,
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API key of a product."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant_id = await _tenant_id(session, tenant, mode)
        key = await products.revoke_key(session, tenant_id, product_id, key_id)
        return {"id": key.id, "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None}

    print_data(in_transaction(work), as_json)


@app.command("list")
def list_licenses(
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    product: Annotated[str | None, typer.Option(help="Only this product's licenses.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List licenses, newest first (at most 100)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        tenant_id = await _tenant_id(session, tenant, mode)
        page = await service.list_licenses(
            session, tenant_id, PageRequest(limit=100), product_id=product
        )
        return [
            {"id": r.id, "productId": r.product_id, "key": r.key, "email": r.email,
             "balance": r.balance, "verified": r.verified}
            for r in page.items
        ]  # fmt: skip

    def line(row: dict[str, Any]) -> str:
        return f"{row['id']}  {row['key']}  {row['email']}  {row['balance']}"

    print_rows("licenses", in_transaction(work), as_json, line)
