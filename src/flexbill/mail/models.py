"""The outgoing e-mail table (filled in by the e-mail work)."""

from __future__ import annotations
