"""Every product operation of the /v1 face, as a FlexPortal client would call it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from flexbill.core.db import Database
from tests.catalog.support import all_products, create_product, pricing, product, variant
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

PRODUCT_FIELDS = {
    "productId", "tenantId", "productSku", "name", "specification", "category", "brand",
    "description", "images", "status", "variants", "_sync", "createdAt", "updatedAt",
}  # fmt: skip
VARIANT_FIELDS = {
    "variantId", "productId", "productSku", "variantSku", "variantName", "grade", "condition",
    "colorName", "images", "listPrice", "acquisitionCost", "currency", "pricing", "status",
    "createdAt", "updatedAt",
}  # fmt: skip


def _details(response: httpx.Response) -> list[str]:
    return [detail["path"] for detail in response.json()["error"]["details"]]


async def test_create_answers_the_upsert_result(api: Api) -> None:
    response = await api.post("/v1/products", product("IPH-15", variant("A1"), variant("A2")))
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["productId"].startswith("prod_")
    assert (body["productSku"], body["operation"]) == ("IPH-15", "created")
    assert body["variantResults"] == [
        {"variantSku": "A1", "operation": "create"},
        {"variantSku": "A2", "operation": "create"},
    ]


async def test_get_returns_the_product_object(api: Api) -> None:
    discount = {"type": "percentage", "value": 12.5, "description": "Launch"}
    body = product(
        "IPH-15",
        variant(
            "IPH-15-BLK-A", condition="Like New", colorName="Black", images=["https://x/1.png"],
            listPrice=999, acquisitionCost=700.5,
            pricing=[
                pricing(24, 39.99, setupFee=19, discount=discount, source="suggested",
                        calculatedAt="2025-01-15T10:30:00Z", presetUsed="Electronics"),
                pricing(12, 49.99),
            ],
        ),
        description="The phone", images=["https://x/p.png"],
    )  # fmt: skip
    created = await create_product(api, body)
    assert set(created) == PRODUCT_FIELDS
    assert created["tenantId"] == api.headers["Tenant-ID"]
    assert (created["status"], created["description"], created["images"]) == (
        "active",
        "The phone",
        ["https://x/p.png"],
    )
    assert created["_sync"] == {
        "source": "manual", "externalId": None, "lastSyncedAt": None, "syncStatus": "synced",
        "syncError": None, "readOnlyFields": [],
    }  # fmt: skip
    assert created["createdAt"].endswith("Z")
    assert created["createdAt"] == created["updatedAt"]
    [stored] = created["variants"]
    assert set(stored) == VARIANT_FIELDS
    assert (stored["productId"], stored["productSku"]) == (created["productId"], "IPH-15")
    assert stored["variantId"].startswith("var_")
    assert (stored["grade"], stored["condition"], stored["colorName"]) == ("A", "Like New", "Black")
    assert (stored["listPrice"], stored["acquisitionCost"], stored["currency"]) == (
        999,
        700.5,
        "EUR",
    )
    assert stored["status"] == "active"
    assert stored["pricing"] == [  # ordered by contract length
        {"contractLength": 12, "monthlyPrice": 49.99, "setupFee": 0, "discount": None,
         "source": None, "calculatedAt": None, "presetUsed": None},
        {"contractLength": 24, "monthlyPrice": 39.99, "setupFee": 19, "discount": discount,
         "source": "suggested", "calculatedAt": "2025-01-15T10:30:00Z",
         "presetUsed": "Electronics"},
    ]  # fmt: skip


async def test_money_is_written_digit_for_digit(api: Api) -> None:
    body = product(
        "P",
        variant("V", listPrice="1299.90", pricing=[pricing(12, 49.99, setupFee=0.1)]),
    )
    created = await create_product(api, body)
    text = (await api.get(f"/v1/products/{created['productId']}")).text
    assert '"monthlyPrice":49.99,' in text
    assert '"listPrice":1299.90,' in text
    assert '"setupFee":0.10,' in text


async def test_zero_decimal_currency(client: httpx.AsyncClient, database: Database) -> None:
    yen = await new_tenant(database, currency="JPY")
    api = Api(client, key=yen.live_key, tenant_id=yen.id)
    ok = await api.post("/v1/products", product("P", variant("V", pricing=[pricing(12, 5000)])))
    assert ok.status_code == 201
    text = (await api.get(f"/v1/products/{ok.json()['productId']}")).text
    assert '"monthlyPrice":5000,' in text
    bad = await api.post("/v1/products", product("Q", variant("W", pricing=[pricing(12, 49.5)])))
    assert error_code(bad) == "INVALID_PRICING"


async def test_posting_the_same_sku_again_updates(api: Api) -> None:
    first = await api.post("/v1/products", product("IPH-15", variant("A1"), variant("A2")))
    assert first.status_code == 201
    again = await api.post(
        "/v1/products",
        product(
            "IPH-15",
            variant("A2", variantName="Midnight", pricing=[pricing(36, 29.99)]),
            variant("A3"),
            name="iPhone 15 (2023)",
        ),
    )
    assert again.status_code == 200
    body = again.json()
    assert (body["productId"], body["operation"]) == (first.json()["productId"], "updated")
    assert body["variantResults"] == [
        {"variantSku": "A2", "operation": "update"},
        {"variantSku": "A3", "operation": "create"},
    ]
    stored = (await api.get(f"/v1/products/{body['productId']}")).json()
    assert stored["name"] == "iPhone 15 (2023)"
    assert stored["updatedAt"] > stored["createdAt"]
    by_sku = {v["variantSku"]: v for v in stored["variants"]}
    assert set(by_sku) == {"A1", "A2", "A3"}  # A1 was not named and stays
    assert by_sku["A2"]["variantName"] == "Midnight"
    assert [p["contractLength"] for p in by_sku["A2"]["pricing"]] == [36]  # list replaced
    assert [p["contractLength"] for p in by_sku["A1"]["pricing"]] == [12, 24]
    assert len(await all_products(api)) == 1


async def test_optional_fields_left_out_keep_their_value(api: Api) -> None:
    created = await create_product(
        api,
        product("P", variant("V", colorName="Blue", listPrice=100), description="Kept"),
    )
    response = await api.post("/v1/products", product("P", variant("V")))
    assert response.status_code == 200
    stored = (await api.get(f"/v1/products/{created['productId']}")).json()
    assert stored["description"] == "Kept"
    assert (stored["variants"][0]["colorName"], stored["variants"][0]["listPrice"]) == ("Blue", 100)


async def test_put_updates_the_product(api: Api) -> None:
    created = await create_product(api, product("IPH-15", variant("A1")))
    product_id = created["productId"]
    response = await api.put(
        f"/v1/products/{product_id}",
        product("IPH-15-NEW", variant("A1", grade="B", pricing=[pricing(6, 59.99)]), brand="X"),
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["productId"], body["productSku"], body["operation"]) == (
        product_id,
        "IPH-15-NEW",
        "updated",
    )
    assert body["variantResults"] == [{"variantSku": "A1", "operation": "update"}]
    stored = (await api.get(f"/v1/products/{product_id}")).json()
    assert (stored["productSku"], stored["brand"]) == ("IPH-15-NEW", "X")
    assert stored["variants"][0]["productSku"] == "IPH-15-NEW"
    assert stored["variants"][0]["grade"] == "B"
    assert [p["contractLength"] for p in stored["variants"][0]["pricing"]] == [6]


async def test_put_unknown_product_is_not_found(api: Api) -> None:
    response = await api.put("/v1/products/prod_missing", product())
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"
    assert (await api.get("/v1/products/prod_missing")).status_code == 404
    assert (await api.delete("/v1/products/prod_missing")).status_code == 404


async def test_put_to_another_products_sku_is_a_duplicate(api: Api) -> None:
    await create_product(api, product("P1", variant("V1")))
    second = await create_product(api, product("P2", variant("V2")))
    response = await api.put(f"/v1/products/{second['productId']}", product("P1", variant("V2")))
    assert response.status_code == 409
    assert error_code(response) == "DUPLICATE_SKU"
    assert (await api.get(f"/v1/products/{second['productId']}")).json()["productSku"] == "P2"


async def test_variant_sku_of_another_product_is_a_duplicate(api: Api) -> None:
    await create_product(api, product("P1", variant("SHARED")))
    response = await api.post("/v1/products", product("P2", variant("NEW"), variant("SHARED")))
    assert response.status_code == 409
    assert error_code(response) == "DUPLICATE_SKU"
    assert _details(response) == ["variants.1.variantSku"]
    assert [p["productSku"] for p in await all_products(api)] == ["P1"]  # nothing written


async def test_variant_sku_repeated_in_one_request_is_a_duplicate(api: Api) -> None:
    response = await api.post("/v1/products", product("P", variant("V"), variant("V")))
    assert response.status_code == 409
    assert error_code(response) == "DUPLICATE_SKU"
    assert _details(response) == ["variants.1.variantSku"]
    assert await all_products(api) == []


async def test_concurrent_creation_of_one_sku_makes_one_product(api: Api) -> None:
    body = product("RACE", variant("RACE-1"))
    responses = await asyncio.gather(*(api.post("/v1/products", body) for _ in range(5)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 201, 409}, [r.text for r in responses]
    assert statuses.count(201) == 1
    products = await all_products(api)
    assert [p["productSku"] for p in products] == ["RACE"]
    assert [v["variantSku"] for v in products[0]["variants"]] == ["RACE-1"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"pricing": [pricing(12, 49.999)]}, "variants.0.pricing.0.monthlyPrice"),
        ({"pricing": [pricing(12, 10), pricing(24, -5)]}, "variants.0.pricing.1.monthlyPrice"),
        ({"pricing": [pricing(12, 0)]}, "variants.0.pricing.0.monthlyPrice"),
        ({"pricing": [pricing(12, 10, setupFee=-1)]}, "variants.0.pricing.0.setupFee"),
        ({"pricing": [pricing(121, 10)]}, "variants.0.pricing.0.contractLength"),
        ({"pricing": [pricing(0, 10)]}, "variants.0.pricing.0.contractLength"),
        ({"pricing": [pricing(12, 10), pricing(12, 9)]}, "variants.0.pricing.1.contractLength"),
        (
            {"pricing": [pricing(12, 10, discount={"type": "fixed", "value": 10.01})]},
            "variants.0.pricing.0.discount.value",
        ),
        (
            {"pricing": [pricing(12, 10, discount={"type": "percentage", "value": 101})]},
            "variants.0.pricing.0.discount.value",
        ),
        ({"listPrice": -1}, "variants.0.listPrice"),
        ({"acquisitionCost": 1.005}, "variants.0.acquisitionCost"),
    ],
)
async def test_invalid_pricing_names_the_path(api: Api, change: dict[str, Any], path: str) -> None:
    response = await api.post("/v1/products", product("P", variant("V", **change)))
    assert response.status_code == 400
    assert error_code(response) == "INVALID_PRICING"
    assert _details(response) == [path]
    assert await all_products(api) == []


async def test_invalid_pricing_reports_every_problem(api: Api) -> None:
    body = product("P", variant("V1"), variant("V2", pricing=[pricing(6, 1), pricing(12, 0.001)]))
    body["variants"][0]["pricing"][0]["monthlyPrice"] = -1
    response = await api.post("/v1/products", body)
    assert _details(response) == [
        "variants.0.pricing.0.monthlyPrice",
        "variants.1.pricing.1.monthlyPrice",
    ]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, {"productSku", "name", "specification", "category", "brand", "variants"}),
        (product(variants=[]), {"variants"}),
        (product("P", {"variantSku": "V"}), {"variants.0.variantName", "variants.0.grade",
                                             "variants.0.pricing"}),
        (product("P", variant("V", grade="F")), {"variants.0.grade"}),
        (product("P", variant("V", pricing=[])), {"variants.0.pricing"}),
        (product("P", variant("V", pricing=[{"contractLength": 12}])),
         {"variants.0.pricing.0.monthlyPrice"}),
        (product("P", variant("V", pricing=[pricing(12, "cheap")])),
         {"variants.0.pricing.0.monthlyPrice"}),
        (product("P", productSku=""), {"productSku"}),
    ],
)  # fmt: skip
async def test_missing_or_malformed_fields_are_validation_errors(
    api: Api, body: dict[str, Any], paths: set[str]
) -> None:
    response = await api.post("/v1/products", body)
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert set(_details(response)) == paths


async def test_delete_discontinues_the_product_and_deactivates_its_variants(api: Api) -> None:
    created = await create_product(api, product("P", variant("V1"), variant("V2")))
    response = await api.delete(f"/v1/products/{created['productId']}")
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["productId"]) == (True, created["productId"])
    assert body["product"]["status"] == "discontinued"
    assert [v["status"] for v in body["product"]["variants"]] == ["inactive", "inactive"]
    stored = (await api.get(f"/v1/products/{created['productId']}")).json()
    assert stored == body["product"]
    # sending it again puts it back on sale, with the variants named
    assert (await api.post("/v1/products", product("P", variant("V1")))).status_code == 200
    revived = (await api.get(f"/v1/products/{created['productId']}")).json()
    assert revived["status"] == "active"
    assert [v["status"] for v in revived["variants"]] == ["active", "inactive"]


async def test_list_filters_and_sorts(api: Api) -> None:
    await create_product(api, product("C-1", variant("C-1-V"), name="Charlie", category="Phones"))
    await create_product(api, product("A-1", variant("A-1-V"), name="Alpha", brand="Dell", category="Laptops"))  # fmt: skip
    gone = await create_product(api, product("B-1", variant("B-1-V"), name="Bravo"))
    await api.delete(f"/v1/products/{gone['productId']}")

    def skus(products: list[dict[str, Any]]) -> list[str]:
        return [p["productSku"] for p in products]

    assert skus(await all_products(api)) == ["B-1", "A-1", "C-1"]  # newest first
    assert skus(await all_products(api, sortDir="asc")) == ["C-1", "A-1", "B-1"]
    assert skus(await all_products(api, sortBy="name", sortDir="asc")) == ["A-1", "B-1", "C-1"]
    assert skus(await all_products(api, sortBy="productSku")) == ["C-1", "B-1", "A-1"]
    assert skus(await all_products(api, sortBy="updatedAt")) == ["B-1", "A-1", "C-1"]
    assert skus(await all_products(api, status="discontinued")) == ["B-1"]
    assert skus(await all_products(api, status="active", category="Phones")) == ["C-1"]
    assert skus(await all_products(api, brand="Dell")) == ["A-1"]
    for params in ({"status": "deleted"}, {"sortBy": "brand"}):
        response = await api.get("/v1/products", **params)
        assert error_code(response) == "VALIDATION_ERROR"


async def test_list_pages_with_cursors(api: Api) -> None:
    first, *_ = [await create_product(api, product(f"P{i}", variant(f"V{i}"))) for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "sortBy": "productSku", "sortDir": "asc"}
        response = await api.get("/v1/products", **params, **({"startAfter": cursor} if cursor else {}))  # fmt: skip
        page = response.json()
        assert (page["count"], page["limit"]) == (len(page["products"]), 2)
        seen.extend(p["productSku"] for p in page["products"])
        cursor = page["nextCursor"]
        assert page["hasMore"] == (cursor is not None)
        if not cursor:
            break
    assert seen == ["P0", "P1", "P2", "P3", "P4"]
    # FlexPortal documents startAfter as "the last ID": a bare productId works too
    after_id = await api.get("/v1/products", startAfter=first["productId"], sortDir="asc")
    assert [p["productSku"] for p in after_id.json()["products"]] == ["P1", "P2", "P3", "P4"]


async def test_variants_list_across_products(api: Api) -> None:
    await create_product(api, product("PH", variant("PH-A", grade="A"), variant("PH-B", grade="B")))
    laptop = await create_product(api, product("LT", variant("LT-A"), category="Laptops"))
    await api.delete(f"/v1/products/{laptop['productId']}")

    async def skus(**params: Any) -> list[str]:
        response = await api.get("/v1/products/variants", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["variants"])
        return [v["variantSku"] for v in body["variants"]]

    assert await skus(sortBy="sku", sortDir="asc") == ["LT-A", "PH-A", "PH-B"]
    assert await skus(productSku="PH", sortBy="sku", sortDir="asc") == ["PH-A", "PH-B"]
    assert await skus(grade="B") == ["PH-B"]
    assert await skus(sku="LT-A") == ["LT-A"]
    assert await skus(status="inactive") == ["LT-A"]
    assert await skus(status="active", category="Phones", sortBy="sku") == ["PH-B", "PH-A"]
    first = (await api.get("/v1/products/variants", sku="PH-A")).json()["variants"][0]
    assert set(first) == VARIANT_FIELDS
    assert first["productSku"] == "PH"
    assert [p["monthlyPrice"] for p in first["pricing"]] == [49.99, 39.99]
    page = (await api.get("/v1/products/variants", limit=2, sortBy="sku", sortDir="asc")).json()
    following = await skus(limit=2, sortBy="sku", sortDir="asc", startAfter=page["nextCursor"])
    assert [v["variantSku"] for v in page["variants"]] + following == ["LT-A", "PH-A", "PH-B"]
    for params in ({"grade": "F"}, {"status": "discontinued"}, {"sortBy": "name"}):
        assert error_code(await api.get("/v1/products/variants", **params)) == "VALIDATION_ERROR"


async def test_variants_list_rejects_a_limit_above_5000(api: Api) -> None:
    response = await api.get("/v1/products/variants", limit=5001)
    assert error_code(response) == "VALIDATION_ERROR"
    assert _details(response) == ["limit"]


async def test_variants_list_allows_up_to_5000_per_page(api: Api) -> None:
    variants = [variant(f"V{i:03d}", pricing=[pricing(12, 10)]) for i in range(120)]
    await create_product(api, product("BIG", *variants))
    for limit in (150, 5000):
        response = await api.get("/v1/products/variants", limit=limit)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["count"], body["limit"], body["hasMore"]) == (120, limit, False)


async def test_another_business_unit_sees_nothing(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    mine = await create_product(api, product("SAME", variant("SAME-V")))
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    product_id = mine["productId"]
    for response in (
        await other.get(f"/v1/products/{product_id}"),
        await other.put(f"/v1/products/{product_id}", product("SAME", variant("SAME-V"))),
        await other.delete(f"/v1/products/{product_id}"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"
    assert await all_products(other) == []
    assert (await other.get("/v1/products/variants")).json()["variants"] == []
    # the same SKUs are free in another catalog
    theirs = await other.post("/v1/products", product("SAME", variant("SAME-V")))
    assert (theirs.status_code, theirs.json()["operation"]) == (201, "created")
    assert (await api.get(f"/v1/products/{product_id}")).json()["status"] == "active"


async def test_live_and_test_catalogs_are_separate(
    api: Api, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    test_api = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    live = await create_product(api, product("SAME", variant("SAME-V")))
    test = await create_product(test_api, product("SAME", variant("SAME-V")))
    assert live["productId"] != test["productId"]
    assert (await test_api.get(f"/v1/products/{live['productId']}")).status_code == 404
    assert [p["productId"] for p in await all_products(api)] == [live["productId"]]
    assert [p["productId"] for p in await all_products(test_api)] == [test["productId"]]


async def test_reading_needs_products_read_and_writing_products_write(
    api: Api, database: Database, tenant: Tenant
) -> None:
    reader = api.with_key(await issue_key(database, tenant, permissions=["products:read"]))
    assert (await reader.get("/v1/products")).status_code == 200
    assert (await reader.get("/v1/products/variants")).status_code == 200
    response = await reader.post("/v1/products", product())
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    stranger = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    assert error_code(await stranger.get("/v1/products")) == "INSUFFICIENT_PERMISSIONS"
