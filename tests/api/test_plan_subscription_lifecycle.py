"""Suspending, resuming, cancelling and activating general subscriptions through
``/v1/plan-subscriptions``, with SubscriptionFlow's four options; a change for a later
day waits as ``scheduledChange`` until the billing run applies it (the days themselves
are the domain's: ``tests/plan_subscriptions``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flexbill.core import clock
from flexbill.core.db import Database
from tests.api.test_plan_subscriptions import (
    MARCH_1,
    flat_fee,
    invoices_of,
    lines,
    per_unit,
    plan,
    read,
    subscribe,
    travel,
)
from tests.orders.support import exact
from tests.subscriptions.support import event_counts
from tests.support import Api, error_code

D = Decimal


async def act(api: Api, subscription_id: str, action: str, **body: Any) -> dict[str, Any]:
    """``POST …/{action}``: the answer's message and subscription."""
    response = await api.post(f"/v1/plan-subscriptions/{subscription_id}/{action}", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = exact(response)
    assert set(answer) == {"success", "message", "subscription"}
    return answer


async def test_suspended_today_and_resumed_on_a_specific_date(api: Api, database: Database) -> None:
    """Suspended on 11 March: the unused 21 of March's 31 days come back; resumed on
    20 March, billing starts again from that day."""
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        created = await subscribe(api, customer["customerId"], [{"planPriceId": seats}])
        sid = created["id"]
        await travel(database, datetime(2025, 3, 11, 9, tzinfo=UTC))
        suspended = await act(api, sid, "suspend", option="today")
        assert suspended["message"] == "Subscription suspended"
        s = suspended["subscription"]
        assert (s["status"], s["suspendedAt"], s["scheduledChange"]) == (
            "suspended", "2025-03-11T09:00:00Z", None,
        )  # fmt: skip
        resumed = await act(api, sid, "resume", option="specific_date", date="2025-03-20")
        assert resumed["message"] == "Resume scheduled for 2025-03-20"
        assert resumed["subscription"]["scheduledChange"] == {
            "action": "resume", "option": "specific_date", "date": "2025-03-20",
        }  # fmt: skip
        assert resumed["subscription"]["status"] == "suspended"
        await travel(database, datetime(2025, 3, 20, 10, tzinfo=UTC))
        after = await read(api, sid)
    assert (after["status"], after["billingAnchor"], after["scheduledChange"]) == (
        "active", "2025-03-20", None,
    )  # fmt: skip
    assert after["resumedAt"].startswith("2025-03-20")
    assert [entry["action"] for entry in after["history"]] == [
        "created", "suspend", "resume_scheduled", "resume",
    ]  # fmt: skip
    first, final, again = await invoices_of(api, sid)
    assert lines(first) == [("plan", "Seats, 2025-03-01 to 2025-03-31", "2025-03-01", D("10.00"))]
    # 10.00 × 21/31 = 6.774… → 6.77 back.
    assert [line[0] for line in lines(final)] == ["proration_credit"]
    assert final["total"] == D("-6.77")
    assert lines(again) == [("plan", "Seats, 2025-03-20 to 2025-04-19", "2025-03-20", D("10.00"))]
    counts = await event_counts(database)
    assert (counts["subscription.suspended"], counts["subscription.resumed"]) == (1, 1)


async def test_a_scheduled_cancellation_is_shown_until_withdrawn_or_done(
    api: Api, database: Database
) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (support,) = await plan(api, flat_fee("Support", "30.00"))
        created = await subscribe(
            api, customer["customerId"], [{"planPriceId": support}], type="termed",
            initialPeriod=12, initialPeriodUnit="month",
        )  # fmt: skip
        sid = created["id"]
        at_term_end = await act(api, sid, "cancel", option="end_of_current_term")
        assert at_term_end["message"] == "Cancel scheduled for 2026-03-01"
        assert at_term_end["subscription"]["scheduledChange"] == {
            "action": "cancel", "option": "end_of_current_term", "date": "2026-03-01",
        }  # fmt: skip
        again = await api.post(f"/v1/plan-subscriptions/{sid}/suspend", {"option": "today"})
        assert again.status_code == 200  # today's changes are not scheduled
        response = await api.post(
            f"/v1/plan-subscriptions/{sid}/resume",
            {"option": "specific_date", "date": "2025-05-01"},
        )
        assert (response.status_code, error_code(response)) == (409, "CHANGE_ALREADY_SCHEDULED")
        withdrawn = await api.delete(f"/v1/plan-subscriptions/{sid}/scheduled-change")
        assert withdrawn.status_code == 200, withdrawn.text
        assert exact(withdrawn)["message"] == "Scheduled change withdrawn"
        assert exact(withdrawn)["subscription"]["scheduledChange"] is None
        await act(api, sid, "resume", option="today")
        cancelling = await act(api, sid, "cancel", option="end_of_last_invoice_period")
        assert cancelling["subscription"]["scheduledChange"]["date"] == "2025-04-01"
        await travel(database, datetime(2025, 4, 2, 9, tzinfo=UTC))
        after = await read(api, sid)
    assert (after["status"], after["endedOn"], after["scheduledChange"]) == (
        "cancelled", "2025-04-01", None,
    )  # fmt: skip
    assert after["cancelledAt"] == "2025-04-01T09:00:00Z"
    totals = [invoice["total"] for invoice in await invoices_of(api, sid)]
    assert totals[0] == D("30.00")
    assert all(invoice["periodStart"] < "2025-04-01" for invoice in await invoices_of(api, sid))
    assert (await event_counts(database))["subscription.cancelled"] == 1


async def test_a_draft_is_billed_once_activated(api: Api, database: Database) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        draft = await subscribe(
            api, customer["customerId"], [{"planPriceId": seats, "quantity": 2}], draft=True
        )
        assert (draft["status"], draft["nextBillDate"]) == ("draft", None)
        await travel(database, datetime(2025, 3, 5, 9, tzinfo=UTC))
        assert await invoices_of(api, draft["id"]) == []
        activated = await act(api, draft["id"], "activate")
        response = await api.post(f"/v1/plan-subscriptions/{draft['id']}/activate", {})
        assert (response.status_code, error_code(response)) == (422, "INVALID_STATUS_TRANSITION")
    assert activated["message"] == "Subscription activated"
    s = activated["subscription"]
    assert (s["status"], s["startDate"], s["billingAnchor"], s["nextBillDate"]) == (
        "active", "2025-03-05", "2025-03-05", "2025-04-05",
    )  # fmt: skip
    (invoice,) = await invoices_of(api, draft["id"])
    assert lines(invoice) == [
        ("plan", "Seats × 2, 2025-03-05 to 2025-04-04", "2025-03-05", D("20.00"))
    ]


async def test_what_the_option_bodies_refuse(api: Api) -> None:
    with clock.frozen(MARCH_1):
        customer = await api.create_customer()
        (seats,) = await plan(api, per_unit("Seats", "10.00"))
        sid = (await subscribe(api, customer["customerId"], [{"planPriceId": seats}]))["id"]
        cases: list[tuple[str, dict[str, Any], int, str, str | None]] = [
            ("suspend", {}, 400, "VALIDATION_ERROR", "option"),
            ("suspend", {"option": "tomorrow"}, 400, "VALIDATION_ERROR", "option"),
            ("suspend", {"option": "specific_date"}, 400, "VALIDATION_ERROR", "date"),
            ("suspend", {"option": "today", "date": "2025-03-09"}, 400, "VALIDATION_ERROR",
             "date"),
            ("cancel", {"option": "specific_date", "date": "2025-02-28"}, 400,
             "VALIDATION_ERROR", "date"),
            ("cancel", {"option": "specific_date", "date": "01/04/2025"}, 400,
             "VALIDATION_ERROR", "date"),
            ("resume", {"option": "today"}, 422, "INVALID_STATUS_TRANSITION", None),
            ("hibernate", {"option": "today"}, 404, "NOT_FOUND", None),
        ]  # fmt: skip
        for action, body, status, code, path in cases:
            response = await api.post(f"/v1/plan-subscriptions/{sid}/{action}", body)
            assert (response.status_code, error_code(response)) == (status, code), body
            if path is not None:
                assert [d["path"] for d in response.json()["error"]["details"]] == [path], body
        after = await read(api, sid)
    assert (after["status"], after["scheduledChange"]) == ("active", None)
    assert [entry["action"] for entry in after["history"]] == ["created"]
