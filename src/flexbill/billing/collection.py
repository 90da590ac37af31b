"""Collecting scheduled payments through the gateways, with retries and dunning."""

from __future__ import annotations

COLLECT_DUE = "payments.collect_due"
