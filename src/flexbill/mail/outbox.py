"""Queueing e-mails in the caller's transaction (filled in by the e-mail work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def send(
    session: AsyncSession,
    tenant_id: str | None,
    *,
    template: str,
    to: str,
    data: Mapping[str, Any],
) -> str:
    """Queue the e-mail ``template`` rendered with ``data`` to ``to``; its id."""
    raise NotImplementedError
