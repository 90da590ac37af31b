"""Who a document comes from: the business's details from its settings (``company``),
and the people it is for, as the parties of a PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.files.pdf import Party, address_lines
from flexbill.settings.rules import Company
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.models import BusinessUnit


@dataclass(frozen=True)
class Letterhead:
    party: Party
    footer: str  # name, VAT id, registration number, e-mail in one line


def letterhead_of(company: Company, fallback_name: str) -> Letterhead:
    """The seller as ``company`` describes it; its name defaults to the business unit's
    until the settings name one."""
    name = company.name or fallback_name
    lines = [line.strip() for line in company.address.splitlines() if line.strip()]
    lines += [entry for entry in (company.email, company.phone) if entry]
    if company.vat_id:
        lines.append(f"VAT ID: {company.vat_id}")
    if company.registration_number:
        lines.append(f"Registration no.: {company.registration_number}")
    footer = [
        name,
        f"VAT ID {company.vat_id}" if company.vat_id else "",
        f"Reg. no. {company.registration_number}" if company.registration_number else "",
        company.email or "",
    ]
    return Letterhead(Party(name, tuple(lines)), " · ".join(part for part in footer if part))


async def seller(session: AsyncSession, ctx: TenantContext) -> Letterhead:
    settings = await get_settings(session, ctx)
    unit = await session.get(BusinessUnit, ctx.business_unit_id)
    return letterhead_of(settings.company, unit.name if unit else "")


def customer_party(
    first_name: str,
    last_name: str,
    *,
    company: str | None,
    email: str | None,
    phone: str | None,
    address: dict[str, Any] | None,
) -> Party:
    """A customer as a document addresses them: name, company, postal address, contact."""
    name = f"{first_name} {last_name}".strip()
    lines = [company] if company else []
    lines += [line for line in address_lines(address, skip_name=name) if line != company]
    lines += [entry for entry in (email, phone) if entry]
    return Party(name, tuple(lines))
