"""Catalog tables (filled in by the catalog work)."""
