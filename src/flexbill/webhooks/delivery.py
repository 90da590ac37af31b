"""Delivering events to webhook endpoints from the worker (filled in by the webhooks work)."""

from __future__ import annotations

from typing import Final

from flexbill.worker.schedule import Periodic

PERIODIC: Final[tuple[Periodic, ...]] = ()
