"""Payments: customers' payment methods, the gateways that charge them, and the record of
every attempt (transactions)."""
