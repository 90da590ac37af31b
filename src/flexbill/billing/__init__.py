"""Billing: how subscriptions are charged (billing groups today; invoices and payments next)."""
