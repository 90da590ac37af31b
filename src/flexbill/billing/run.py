"""The billing run: every period that has started is invoiced and scheduled for payment,
once; contracts past their end are ended or renewed."""

from __future__ import annotations

SWEEP = "billing.sweep"
