"""Payment method bodies of the /v1 face (flexbill's addition: FlexPortal keeps payment
methods in Stripe's dashboard)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from flexbill.api.v1.responses import V1Model
from flexbill.payments.methods import NewPaymentMethod
from flexbill.payments.models import Gateway, PaymentMethod

Reference = Annotated[str, Field(min_length=1, max_length=100)]
GatewayName = Literal["sandbox", "manual"]


class PaymentMethodCreateBody(V1Model):
    """The body of ``POST /v1/payment-methods``."""

    customer_id: Reference
    gateway: GatewayName = Field(
        description="`sandbox` (a test card processor) or `manual` (bank transfer, cash: "
        "payments are marked paid, never charged)"
    )
    token: Annotated[str | None, Field(min_length=1, max_length=200)] = Field(
        default=None,
        description="The gateway's token for the card: for `sandbox` one of its test tokens "
        "(`tok_visa`, `tok_insufficient_funds`, …); optional for `manual`",
    )
    is_default: StrictBool = Field(
        default=False,
        description="Charge this method from now on; a customer's first method is the "
        "default anyway",
    )

    def to_domain(self) -> NewPaymentMethod:
        return NewPaymentMethod(
            customer_id=self.customer_id, gateway=Gateway(self.gateway), token=self.token,
            is_default=self.is_default,
        )  # fmt: skip


class PaymentMethodBody(V1Model):
    payment_method_id: str
    customer_id: str
    gateway: GatewayName
    token: str
    brand: str | None = Field(description="The card's brand (`visa`, …); `null` for manual")
    last4: str | None = Field(description="The card's last four digits; `null` for manual")
    is_default: bool
    status: Literal["active", "removed"]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, method: PaymentMethod) -> PaymentMethodBody:
        return cls(
            payment_method_id=method.id, customer_id=method.customer_id,
            gateway=Gateway(method.gateway).value, token=method.token, brand=method.brand,
            last4=method.last4, is_default=method.is_default,
            status="removed" if method.status == "removed" else "active",
            created_at=method.created_at, updated_at=method.updated_at,
        )  # fmt: skip


class PaymentMethodResult(V1Model):
    success: bool = True
    message: str
    payment_method: PaymentMethodBody


class PaymentMethodAnswer(V1Model):
    success: bool = True
    payment_method: PaymentMethodBody


class PaymentMethodList(V1Model):
    success: bool = True
    payment_methods: list[PaymentMethodBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class AutoChargeBody(V1Model):
    """The body of ``POST /v1/customers/{customerId}/auto-charge``."""

    enabled: StrictBool


class AutoChargeResult(V1Model):
    success: bool = True
    customer_id: str
    auto_charge: bool
