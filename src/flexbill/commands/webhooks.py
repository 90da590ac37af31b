"""`flexbill webhooks …` (filled in by its work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="webhooks", no_args_is_help=True)
