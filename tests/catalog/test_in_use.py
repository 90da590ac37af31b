"""Variant protection: a product whose variants are rented or ordered cannot be
discontinued (FlexPortal's ``VARIANT_IN_USE`` and ``PRODUCT_HAS_ACTIVE_ORDERS``), and no
upsert or import takes a rented variant out of use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from flexbill.catalog import errors
from flexbill.catalog.models import Product, Variant
from flexbill.core.db import Database
from tests.catalog.support import create_product, product, upload_csv, variant
from tests.orders.support import (
    CATALOG,
    create_catalog,
    exact,
    order_body,
    place,
    tenant_context,
)
from tests.subscriptions.support import LAPTOP, PHONE, confirmed_order, register, subscribe
from tests.support import Api, Tenant, error_code

CSV_HEADER = b"Product Name,Product SKU,Category,Brand,Specification,Variant SKU,12mo_Price\n"


async def _product(api: Api, sku: str = "LAPTOP-16") -> dict[str, Any]:
    found = (await api.get("/v1/products/variants", productSku=sku)).json()["variants"]
    response = await api.get(f"/v1/products/{found[0]['productId']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = exact(response)
    return body


def _statuses(product_body: dict[str, Any]) -> dict[str, str]:
    """The product's status and each variant's, by SKU."""
    statuses = {product_body["productSku"]: product_body["status"]}
    statuses.update({v["variantSku"]: v["status"] for v in product_body["variants"]})
    return statuses


ALL_ACTIVE = {"LAPTOP-16": "active", LAPTOP: "active", PHONE: "active"}
ALL_GONE = {"LAPTOP-16": "discontinued", LAPTOP: "inactive", PHONE: "inactive"}


async def _rent_one_laptop(api: Api) -> dict[str, Any]:
    """A confirmed order of two laptops with one of them rented: the order is partial."""
    order = await confirmed_order(api)
    await register(api, "SN-1")
    await subscribe(api, order, "SN-1")
    return order


async def test_a_rented_variant_keeps_its_product_from_being_discontinued(api: Api) -> None:
    await _rent_one_laptop(api)
    laptop = await _product(api)

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert response.status_code == 409
    assert error_code(response) == "VARIANT_IN_USE"
    message = response.json()["error"]["message"]
    assert message == (
        f"Variant '{LAPTOP}' has active subscriptions and cannot be deactivated; "
        "end or cancel those subscriptions first"
    )
    after = await _product(api)
    assert _statuses(after) == ALL_ACTIVE
    assert after["updatedAt"] == laptop["updatedAt"]


async def test_every_rented_variant_is_named(api: Api) -> None:
    items = [
        {"sku": LAPTOP, "quantity": 1, "contractLength": 12},
        {"sku": PHONE, "quantity": 1, "contractLength": 12},
    ]
    order = await confirmed_order(api, items=items)
    await register(api, "SN-L")
    await register(api, "SN-P", sku=PHONE)
    await subscribe(api, order, "SN-P")
    await subscribe(api, order, "SN-L")
    laptop = await _product(api)

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert response.status_code == 409
    assert error_code(response) == "VARIANT_IN_USE"
    assert response.json()["error"]["message"].startswith(
        f"Variants '{LAPTOP}', '{PHONE}' have active subscriptions"
    )
    assert _statuses(await _product(api)) == ALL_ACTIVE


async def test_an_upsert_leaving_out_a_rented_variant_keeps_it_active(api: Api) -> None:
    await _rent_one_laptop(api)
    laptop = await _product(api)
    only_phone = {**CATALOG, "variants": [CATALOG["variants"][1]]}

    put = await api.put(f"/v1/products/{laptop['productId']}", only_phone)
    post = await api.post("/v1/products", only_phone)

    assert (put.status_code, post.status_code) == (200, 200)
    assert [r["variantSku"] for r in put.json()["variantResults"]] == [PHONE]
    assert _statuses(await _product(api)) == ALL_ACTIVE


async def test_a_csv_row_of_a_rented_variant_updates_it_and_keeps_it_active(api: Api) -> None:
    await _rent_one_laptop(api)
    row = f"Laptop Pro 16,LAPTOP-16,Laptops,Acme,16-inch,{LAPTOP},54.99\n".encode()

    response = await upload_csv(api, CSV_HEADER + row)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["errors"]) == (0, 1, [])
    after = await _product(api)
    assert _statuses(after) == ALL_ACTIVE
    rented = next(v for v in after["variants"] if v["variantSku"] == LAPTOP)
    assert [(p["contractLength"], p["monthlyPrice"]) for p in rented["pricing"]] == [
        (12, Decimal("54.99"))
    ]


@pytest.mark.parametrize("confirm", [False, True], ids=["pending", "confirmed"])
async def test_an_open_order_keeps_its_product_from_being_discontinued(
    api: Api, confirm: bool
) -> None:
    await create_catalog(api)
    order = await place(api, order_body(items=[{"sku": PHONE, "quantity": 1}]))
    if confirm:
        confirmed = await api.post(f"/v1/orders/{order['orderId']}/confirm", None)
        assert confirmed.status_code == 200, confirmed.text
    laptop = await _product(api)

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert response.status_code == 409
    assert error_code(response) == "PRODUCT_HAS_ACTIVE_ORDERS"
    assert response.json()["error"]["message"] == (
        "Product 'LAPTOP-16' has pending, confirmed or partially fulfilled orders "
        f"({order['orderId']}); fulfil or cancel them first"
    )
    assert _statuses(await _product(api)) == ALL_ACTIVE


async def test_a_refusal_names_at_most_five_open_orders(api: Api) -> None:
    await create_catalog(api)
    placed = [await place(api, order_body(f"buyer{n}@example.com")) for n in range(6)]
    laptop = await _product(api)

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert error_code(response) == "PRODUCT_HAS_ACTIVE_ORDERS"
    named = sorted(order["orderId"] for order in placed)[:5]
    assert f"({', '.join(named)}, …)" in response.json()["error"]["message"]


async def test_a_cancelled_order_no_longer_keeps_its_product(api: Api) -> None:
    await create_catalog(api)
    order = await place(api)
    cancelled = await api.post(f"/v1/orders/{order['orderId']}/cancel", {"reason": "Changed mind"})
    assert cancelled.status_code == 200, cancelled.text
    laptop = await _product(api)

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert response.status_code == 200, response.text
    assert response.json()["product"]["status"] == "discontinued"
    assert _statuses(await _product(api)) == ALL_GONE


async def test_rentals_and_orders_of_another_product_do_not_keep_this_one(api: Api) -> None:
    await _rent_one_laptop(api)
    await place(api, order_body("other@example.com", items=[{"sku": PHONE, "quantity": 1}]))
    tablet = await create_product(api, product("TAB-1", variant("TAB-1-A"), variant("TAB-1-B")))

    response = await api.delete(f"/v1/products/{tablet['productId']}")

    assert response.status_code == 200, response.text
    after = await _product(api, "TAB-1")
    assert _statuses(after) == {
        "TAB-1": "discontinued",
        "TAB-1-A": "inactive",
        "TAB-1-B": "inactive",
    }
    assert _statuses(await _product(api)) == ALL_ACTIVE


async def test_a_product_discontinued_before_its_rental_started_can_be_deleted_again(
    api: Api, database: Database, tenant: Tenant
) -> None:
    # Data written before variant protection existed: a discontinued product whose variant
    # is still rented. Deleting it again changes nothing, so it is not refused.
    await _rent_one_laptop(api)
    laptop = await _product(api)
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await session.execute(
            update(Product)
            .where(Product.tenant_id == ctx.tenant_id, Product.id == laptop["productId"])
            .values(status="discontinued")
        )
        await session.execute(
            update(Variant)
            .where(Variant.tenant_id == ctx.tenant_id, Variant.product_id == laptop["productId"])
            .values(status="inactive")
        )

    response = await api.delete(f"/v1/products/{laptop['productId']}")

    assert response.status_code == 200, response.text
    assert _statuses(await _product(api)) == ALL_GONE


@pytest.mark.parametrize(
    ("skus", "message"),
    [
        (["A-1"], "Variant 'A-1' has active subscriptions and cannot be deactivated"),
        (
            ["A-1", "B-2"],
            "Variants 'A-1', 'B-2' have active subscriptions and cannot be deactivated",
        ),
    ],
)
def test_variant_in_use_names_the_skus(skus: list[str], message: str) -> None:
    error = errors.variant_in_use(skus)
    assert (error.code, error.message) == (
        "VARIANT_IN_USE",
        f"{message}; end or cancel those subscriptions first",
    )
