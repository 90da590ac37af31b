"""Sending queued e-mails from the worker (filled in by the e-mail work)."""

from __future__ import annotations

from typing import Final

from flexbill.worker.schedule import Periodic

PERIODIC: Final[tuple[Periodic, ...]] = ()
