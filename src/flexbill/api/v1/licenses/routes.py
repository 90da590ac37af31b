"""``/v1/licenses``: the licenses of every product, for the vendor's own tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.license_products.schemas import units
from flexbill.api.v1.licenses.schemas import (
    ActivationBody,
    ActivationResult,
    FingerprintBody,
    LicenseAnswer,
    LicenseBody,
    LicenseCreateBody,
    LicenseCreditBody,
    LicenseList,
    LicenseResult,
    PublicKeyAnswer,
    ValidateBody,
    ValidationResult,
)
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.licenses import activations, certificates, products, service, signing
from flexbill.licenses.rules import ProductType

router = APIRouter(tags=["Licenses"])

Reader = Annotated[Call, Depends(require("licenses:read"))]
Writer = Annotated[Call, Depends(require("licenses:write"))]

_FILTERS = filter_docs({"productId": "Only this product's licenses", "email": "The client"})


@router.get("/licenses", response_model=LicenseList, openapi_extra=_FILTERS)
async def list_licenses(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List licenses under `licenses`, newest first by default; filter by `productId` or
    `email`."""
    page = await service.list_licenses(
        call.session, call.ctx.tenant_id, query.page,
        product_id=query.filters.get("productId"), email=query.filters.get("email"),
    )  # fmt: skip
    owners = await service.products_of(call.session, call.ctx.tenant_id, list(page.items))
    return respond(
        LicenseList(
            licenses=[LicenseBody.of(r, owners[r.product_id]) for r in page.items],
            **page_fields(page),
        )
    )


@router.get("/licenses/public-key", response_model=PublicKeyAnswer)
async def get_license_public_key(call: Reader) -> V1JSONResponse:
    """The Ed25519 public key (hex of its 32 raw bytes) that verifies this environment's
    license files, offline; see `GET /v1/licenses/{licenseId}/certificate`. Before the
    first license product exists: `404 SIGNING_KEY_MISSING`."""
    key = await signing.public_key(call.session, call.ctx.tenant_id)
    return respond(PublicKeyAnswer(algorithm=certificates.ALGORITHM, public_key=key))


@router.get("/licenses/{licenseId}/certificate")
async def get_license_certificate(
    licenseId: str,  # noqa: N803
    call: Reader,
    valid_days: Annotated[int, Query(alias="validDays", ge=1, le=366)] = 30,
) -> V1JSONResponse:
    """A license file for applications that check licenses without a network:
    `{"algorithm": "Ed25519", "payload", "signature"}`, the payload being the base64 of
    the license's claims (JSON, with `certificateExpiresAt` `validDays` from now) and the
    signature the Ed25519 signature of those bytes by the key of
    `GET /v1/licenses/public-key`. Only a valid license gets one (`422
    LICENSE_NOT_VALID`)."""
    issued = await certificates.certificate(call.session, call.ctx.tenant_id, licenseId, valid_days)
    return V1JSONResponse(issued.file)


