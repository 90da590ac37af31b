"""`flexbill mail …` (filled in by its work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="mail", no_args_is_help=True)
