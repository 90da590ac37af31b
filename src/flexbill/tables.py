"""Every table of every domain, gathered for Alembic and for schema checks."""

from __future__ import annotations

from flexbill.core.models import Base
from flexbill.customers import models as customers_models
from flexbill.idempotency import models as idempotency_models
from flexbill.tenancy import models as tenancy_models

metadata = Base.metadata

__all__ = ["customers_models", "idempotency_models", "metadata", "tenancy_models"]
