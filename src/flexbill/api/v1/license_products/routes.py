"""``/v1/license-products``: the products a vendor sells licenses of, and their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.license_products.schemas import (
    LicenseProductAnswer,
    LicenseProductBody,
    LicenseProductCreateBody,
    LicenseProductList,
    LicenseProductResult,
    ProductKeyBody,
    ProductKeyList,
    ProductKeyResult,
    ProductSettings,
)
from flexbill.api.v1.pagination import ListQuery, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.licenses import products
from flexbill.licenses.rules import ProductType

router = APIRouter(tags=["License products"])

Reader = Annotated[Call, Depends(require("licenses:read"))]
Writer = Annotated[Call, Depends(require("licenses:write"))]


@router.post("/license-products", response_model=LicenseProductResult, status_code=201)
async def create_license_product(call: Writer, body: LicenseProductCreateBody) -> V1JSONResponse:
    """Create a license product of one of FlexLicense's types: `Time limited` (balance in
    days), `Inner credit` (credits labelled `unit`), `Currency` (`unit` is EUR, USD, GBP,
    CAD, CHF or AUD; amounts in major units) or `Custom`. `creditPerPayment` is what one
    PayPal payment of `paymentAmount` `paymentCurrency` to `paypalReceiverEmail` buys."""
    product = await products.create_product(call.session, call.ctx.tenant_id, body.to_domain())
    return respond(
        LicenseProductResult(
            message="License product created successfully",
            license_product=LicenseProductBody.of(product),
        ),
        status_code=201,
    )


@router.get("/license-products", response_model=LicenseProductList)
async def list_license_products(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List license products under `licenseProducts`, newest first by default."""
    page = await products.list_products(call.session, call.ctx.tenant_id, query.page)
    return respond(
        LicenseProductList(
            license_products=[LicenseProductBody.of(p) for p in page.items], **page_fields(page)
        )
    )


@router.get("/license-products/{productId}", response_model=LicenseProductAnswer)
async def get_license_product(productId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve a license product; unknown is `404 LICENSE_PRODUCT_NOT_FOUND`."""
    product = await products.get_product(call.session, call.ctx.tenant_id, productId)
    return respond(LicenseProductAnswer(license_product=LicenseProductBody.of(product)))


@router.patch("/license-products/{productId}", response_model=LicenseProductResult)
async def update_license_product(
    productId: str,  # noqa: N803
    body: ProductSettings,
    call: Writer,
) -> V1JSONResponse:
    """Change the settings given; the type of a product never changes."""
    current = await products.get_product(call.session, call.ctx.tenant_id, productId)
    changes = body.changes(ProductType(current.type), current.unit)
    product = await products.update_product(call.session, call.ctx.tenant_id, productId, changes)
    return respond(
        LicenseProductResult(
            message="License product updated successfully",
            license_product=LicenseProductBody.of(product),
        )
    )


@router.post(
    "/license-products/{productId}/api-keys", response_model=ProductKeyResult, status_code=201
)
async def create_product_api_key(productId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Issue an API key of the product for the FlexLicense endpoints (`apikey=`). The key
    is shown in this answer only."""
    issued = await products.issue_key(call.session, call.ctx.tenant_id, productId)
    return respond(
        ProductKeyResult(
            message="API key created; it is not shown again",
            api_key=ProductKeyBody.of(issued.record, issued.secret),
        ),
        status_code=201,
    )


@router.get("/license-products/{productId}/api-keys", response_model=ProductKeyList)
async def list_product_api_keys(productId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """The product's API keys, oldest first, revoked ones included (never the secret)."""
    keys = await products.list_keys(call.session, call.ctx.tenant_id, productId)
    return respond(ProductKeyList(api_keys=[ProductKeyBody.of(k) for k in keys]))


@router.delete("/license-products/{productId}/api-keys/{keyId}", response_model=ProductKeyResult)
async def revoke_product_api_key(
    productId: str,  # noqa: N803
    keyId: str,  # noqa: N803
    call: Writer,
) -> V1JSONResponse:
    """Revoke an API key: the FlexLicense endpoints refuse it from now on."""
    key = await products.revoke_key(call.session, call.ctx.tenant_id, productId, keyId)
    return respond(ProductKeyResult(message="API key revoked", api_key=ProductKeyBody.of(key)))
