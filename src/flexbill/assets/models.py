"""Asset tables (filled in by the assets work)."""
