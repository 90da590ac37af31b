"""Background work on documents (filled in by the files work)."""

from __future__ import annotations

from typing import Final

from flexbill.worker.schedule import Periodic

PERIODIC: Final[tuple[Periodic, ...]] = ()
