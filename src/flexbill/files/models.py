"""The files table (filled in by the files work)."""

from __future__ import annotations
