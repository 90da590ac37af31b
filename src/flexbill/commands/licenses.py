"""`flexbill licenses ...` (filled in by the licensing work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="License products and licenses.", no_args_is_help=True)
