"""Every table of every domain, gathered for Alembic and for schema checks."""

from __future__ import annotations

from flexbill.assets import models as assets_models
from flexbill.billing import models as billing_models
from flexbill.catalog import models as catalog_models
from flexbill.catalog import plan_models
from flexbill.core import jobs as jobs_models
from flexbill.core import secrets as secrets_models
from flexbill.core.models import Base
from flexbill.customers import models as customers_models
from flexbill.events import models as events_models
from flexbill.files import models as files_models
from flexbill.idempotency import models as idempotency_models
from flexbill.licenses import models as licenses_models
from flexbill.mail import models as mail_models
from flexbill.orders import models as orders_models
from flexbill.payments import models as payments_models
from flexbill.plan_subscriptions import models as plan_subscriptions_models
from flexbill.settings import models as settings_models
from flexbill.subscriptions import models as subscriptions_models
from flexbill.tenancy import models as tenancy_models
from flexbill.usage import models as usage_models
from flexbill.webhooks import models as webhooks_models

metadata = Base.metadata

__all__ = [
    "assets_models",
    "billing_models",
    "catalog_models",
    "customers_models",
    "events_models",
    "files_models",
    "idempotency_models",
    "jobs_models",
    "licenses_models",
    "mail_models",
    "metadata",
    "orders_models",
    "payments_models",
    "plan_models",
    "plan_subscriptions_models",
    "secrets_models",
    "settings_models",
    "subscriptions_models",
    "tenancy_models",
    "usage_models",
    "webhooks_models",
]
