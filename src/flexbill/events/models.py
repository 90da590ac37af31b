"""Event tables (filled in by the orders work)."""
