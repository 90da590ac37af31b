"""One day in the life of a general subscription: what is billed and what takes effect.

``Days`` works on a subscription and its items as it finds them (locked rows when the
billing run or a request bills; detached copies when ``upcoming`` only looks) and says
what to invoice; it writes nothing itself. Day D, in this order:

a. periods of in-arrears items ending on D are billed (an active subscription only);
b. what takes effect on D: a pending start (→ trial or active), a trial's end (→ active),
   a scheduled suspension, resumption or cancellation, the end of the term (renewed for
   the renewal period, or expired), and last a change asked for in the request;
c. if the subscription is then active: periods of in-advance items starting on D, and
   one-time prices not billed yet.

All lines of (a) and (c) go on ONE regular invoice keyed ``billing_key(id, D)``. A
suspension or cancellation in the middle of periods has its own final invoice (key
``<id>:<D>:<suspend|cancel>``): the in-arrears items' part of their period up to D and a
credit for the in-advance days from D that were already billed. Amounts waiting as
pending charges go onto the first invoice written.

Terms: a termed subscription that will not renew bills its last in-advance period only up
to the term's end (prorated), and its in-arrears items up to that end. A suspended
subscription is neither billed nor renewed; resuming on R starts fresh periods from R
(R becomes the billing anchor) and, if the term ended meanwhile, renews it from R (or
expires at R).

``next_bill_date`` is the earliest later day on which something is due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flexbill.billing.invoicing import LineSpec, billing_key
from flexbill.catalog.plan_models import PeriodUnit, PlanPrice
from flexbill.core.errors import InvalidState
from flexbill.events.models import EventType
from flexbill.events.service import rfc3339
from flexbill.plan_subscriptions import lines
from flexbill.plan_subscriptions.events import subscription_data
from flexbill.plan_subscriptions.models import (
    ChangeOption,
    PendingCharge,
    PlanSubscription,
    PlanSubscriptionStatus,
    ScheduledAction,
    SubscriptionItem,
    SubscriptionType,
)
from flexbill.plan_subscriptions.terms import Span, term

Status = PlanSubscriptionStatus
UsageReader = Callable[[Sequence[str], date, date], Awaitable[Mapping[str, Decimal]]]
"""The usage recorded for items in ``[start, end)``: ``usage.rating.usage_totals``."""

ALLOWED_FROM: dict[ScheduledAction, frozenset[Status]] = {
    ScheduledAction.SUSPEND: frozenset({Status.ACTIVE, Status.TRIAL}),
    ScheduledAction.RESUME: frozenset({Status.SUSPENDED}),
    ScheduledAction.CANCEL: frozenset(
        {Status.DRAFT, Status.PENDING, Status.TRIAL, Status.ACTIVE, Status.SUSPENDED}
    ),
}
FINISHED = frozenset({Status.CANCELLED, Status.EXPIRED})


PAST_TENSE = {
    ScheduledAction.SUSPEND: "suspended",
    ScheduledAction.RESUME: "resumed",
    ScheduledAction.CANCEL: "cancelled",
}


def transition_refused(subscription: PlanSubscription, action: ScheduledAction) -> InvalidState:
    return InvalidState(
        "INVALID_STATUS_TRANSITION",
        f"A {subscription.status} subscription cannot be {PAST_TENSE[action]}",
    )


def allowed(status: str, action: ScheduledAction) -> bool:
    return Status(status) in ALLOWED_FROM[action]


@dataclass(frozen=True)
class Change:
    """A suspension, resumption or cancellation taking effect on the day processed."""

    action: ScheduledAction
    option: ChangeOption


@dataclass
class Draft:
    """An invoice to issue: its lines, the usage it rates, the pending charges it takes."""

    key: str
    day: date
    lines: list[LineSpec]
    regular: bool
    rated: list[tuple[str, Span]] = field(default_factory=list)
    pending: list[PendingCharge] = field(default_factory=list)

    @property
    def period(self) -> Span:
        starts = [line.period_start for line in self.lines if line.period_start is not None]
        ends = [line.period_end for line in self.lines if line.period_end is not None]
        return Span(min(starts, default=self.day), max(ends, default=self.day))


@dataclass
class Outcome:
    drafts: list[Draft] = field(default_factory=list)
    events: list[tuple[EventType, dict[str, Any]]] = field(default_factory=list)
    renewed: int = 0
    ended: int = 0


class Days:
    """Moves ``subscription`` through days, collecting invoices and events in
    ``outcome``. ``prices`` holds each item's price version by item id."""

    def __init__(
        self, subscription: PlanSubscription, items: Sequence[SubscriptionItem],
        prices: Mapping[str, PlanPrice], pending: Sequence[PendingCharge],
        usage: UsageReader, now: datetime,
    ) -> None:  # fmt: skip
        self.subscription = subscription
        self.items = sorted(items, key=lambda item: item.position)
        self.prices = prices
        self.pending = list(pending)
        self.usage = usage
        self.now = now
        self.outcome = Outcome()

    # -- what is billed -------------------------------------------------------------

    def _recurring(self, *, advance: bool) -> list[tuple[SubscriptionItem, PlanPrice]]:
        found = []
        for item in self.items:
            price = self.prices[item.id]
            if lines.is_one_time(price) or lines.in_advance(price) is not advance:
                continue
            if item.billed_through is None:
                continue
            found.append((item, price))
        return found

    def term_stop(self) -> date | None:
        """Where billing stops for good unless something changes: the end of a term
        that will not renew."""
        s = self.subscription
        if s.type == SubscriptionType.TERMED and not s.auto_renew:
            return s.current_term_end
        return None

    def _stop(self, item: SubscriptionItem) -> date | None:
        ends = [day for day in (self.term_stop(), item.ended_on) if day is not None]
        return min(ends, default=None)

    def _next_part(self, item: SubscriptionItem, price: PlanPrice) -> tuple[Span, Span] | None:
        """The part of a period ``item`` bills next and that period; ``None`` if its
        billing has stopped."""
        anchor, start = self.subscription.billing_anchor, item.billed_through
        if anchor is None or start is None:
            return None
        period = lines.period_of(anchor, price, start)
        stop = self._stop(item)
        end = period.end if stop is None else min(period.end, stop)
        return (Span(start, end), period) if start < end else None

    async def _rated(
        self, parts: Sequence[tuple[SubscriptionItem, PlanPrice, Span, Span]]
    ) -> tuple[list[LineSpec], list[tuple[str, Span]]]:
        """Lines for in-arrears ``parts`` (flat fees prorated, usage rated for the part);
        one usage query per distinct part."""
        by_part: dict[Span, list[str]] = {}
        for item, price, part, _ in parts:
            if lines.rated_from_usage(price):
                by_part.setdefault(part, []).append(item.id)
        totals = {
            part: await self.usage(ids, part.start, part.end) for part, ids in by_part.items()
        }
        found, rated = [], []
        s = self.subscription
        for item, price, part, period in parts:
            if lines.rated_from_usage(price):
                used = totals[part].get(item.id, Decimal(0))
                found.append(lines.usage_line(s.id, item, price, s.currency, part, used))
                rated.append((item.id, part))
            else:
                found.append(lines.plan_line(s.id, item, price, s.currency, part, period))
        return found, rated

    async def arrears(self, day: date) -> tuple[list[LineSpec], list[tuple[str, Span]]]:
        """(a) in-arrears periods that ended by ``day``."""
        parts = []
        for item, price in self._recurring(advance=False):
            while (due := self._next_part(item, price)) is not None and due[0].end <= day:
                parts.append((item, price, *due))
                item.billed_through = due[0].end
        return await self._rated(parts)

    def advance(self, day: date) -> list[LineSpec]:
        """(c) in-advance periods that started by ``day``, and one-time prices."""
        s = self.subscription
        found = []
        for item in self.items:
            price = self.prices[item.id]
            if lines.is_one_time(price) and not item.one_time_billed and item.ended_on is None:
                found.append(lines.one_time_line(s.id, item, price, s.currency, day))
                item.one_time_billed = True
        for item, price in self._recurring(advance=True):
            while (due := self._next_part(item, price)) is not None and due[0].start <= day:
                part, period = due
                found.append(lines.plan_line(s.id, item, price, s.currency, part, period))
                item.billed_through = part.end
                if s.last_invoice_period_end is None or s.last_invoice_period_end < part.end:
                    s.last_invoice_period_end = part.end
        return found

    async def final(self, day: date, reason: str) -> None:
        """An active subscription stops on ``day`` mid-period: its in-arrears items'
        part up to ``day`` and a credit for the in-advance days billed from ``day``."""
        s = self.subscription
        parts = []
        for item, price in self._recurring(advance=False):
            due = self._next_part(item, price)
            if due is not None and due[0].start < day:
                part, period = due
                parts.append((item, price, Span(part.start, min(part.end, day)), period))
                item.billed_through = day
        found, rated = await self._rated(parts)
        for item, price in self._recurring(advance=True):
            billed_to = item.billed_through
            if billed_to is None or billed_to <= day or s.billing_anchor is None:
                continue
            period = lines.period_of(s.billing_anchor, price, day)
            unused = Span(day, min(billed_to, period.end))
            found.append(lines.unused_credit(s.id, item, price, s.currency, unused, period))
            item.billed_through = day
        if s.last_invoice_period_end is not None and s.last_invoice_period_end > day:
            s.last_invoice_period_end = day
        self._draft(f"{s.id}:{day.isoformat()}:{reason}", day, found, rated, regular=False)

    def _draft(
        self, key: str, day: date, found: list[LineSpec], rated: list[tuple[str, Span]], *,
        regular: bool,
    ) -> None:  # fmt: skip
        pending, self.pending = self.pending, []
        prices = {item.id: self.prices[item.id] for item in self.items}
        found = found + [lines.pending_line(charge, prices) for charge in pending]
        if found:
            self.outcome.drafts.append(Draft(key, day, found, regular, rated, pending))
        else:
            self.pending = pending

    # -- what takes effect ----------------------------------------------------------

    def _record(
        self, action: str, from_status: str, *, option: ChangeOption | None = None,
        effective_on: date,
    ) -> None:  # fmt: skip
        s = self.subscription
        entry = {
            "at": rfc3339(self.now), "action": action, "fromStatus": from_status,
            "toStatus": s.status, "option": option.value if option else None,
            "effectiveOn": effective_on.isoformat(),
        }  # fmt: skip
        s.history = [*s.history, entry]

    def _event(self, event_type: EventType, **extra: Any) -> None:
        self.outcome.events.append((event_type, {**subscription_data(self.subscription), **extra}))

    def _become(self, status: Status, action: str, day: date, event: EventType) -> None:
        before = self.subscription.status
        self.subscription.status = status
        self._record(action, before, effective_on=day)
        self._event(event, effectiveOn=day.isoformat())

    def _start(self, day: date) -> None:
        s = self.subscription
        if s.status == Status.PENDING and s.start_date <= day:
            in_trial = s.trial_end is not None and s.trial_end > day
            self._become(
                Status.TRIAL if in_trial else Status.ACTIVE, "activated", s.start_date,
                EventType.SUBSCRIPTION_ACTIVATED,
            )  # fmt: skip
        if s.status == Status.TRIAL and s.trial_end is not None and s.trial_end <= day:
            self._become(
                Status.ACTIVE, "trial_ended", s.trial_end, EventType.SUBSCRIPTION_ACTIVATED
            )

    def _renew(self, start: date) -> None:
        s = self.subscription
        length, unit = s.renewal_period or s.initial_period, s.renewal_period_unit
        unit = unit or s.initial_period_unit
        assert length is not None, "a termed subscription has its terms"
        assert unit is not None, "a termed subscription has its terms"
        renewed = term(start, length, PeriodUnit(unit))
        s.current_term_start, s.current_term_end = renewed.start, renewed.end
        s.renewal_count += 1
        s.renewed_at = self.now
        self._record("renewed", s.status, effective_on=start)
        self._event(
            EventType.SUBSCRIPTION_RENEWED, renewalCount=s.renewal_count,
            currentTermStart=renewed.start.isoformat(), currentTermEnd=renewed.end.isoformat(),
        )  # fmt: skip
        self.outcome.renewed += 1

    def _expire(self, day: date) -> None:
        s = self.subscription
        s.ended_on = day
        s.billing_end_date = day
        self._become(Status.EXPIRED, "expired", day, EventType.SUBSCRIPTION_EXPIRED)
        self._unschedule()
        self.outcome.ended += 1

    def _term_end(self, day: date, *, restart: date | None = None) -> None:
        """Renew or expire a term that ended by ``day``; ``restart`` renews from that
        day instead (a resumption after the term ended)."""
        s = self.subscription
        while (
            s.type == SubscriptionType.TERMED
            and s.status in (Status.ACTIVE, Status.TRIAL)
            and s.current_term_end is not None
            and s.current_term_end <= day
        ):
            if not s.auto_renew:
                self._expire(restart or s.current_term_end)
                return
            self._renew(restart or s.current_term_end)

    def _unschedule(self) -> None:
        s = self.subscription
        s.scheduled_action = s.scheduled_option = s.scheduled_on = None

    async def apply(self, change: Change, day: date, *, scheduled: bool) -> None:
        """``change`` takes effect on ``day``. A scheduled change that no longer fits the
        status is dropped (and recorded); one asked for now is refused."""
        s = self.subscription
        before = s.status
        if not allowed(before, change.action):
            if not scheduled:
                raise transition_refused(s, change.action)
            self._record(f"{change.action.value}_dropped", before, option=change.option,
                         effective_on=day)  # fmt: skip
            return
        if change.action is ScheduledAction.RESUME:
            await self._resume(day)
        else:
            if before == Status.ACTIVE:
                await self.final(day, change.action.value)
            if change.action is ScheduledAction.SUSPEND:
                s.status, s.suspended_at, s.suspended_on = Status.SUSPENDED, self.now, day
                event = EventType.SUBSCRIPTION_SUSPENDED
                if s.scheduled_action == ScheduledAction.SUSPEND:
                    self._unschedule()
            else:
                s.status, s.cancelled_at, s.ended_on = Status.CANCELLED, self.now, day
                event = EventType.SUBSCRIPTION_CANCELLED
                self._unschedule()
                self.outcome.ended += 1
        self._record(change.action.value, before, option=change.option, effective_on=day)
        if change.action is not ScheduledAction.RESUME:
            self._event(event, effectiveOn=day.isoformat(), option=change.option.value)
            return
        self._event(EventType.SUBSCRIPTION_RESUMED, effectiveOn=day.isoformat(),
                    option=change.option.value)  # fmt: skip
        self._term_end(day, restart=day)

    async def _resume(self, day: date) -> None:
        s = self.subscription
        s.status = Status.ACTIVE
        s.resumed_at = self.now
        s.billing_anchor = day
        if s.scheduled_action == ScheduledAction.RESUME:
            self._unschedule()
        for item in self.items:
            if item.ended_on is None and not lines.is_one_time(self.prices[item.id]):
                item.billed_through = day

    async def effects(self, day: date, change: Change | None) -> None:
        """(b) what takes effect on ``day``."""
        s = self.subscription
        self._start(day)
        if s.scheduled_action is not None and s.scheduled_on is not None and s.scheduled_on <= day:
            scheduled = Change(
                ScheduledAction(s.scheduled_action), ChangeOption(s.scheduled_option or "today")
            )
            self._unschedule()
            await self.apply(scheduled, day, scheduled=True)
        self._term_end(day)
        if change is not None:
            await self.apply(change, day, scheduled=False)

    # -- a day --------------------------------------------------------------------

    async def run(self, day: date, change: Change | None = None) -> None:
        """Everything due on ``day``, in order (see the module's docstring)."""
        s = self.subscription
        was_active = s.status == Status.ACTIVE
        found, rated = await self.arrears(day) if was_active else ([], [])
        await self.effects(day, change)
        if s.status == Status.ACTIVE:
            found += self.advance(day)
        self._draft(billing_key(s.id, day), day, found, rated, regular=True)

    def current_period_end(self, today: date) -> date | None:
        """The end of the current in-advance period (what ``end_of_current_term`` means
        for an evergreen subscription): the furthest day billed in advance, or else the
        end of the period containing ``today`` of any recurring item."""
        billed = [
            item.billed_through
            for item, _ in self._recurring(advance=True)
            if item.ended_on is None and item.billed_through is not None
        ]
        if billed and max(billed) > today:
            return max(billed)
        anchor = self.subscription.billing_anchor
        if anchor is None or anchor > today:
            return anchor
        ends = [
            lines.period_of(anchor, price, today).end
            for advance in (True, False)
            for item, price in self._recurring(advance=advance)
            if item.ended_on is None
        ]
        return max(ends, default=None)

    def next_bill_date(self, after: date) -> date | None:
        """The earliest day after ``after`` on which something is due."""
        s = self.subscription
        status = Status(s.status)
        candidates: list[date | None] = [s.scheduled_on]
        if status is Status.PENDING:
            candidates.append(s.start_date)
        elif status is Status.TRIAL:
            candidates += [s.trial_end, s.current_term_end]
        elif status is Status.ACTIVE:
            candidates.append(s.current_term_end)
            for advance in (True, False):
                for item, price in self._recurring(advance=advance):
                    due = self._next_part(item, price)
                    if due is not None:
                        candidates.append(due[0].start if advance else due[0].end)
        elif status is not Status.SUSPENDED:
            return None
        return min((day for day in candidates if day is not None and day > after), default=None)
