"""Recording usage: one record, or a batch of up to ``MAX_BATCH`` in a few statements.

A batch is judged in memory. Its statements, whatever its size:

1. the records already stored under the batch's client ids (a retry is answered with
   the stored record, a different record under a used id is ``USAGE_ID_CONFLICT``);
2. the subscriptions and 3. the items named, each locked for share in id order, and
   4. their price versions;
5. one ``INSERT … ON CONFLICT (tenant_id, client_id) DO NOTHING RETURNING client_id``;
6. only if another transaction stored some of the same client ids meanwhile, those
   records, to tell a repeat from a conflict.

Every record gets its own outcome, in order; the valid ones are stored even when others
fail. Locking the items for share makes a batch wait for a billing run that is rating
their period (the run moves ``billed_through``), so usage is never stored for a period
rated without it. Rows are inserted in client-id order, so two batches sharing client
ids wait for each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog import plan_lookup
from flexbill.core import clock
from flexbill.core.errors import FlexbillError, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.plan_subscriptions.models import PlanSubscription, SubscriptionItem
from flexbill.tenancy.context import TenantContext
from flexbill.usage.models import ID_PREFIX, UsageRecord, UsageStatus
from flexbill.usage.rules import (
    NewUsage,
    Target,
    id_conflict,
    item_not_found,
    placement_problem,
    same_content,
    shape_problem,
    subscription_not_found,
)
from flexbill.usage.views import COLUMNS, UsageView

MAX_BATCH = 1000


class Outcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"  # the same record was stored before under its client id
    FAILED = "error"


@dataclass(frozen=True)
class Recorded:
    """What became of one record: the stored record, or why it was refused."""

    outcome: Outcome
    usage: UsageView | None = None
    error: FlexbillError | None = None


@dataclass(frozen=True)
class Candidate:
    """A record that may be stored, once judged."""

    record_id: str
    client_id: str
    new: NewUsage


async def record_usage(session: AsyncSession, ctx: TenantContext, new: NewUsage) -> Recorded:
    """Store one record (``CREATED``) or recognise its retry (``DUPLICATE``); a refused
    record raises its error."""
    [recorded] = await record_batch(session, ctx, [new])
    if recorded.error is not None:
        raise recorded.error
    return recorded


async def record_batch(
    session: AsyncSession, ctx: TenantContext, batch: Sequence[NewUsage]
) -> list[Recorded]:
    """One outcome per record of ``batch``, in order (see the module's description)."""
    if len(batch) > MAX_BATCH:
        raise ValidationFailed.field(
            "records", f"A batch holds at most {MAX_BATCH:,} records", "too_big"
        )
    outcomes: list[Recorded | None] = [None] * len(batch)
    now = clock.now()
    # The position of each client id's first record; later ones with the same id repeat it.
    first: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []  # (position, position of the first)
    # Ids are made in the batch's order, so that the list shows its records in that order.
    candidates: dict[int, Candidate] = {}
    for index, new in enumerate(batch):
        problem = shape_problem(new)
        if problem is not None:
            outcomes[index] = Recorded(Outcome.FAILED, error=problem)
            continue
        if new.client_id is None:
            record_id = new_id(ID_PREFIX)
            # Without a client id, the record's own id is its client id.
            candidates[index] = Candidate(record_id, record_id, new)
        elif new.client_id in first:
            repeats.append((index, first[new.client_id]))
        else:
            first[new.client_id] = index
            candidates[index] = Candidate(new_id(ID_PREFIX), new.client_id, new)
    stored = await _stored(session, ctx.tenant_id, first)
    for client_id, view in stored.items():
        index = first[client_id]
        del candidates[index]
        outcomes[index] = _repeat_of(batch[index], view)
    positions, rows = await _judge(session, ctx, candidates, outcomes, now)
    inserted = await _insert(session, rows)
    late = [row["client_id"] for row in rows if row["client_id"] not in inserted]
    stored_meanwhile = await _stored(session, ctx.tenant_id, late)
    for index, row in zip(positions, rows, strict=True):
        if row["client_id"] in inserted:
            outcomes[index] = Recorded(Outcome.CREATED, usage=UsageView.of(row))
        else:
            outcomes[index] = _repeat_of(batch[index], stored_meanwhile[row["client_id"]])
    for index, earlier in repeats:
        outcomes[index] = _repeat_of_first(batch[index], batch[earlier], outcomes[earlier])
    return [outcome for outcome in outcomes if outcome is not None]


def _repeat_of(new: NewUsage, stored: UsageView) -> Recorded:
    if same_content(new, stored.as_new()):
        return Recorded(Outcome.DUPLICATE, usage=stored)
    return Recorded(Outcome.FAILED, error=id_conflict(stored.client_id))


def _repeat_of_first(new: NewUsage, earlier: NewUsage, before: Recorded | None) -> Recorded:
    """A record whose client id an earlier record of the same batch carries: a repeat
    shares the earlier one's fate (stored once), a different record is a conflict."""
    assert earlier.client_id is not None
    assert before is not None
    if not same_content(new, earlier):
        return Recorded(Outcome.FAILED, error=id_conflict(earlier.client_id))
    if before.outcome is Outcome.FAILED:
        return before
    return Recorded(Outcome.DUPLICATE, usage=before.usage)


async def _stored(
    session: AsyncSession, tenant_id: str, client_ids: Collection[str]
) -> dict[str, UsageView]:
    """The stored records of ``client_ids``, by client id."""
    if not client_ids:
        return {}
    statement = select(*COLUMNS).where(
        UsageRecord.tenant_id == tenant_id, UsageRecord.client_id.in_(sorted(client_ids))
    )
    views = (UsageView.of(row._mapping) for row in await session.execute(statement))
    return {view.client_id: view for view in views}


async def _targets(
    session: AsyncSession, ctx: TenantContext, batch: Sequence[NewUsage]
) -> tuple[dict[str, Any], dict[str, Target]]:
    """The subscriptions (id → customer id) and items (id → ``Target``) the records name
    that exist in the tenant; both locked for share, in id order (see the module)."""
    subscription_ids = sorted({new.subscription_id for new in batch})
    item_ids = sorted({new.item_id for new in batch})
    subscriptions = {
        row.id: row
        for row in await session.execute(
            select(PlanSubscription.id, PlanSubscription.customer_id, PlanSubscription.status)
            .where(
                PlanSubscription.tenant_id == ctx.tenant_id,
                PlanSubscription.id.in_(subscription_ids),
            )
            .order_by(PlanSubscription.id)
            .with_for_update(read=True)
        )
    }
    items = list(
        await session.execute(
            select(
                SubscriptionItem.id, SubscriptionItem.subscription_id,
                SubscriptionItem.plan_price_id, SubscriptionItem.plan_price_version,
                SubscriptionItem.started_on, SubscriptionItem.ended_on,
                SubscriptionItem.billed_through,
            )
            .where(SubscriptionItem.tenant_id == ctx.tenant_id, SubscriptionItem.id.in_(item_ids))
            .order_by(SubscriptionItem.id)
            .with_for_update(read=True)
        )
    )  # fmt: skip
    prices = await plan_lookup.price_versions(
        session, ctx.tenant_id, ((item.plan_price_id, item.plan_price_version) for item in items)
    )
    targets = {}
    for item in items:
        price = prices[(item.plan_price_id, item.plan_price_version)]
        owner = subscriptions.get(item.subscription_id)
        targets[item.id] = Target(
            subscription_id=item.subscription_id,
            subscription_status=owner.status if owner is not None else "",
            item_subscription_id=item.subscription_id, started_on=item.started_on,
            ended_on=item.ended_on, billed_through=item.billed_through,
            billing_timing=price.billing_timing, charge_model=price.charge_model,
        )  # fmt: skip
    return subscriptions, targets


async def _judge(
    session: AsyncSession,
    ctx: TenantContext,
    candidates: dict[int, Candidate],
    outcomes: list[Recorded | None],
    now: datetime,
) -> tuple[list[int], list[dict[str, Any]]]:
    """The rows to insert for the ``candidates`` that may be recorded, in client-id order,
    and the position of each in the batch; the others get their error in ``outcomes``."""
    if not candidates:
        return [], []
    subscriptions, targets = await _targets(
        session, ctx, [candidate.new for candidate in candidates.values()]
    )
    accepted = []
    for index, candidate in candidates.items():
        new = candidate.new
        subscription = subscriptions.get(new.subscription_id)
        if subscription is None:
            outcomes[index] = Recorded(
                Outcome.FAILED, error=subscription_not_found(new.subscription_id)
            )
            continue
        target = targets.get(new.item_id)
        problem = (
            item_not_found(new.item_id, new.subscription_id)
            if target is None
            else placement_problem(new, target)
        )
        if problem is not None:
            outcomes[index] = Recorded(Outcome.FAILED, error=problem)
            continue
        accepted.append((index, _row(ctx.tenant_id, candidate, subscription.customer_id, now)))
    accepted.sort(key=lambda pair: str(pair[1]["client_id"]))
    return [index for index, _ in accepted], [row for _, row in accepted]


def _row(tenant_id: str, candidate: Candidate, customer_id: str, now: datetime) -> dict[str, Any]:
    new = candidate.new
    return {
        "tenant_id": tenant_id, "id": candidate.record_id,
        "client_id": candidate.client_id, "customer_id": customer_id,
        "subscription_id": new.subscription_id, "item_id": new.item_id, "name": new.name,
        "description": new.description, "quantity": new.quantity,
        "start_date": new.start_date, "end_date": new.end_date,
        "status": UsageStatus.PENDING.value, "invoice_id": None, "created_at": now,
        "updated_at": now,
    }  # fmt: skip


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert ``rows``, each unless its client id is taken; the client ids inserted."""
    if not rows:
        return set()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(UsageRecord)
        .on_conflict_do_nothing(index_elements=["tenant_id", "client_id"])
        .returning(UsageRecord.client_id)
    )
    connection = await session.connection()
    return set((await connection.execute(statement, rows)).scalars())
