"""Test clock bodies of the /v1 face (flexbill's addition)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from flexbill.api.v1.responses import V1Model
from flexbill.billing.models import TestClock

Reference = Annotated[str, Field(min_length=1, max_length=100)]


class TestClockCreateBody(V1Model):
    __test__ = False
    frozen_time: AwareDatetime = Field(description="The clock's time, with its UTC offset")
    name: Annotated[str | None, Field(default=None, max_length=200)] = None


class AdvanceBody(V1Model):
    frozen_time: AwareDatetime = Field(description="The later time to move the clock to")


class AttachBody(V1Model):
    customer_id: Reference


class TestClockBody(V1Model):
    __test__ = False
    test_clock_id: str
    tenant_id: str
    name: str | None
    frozen_time: datetime
    status: str
    customer_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, clock: TestClock, business_unit_id: str, customer_ids: list[str]) -> TestClockBody:
        return cls(
            test_clock_id=clock.id, tenant_id=business_unit_id, name=clock.name,
            frozen_time=clock.frozen_time, status=clock.status, customer_ids=customer_ids,
            created_at=clock.created_at, updated_at=clock.updated_at,
        )  # fmt: skip


class TestClockResult(V1Model):
    __test__ = False
    success: bool = True
    message: str
    test_clock: TestClockBody


class TestClockDeleted(V1Model):
    __test__ = False
    success: bool = True
    message: str = "Test clock deleted"
    test_clock_id: str


class TestClockList(V1Model):
    __test__ = False
    test_clocks: list[TestClockBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
