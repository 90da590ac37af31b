"""Subscriptions: the contracts that rent devices to customers, and their lifecycle."""
