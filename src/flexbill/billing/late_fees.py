"""Late fees: a fee added to a payment still unpaid a grace period after its due date."""

from __future__ import annotations

APPLY_LATE_FEES = "billing.late_fees"
