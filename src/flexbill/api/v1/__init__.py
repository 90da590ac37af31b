"""The /v1 face: FlexPortal's wire format (seed 000) over the domain services."""

from __future__ import annotations

from fastapi import APIRouter

from flexbill.api.v1.api_keys.routes import router as api_keys_router
from flexbill.api.v1.assets.routes import router as assets_router
from flexbill.api.v1.billing_groups.routes import router as billing_groups_router
from flexbill.api.v1.credit_notes.routes import router as credit_notes_router
from flexbill.api.v1.customer_balance.routes import router as customer_balance_router
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
from flexbill.api.v1.plan_subscriptions.routes import router as plan_subscriptions_router
from flexbill.api.v1.plans.routes import prices_router as plan_prices_router
from flexbill.api.v1.plans.routes import router as plans_router
from flexbill.api.v1.products.routes import router as products_router
from flexbill.api.v1.settings.routes import router as settings_router
from flexbill.api.v1.subscriptions.change_routes import router as subscription_changes_router
from flexbill.api.v1.subscriptions.ending_routes import router as subscription_endings_router
from flexbill.api.v1.subscriptions.routes import router as subscriptions_router
from flexbill.api.v1.subscriptions.upcoming_routes import router as upcoming_invoice_router
from flexbill.api.v1.test_clocks.routes import router as test_clocks_router
from flexbill.api.v1.usage.routes import router as usage_router
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
router.include_router(upcoming_invoice_router)
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
router.include_router(plans_router)
router.include_router(plan_prices_router)
router.include_router(plan_subscriptions_router)
router.include_router(usage_router)
router.include_router(credit_notes_router)
router.include_router(customer_balance_router)
