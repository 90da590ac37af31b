"""Every module that declares job handlers, imported so that a worker knows them all
(the worker's counterpart of ``tables.py``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from flexbill.billing import collection, late_fees, run
from flexbill.config import get_settings
from flexbill.core.db import Database
from flexbill.files import jobs as file_jobs
from flexbill.mail import sending as mail_sending
from flexbill.webhooks import delivery as webhook_delivery
from flexbill.worker import maintenance
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic

SCHEDULE: tuple[Periodic, ...] = (
    Periodic(maintenance.PRUNE_JOBS, timedelta(hours=1)),
    Periodic(run.SWEEP, timedelta(minutes=10)),
    Periodic(collection.COLLECT_DUE, timedelta(minutes=10)),
    Periodic(late_fees.APPLY_LATE_FEES, timedelta(hours=1)),
    *webhook_delivery.PERIODIC,
    *mail_sending.PERIODIC,
    *file_jobs.PERIODIC,
)


def worker(database: Database, *, name: str | None = None) -> Worker:
    """A worker that knows every job kind and the periodic schedule."""
    lease = timedelta(seconds=get_settings().worker_lease_seconds)
    return Worker(database, REGISTRY, schedule=SCHEDULE, name=name, lease=lease)


async def run_worker(database: Database, stop: asyncio.Event) -> None:
    await worker(database).run_forever(stop)


__all__ = [
    "SCHEDULE",
    "collection",
    "file_jobs",
    "late_fees",
    "mail_sending",
    "maintenance",
    "run",
    "run_worker",
    "webhook_delivery",
    "worker",
]
