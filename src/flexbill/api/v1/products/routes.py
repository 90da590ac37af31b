"""``/v1/products``: the catalog of products, their variants and variant pricing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import (
    ListQuery,
    filter_docs,
    list_query,
    list_query_up_to,
    page_fields,
)
from flexbill.api.v1.products.schemas import (
    CsvImportResult,
    ProductBody,
    ProductDeleteResult,
    ProductList,
    ProductWrite,
    ProductWriteResult,
    VariantBody,
    VariantList,
)
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.catalog import csv_import, service, upsert

router = APIRouter(prefix="/products", tags=["Products"])

Reader = Annotated[Call, Depends(require("products:read"))]
Writer = Annotated[Call, Depends(require("products:write"))]

MAX_VARIANTS_PER_PAGE = 5000

_PRODUCT_FILTERS = filter_docs(
    {
        "status": "`active` or `discontinued`",
        "category": "Exact category",
        "brand": "Exact brand",
    }
)
_VARIANT_FILTERS = filter_docs(
    {
        "status": "`active` or `inactive`",
        "productSku": "Only variants of the product with this SKU",
        "grade": "`A`, `B`, `C`, `D` or `E`",
        "sku": "Exact variant SKU",
        "category": "Only variants of products in this category",
    }
)

_CSV_UPLOAD = File(
    alias="csvFile",
    description="The CSV file (UTF-8, at most 10 MB and 10,000 rows)",
)


@router.get("", response_model=ProductList, openapi_extra=_PRODUCT_FILTERS)
async def list_products(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List products with their variants and pricing, newest first by default.

    Filter with `status`, `category` and `brand`. Sort with `sortBy` = `createdAt`,
    `updatedAt`, `name` or `productSku`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await service.list_products(call.session, call.ctx, query.filters, query.page)
    return respond(
        ProductList(
            products=[ProductBody.of(product, call.ctx) for product in page.items],
            **page_fields(page),
        )
    )


@router.post("", response_model=ProductWriteResult, status_code=201)
async def upsert_product(call: Writer, body: ProductWrite) -> V1JSONResponse:
    """Create a product, or update the product that already has this `productSku`.

    Answers `201` with `operation: "created"` for a new product and `200` with
    `operation: "updated"` otherwise; sending the same body twice therefore never creates a
    second product. Variants are matched by `variantSku` within the product: existing ones
    are updated (`variantResults[].operation: "update"`), new ones created (`"create"`),
    and variants not named in the body stay as they are. `variantId` is accepted and
    ignored. A named variant's `pricing` replaces its price list. Optional fields left out
    (`description`, `images`, `condition`, `colorName`, `listPrice`, `acquisitionCost`)
    keep their stored value; send `""` or `[]` to clear a description or images. Sending
    a discontinued product makes it, and the variants named, active again.

    Amounts are in the business unit's currency with no more decimals than it has.
    `contractLength` is 1–120 months and appears once per variant; `monthlyPrice` is above
    0; `setupFee`, `listPrice` and `acquisitionCost` are not negative; a `fixed` discount
    is at most the monthly price and a `percentage` discount 0–100 (two decimals). A
    broken rule answers `400 INVALID_PRICING` with the path of each problem in `details`
    (`variants.0.pricing.1.monthlyPrice`). A `variantSku` used by another product, or
    repeated in the body, answers `409 DUPLICATE_SKU`.
    """
    outcome = await upsert.upsert_product(call.session, call.ctx, body.to_domain())
    return respond(ProductWriteResult.of(outcome), status_code=201 if outcome.created else 200)


@router.post("/csv", response_model=CsvImportResult, status_code=201)
async def import_products_csv(
    call: Writer, csv_file: Annotated[UploadFile, _CSV_UPLOAD]
) -> V1JSONResponse:
    """Create or update products and variants from a CSV file sent as multipart field
    `csvFile`.

    Columns: `Product Name, Product SKU, Category, Brand, Specification, Grade, Color,
    Variant SKU, List Price, Acquisition Cost, 6mo_Price, 12mo_Price, 24mo_Price,
    36mo_Price`. One row is one variant; rows with the same `Product SKU` are variants of
    one product, whose name, category, brand and specification come from its first row.
    `Grade` is A–E (default A); the variant name is the `Color`, or the `Variant SKU`
    without one. An empty price cell means that contract length is not offered (any
    `<n>mo_Price` column works, n = 1–120); each row needs at least one price, and the
    row's prices replace the variant's price list.

    Existing products and variants (matched by SKU) are updated. `created` and `updated`
    count variants. Rows with problems are skipped and listed in `errors` with their row
    number as a spreadsheet shows it (the header is row 1, the first data row row 2); the
    other rows are applied. A file that is not UTF-8 CSV text, lacks a required column,
    is larger than 10 MB or has more than 10,000 rows answers `400 INVALID_CSV` and
    changes nothing.
    """
    data = await csv_file.read(csv_import.MAX_CSV_BYTES + 1)
    report = await csv_import.import_products_csv(call.session, call.ctx, data)
    return respond(CsvImportResult.of(report), status_code=201)


@router.get("/variants", response_model=VariantList, openapi_extra=_VARIANT_FILTERS)
async def list_variants(
    call: Reader,
    query: Annotated[ListQuery, Depends(list_query_up_to(MAX_VARIANTS_PER_PAGE))],
) -> V1JSONResponse:
    """List variants across all products, newest first by default; `limit` goes up to 5000.

    Filter with `status`, `productSku`, `grade`, `sku` and `category`. Sort with `sortBy` =
    `createdAt`, `updatedAt` or `sku`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await service.list_variants(call.session, call.ctx, query.filters, query.page)
    return respond(
        VariantList(
            variants=[VariantBody.of(v, v.product, call.ctx) for v in page.items],
            **page_fields(page),
        )
    )


@router.get("/{productId}", response_model=ProductBody)
async def get_product(productId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one product by ID, with its variants and their pricing."""
    product = await service.get_product(call.session, call.ctx, productId)
    return respond(ProductBody.of(product, call.ctx))


@router.put("/{productId}", response_model=ProductWriteResult)
async def update_product(
    productId: str,  # noqa: N803
    body: ProductWrite,
    call: Writer,
) -> V1JSONResponse:
    """Update a product and its variants; the body is the same as for creating one.

    Variants are matched by `variantSku` as in `POST /v1/products`: named ones are updated,
    new ones created, others left as they are. The `productSku` may change unless another
    product has it (`409 DUPLICATE_SKU`). Pricing rules and errors are those of
    `POST /v1/products`.
    """
    outcome = await upsert.update_product(call.session, call.ctx, productId, body.to_domain())
    return respond(ProductWriteResult.of(outcome))


@router.delete("/{productId}", response_model=ProductDeleteResult)
async def delete_product(productId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Discontinue a product (soft delete): its status becomes `discontinued` and all its
    variants become `inactive`. The product keeps answering `GET`; sending it again with
    `POST /v1/products` puts it back on sale.

    Refused with `409 VARIANT_IN_USE` while any of its variants is rented by an active
    subscription, and with `409 PRODUCT_HAS_ACTIVE_ORDERS` while a pending, confirmed or
    partially fulfilled order holds one of them.
    """
    product = await service.discontinue_product(call.session, call.ctx, productId)
    return respond(
        ProductDeleteResult(
            message="Product discontinued",
            product_id=product.id,
            product=ProductBody.of(product, call.ctx),
        )
    )
