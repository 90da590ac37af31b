"""Customers: the people and businesses that rent, subscribe and pay."""
