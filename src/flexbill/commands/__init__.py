"""CLI command groups that live beside ``flexbill.cli``."""
