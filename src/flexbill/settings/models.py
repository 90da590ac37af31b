"""Settings tables (filled in by the settings work)."""
