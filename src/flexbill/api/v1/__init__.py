"""The /v1 face: FlexPortal's wire format (seed 000) over the domain services."""

from __future__ import annotations

from fastapi import APIRouter

from flexbill.api.v1.api_keys.routes import router as api_keys_router
from flexbill.api.v1.assets.routes import router as assets_router
from flexbill.api.v1.billing_groups.routes import router as billing_groups_router
from flexbill.api.v1.customers.routes import router as customers_router
from flexbill.api.v1.events.routes import router as events_router
from flexbill.api.v1.exports.routes import router as exports_router
from flexbill.api.v1.files.routes import router as files_router
from flexbill.api.v1.health import router as health_router
from flexbill.api.v1.invoices.routes import router as invoices_router
from flexbill.api.v1.license_products.routes import router as license_products_router
from flexbill.api.v1.licenses.routes import router as licenses_router
from flexbill.api.v1.orders.routes import router as orders_router
from flexbill.api.v1.payment_methods.routes import router as payment_methods_router
from flexbill.api.v1.payments.routes import router as payments_router
from flexbill.api.v1.products.routes import router as products_router
from flexbill.api.v1.settings.routes import router as settings_router
from flexbill.api.v1.subscriptions.change_routes import router as subscription_changes_router
from flexbill.api.v1.subscriptions.ending_routes import router as subscription_endings_router
from flexbill.api.v1.subscriptions.routes import router as subscriptions_router
from flexbill.api.v1.test_clocks.routes import router as test_clocks_router
from flexbill.api.v1.webhook_endpoints.routes import router as webhook_endpoints_router

router = APIRouter(prefix="/v1")
router.include_router(health_router)
router.include_router(customers_router)
router.include_router(products_router)
router.include_router(assets_router)
router.include_router(orders_router)
router.include_router(subscriptions_router)
router.include_router(subscription_changes_router)
router.include_router(subscription_endings_router)
router.include_router(billing_groups_router)
router.include_router(exports_router)
router.include_router(payments_router)
router.include_router(invoices_router)
router.include_router(payment_methods_router)
router.include_router(test_clocks_router)
router.include_router(settings_router)
router.include_router(api_keys_router)
router.include_router(webhook_endpoints_router)
router.include_router(events_router)
router.include_router(files_router)
router.include_router(license_products_router)
router.include_router(licenses_router)
