"""Billing group bodies of the /v1 face (FlexPortal's Billing groups reference).

Subscriptions are "rentals" on the wire, so a group lists its members as ``rentalIds``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.billing.groups import KEEP, GroupChanges, GroupView, Keep, NewBillingGroup
from flexbill.billing.models import BillingGroupStatus
from flexbill.core.money import to_major
from flexbill.tenancy.context import TenantContext

MAX_MEMBERS = 1000
MAX_NOTES_LENGTH = 5000

GroupName = Annotated[str, Field(min_length=1, max_length=200)]
Reference = Annotated[str, Field(min_length=1, max_length=100)]
RentalIds = Annotated[
    list[Reference],
    Field(
        min_length=1,
        max_length=MAX_MEMBERS,
        description="Subscriptions (rentals) of the customer, each listed once",
    ),
]
MemberIds = Annotated[
    list[Reference],
    Field(
        max_length=MAX_MEMBERS,
        description="Replaces the member list: subscriptions left out leave (all of them, "
        "for an empty list)",
    ),
]
BillingDay = Annotated[
    int, Field(description="Day of the month the group is billed on, 1–28")
]  # the range is the domain's rule, answered with INVALID_BILLING_DAY
Notes = Annotated[str | None, Field(default=None, max_length=MAX_NOTES_LENGTH)]
StatusName = Literal["active", "inactive"]


class BillingGroupCreateBody(V1Model):
    """The body of ``POST /v1/billing-groups``."""

    customer_id: Reference
    group_name: GroupName
    billing_day: BillingDay
    rental_ids: RentalIds
    notes: Notes = None

    def to_domain(self) -> NewBillingGroup:
        return NewBillingGroup(
            customer_id=self.customer_id, group_name=self.group_name,
            billing_day=self.billing_day, rental_ids=self.rental_ids, notes=self.notes,
        )  # fmt: skip


class BillingGroupUpdateBody(V1Model):
    """The body of ``PATCH /v1/billing-groups/{billingGroupId}``: fields left out keep
    their value; ``notes: null`` clears the notes."""

    group_name: GroupName | None = None
    billing_day: BillingDay | None = None
    rental_ids: MemberIds | None = None
    status: StatusName | None = None
    notes: Notes = None

    def to_domain(self) -> GroupChanges:
        notes: str | Keep | None = self.notes if "notes" in self.model_fields_set else KEEP
        return GroupChanges(
            group_name=self.group_name, billing_day=self.billing_day, rental_ids=self.rental_ids,
            status=BillingGroupStatus(self.status) if self.status else None, notes=notes,
        )  # fmt: skip


class BillingGroupBody(V1Model):
    billing_group_id: str
    tenant_id: str
    customer_id: str
    group_name: str
    billing_day: int
    rental_ids: list[str] = Field(description="The member subscriptions, oldest first")
    status: StatusName
    notes: str | None
    total_monthly_amount: Amount = Field(
        description="The monthly amounts of the active members added up"
    )
    currency: str
    subscription_count: int = Field(description="How many subscriptions `rentalIds` lists")
    active_rental_count: int = Field(description="How many of them are still active")
    next_billing_date: date = Field(description="The next billing day, today or later")
    created_by: str = Field(description="Who created the group (an API key, or a user)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: GroupView, ctx: TenantContext) -> BillingGroupBody:
        group = view.group
        rental_ids = view.rental_ids
        return cls(
            billing_group_id=group.id, tenant_id=ctx.business_unit_id,
            customer_id=group.customer_id, group_name=group.group_name,
            billing_day=group.billing_day, rental_ids=rental_ids,
            status=BillingGroupStatus(group.status).value, notes=group.notes,
            total_monthly_amount=to_major(view.total_monthly_amount, ctx.currency),
            currency=ctx.currency, subscription_count=len(rental_ids),
            active_rental_count=view.active_count, next_billing_date=view.next_billing_date,
            created_by=group.created_by, created_at=group.created_at,
            updated_at=group.updated_at,
        )  # fmt: skip


class BillingGroupResult(V1Model):
    success: bool = True
    message: str
    billing_group: BillingGroupBody


class BillingGroupAnswer(V1Model):
    success: bool = True
    billing_group: BillingGroupBody


class BillingGroupList(V1Model):
    success: bool = True
    billing_groups: list[BillingGroupBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class BillingGroupDeleted(V1Model):
    success: bool = True
    message: str
    billing_group_id: str
