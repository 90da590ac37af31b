"""License products and licenses (filled in by the licensing work)."""

from __future__ import annotations