@router.get("/licenses/{licenseId}", response_model=LicenseAnswer)
async def get_license(licenseId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve a license; unknown is `404 LICENSE_NOT_FOUND`."""
    record = await service.get_license(call.session, call.ctx.tenant_id, licenseId)
    product = await products.get_product(call.session, call.ctx.tenant_id, record.product_id)
    return respond(LicenseAnswer(license=LicenseBody.of(record, product)))


@router.post("/licenses", response_model=LicenseResult, status_code=201)
async def create_license(call: Writer, body: LicenseCreateBody) -> V1JSONResponse:
    """Issue a license of `productId` to `email` (no e-mail is sent), verified unless
    `verified: false`, with `balance` in the product's unit (default: its free trial)."""
    product = await products.get_product(call.session, call.ctx.tenant_id, body.product_id)
    balance = (
        product.free_trial
        if body.balance is None
        else units(body.balance, ProductType(product.type), product.unit, "balance")
    )
    record = await service.issue_license(
        call.session, product, email=body.email, balance=balance, verified=body.verified
    )
    if body.max_activations is not None:
        record.max_activations = body.max_activations
    return respond(
        LicenseResult(message="License created", license=LicenseBody.of(record, product)),
        status_code=201,
    )


@router.post("/licenses/{licenseId}/revoke", response_model=LicenseResult)
async def revoke_license(licenseId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Revoke a license: it is never valid again and cannot be withdrawn from."""
    record = await service.revoke(call.session, call.ctx.tenant_id, licenseId)
    product = await products.get_product(call.session, call.ctx.tenant_id, record.product_id)
    return respond(
        LicenseResult(message="License revoked", license=LicenseBody.of(record, product))
    )


@router.post("/licenses/{licenseId}/credit", response_model=LicenseResult)
async def credit_license(
    licenseId: str,  # noqa: N803
    body: LicenseCreditBody,
    call: Writer,
) -> V1JSONResponse:
    """Add `amount` (the product's unit; negative to take back) to a license's balance.
    A Time limited license's expiry moves by as many days."""
    record = await service.get_license(call.session, call.ctx.tenant_id, licenseId)
    product = await products.get_product(call.session, call.ctx.tenant_id, record.product_id)
    amount = units(body.amount, ProductType(product.type), product.unit, "amount")
    record = await service.credit(call.session, product, record, amount)
    return respond(
        LicenseResult(message="License credited", license=LicenseBody.of(record, product))
    )


@router.post("/licenses/{licenseId}/activate", response_model=ActivationResult)
async def activate_license(
    licenseId: str,  # noqa: N803
    body: FingerprintBody,
    call: Writer,
) -> V1JSONResponse:
    """Activate the license on the machine named by `fingerprint` (any stable identifier
    the application computes). Again on the same machine: the same activation. Beyond the
    license's `maxActivations`: `409 ACTIVATION_LIMIT_REACHED`; revoked: `403
    LICENSE_REVOKED`."""
    record, activation = await activations.activate(
        call.session, call.ctx.tenant_id, licenseId, body.fingerprint
    )
    product = await products.get_product(call.session, call.ctx.tenant_id, record.product_id)
    return respond(
        ActivationResult(
            message="License activated",
            activation=ActivationBody(
                id=activation.id, fingerprint=activation.fingerprint,
                created_at=activation.created_at,
            ),
            license=LicenseBody.of(record, product),
        )
    )  # fmt: skip


@router.post("/licenses/{licenseId}/deactivate", response_model=ActivationResult)
async def deactivate_license(
    licenseId: str,  # noqa: N803
    body: FingerprintBody,
    call: Writer,
) -> V1JSONResponse:
    """Free the machine's place; a machine the license is not active on is `404
    ACTIVATION_NOT_FOUND`."""
    record = await activations.deactivate(
        call.session, call.ctx.tenant_id, licenseId, body.fingerprint
    )
    product = await products.get_product(call.session, call.ctx.tenant_id, record.product_id)
    return respond(
        ActivationResult(
            message="License deactivated", activation=None, license=LicenseBody.of(record, product)
        )
    )


@router.post("/licenses/{licenseId}/validate", response_model=ValidationResult)
async def validate_license(
    licenseId: str,  # noqa: N803
    body: ValidateBody,
    call: Reader,
) -> V1JSONResponse:
    """Whether the license is valid (`code: NOT_VALID` when expired, negative, unverified
    or revoked) and, given a `fingerprint`, active on that machine (`NOT_ACTIVATED`)."""
    outcome = await activations.validate(
        call.session, call.ctx.tenant_id, licenseId, body.fingerprint
    )
    return respond(
        ValidationResult(
            valid=outcome.valid, code=outcome.reason, activations=outcome.activations,
            license=LicenseBody.of(outcome.license, outcome.product),
        )
    )  # fmt: skip
