"""Billing: billing groups."""
