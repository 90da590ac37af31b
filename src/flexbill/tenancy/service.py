"""Business units, their tenants and API keys: bootstrap, issue, list, revoke, authenticate."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import Settings
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError, NotFound, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.tenancy import keys
from flexbill.tenancy import permissions as perms
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.key_cache import KeyCache, KeyGrant
from flexbill.tenancy.models import ApiKey, BusinessUnit, Mode, Organization, RateTier, Tenant

REGION_CURRENCIES = {"eu": "EUR", "us": "USD", "qatar": "QAR", "uk": "GBP", "ca": "CAD"}


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: the only moment its secret exists outside the caller."""

    secret: str
    record: ApiKey
    mode: str


@dataclass(frozen=True)
class Bootstrap:
    business_unit: BusinessUnit
    live_key: IssuedKey
    test_key: IssuedKey
    created: bool


async def first_business_unit(session: AsyncSession) -> BusinessUnit | None:
    statement = select(BusinessUnit).order_by(BusinessUnit.created_at, BusinessUnit.id).limit(1)
    return (await session.scalars(statement)).one_or_none()


async def create_business_unit(
    session: AsyncSession, *, organization_id: str, name: str, region: str, currency: str
) -> BusinessUnit:
    unit = BusinessUnit(
        id=new_id("bu"), organization_id=organization_id, name=name, region=region,
        currency=currency.upper(),
    )  # fmt: skip
    session.add(unit)
    for mode in Mode:
        session.add(Tenant(id=new_id(f"tn{mode.value[0]}"), business_unit_id=unit.id, mode=mode))
    await session.flush()
    return unit


async def bootstrap(session: AsyncSession, *, region: str) -> Bootstrap:
    """Create the first organization and business unit if missing; issue a live and a
    test key with every permission."""
    unit = await first_business_unit(session)
    created = unit is None
    if unit is None:
        organization = Organization(id=new_id("org"), name="My organization")
        session.add(organization)
        await session.flush()
        unit = await create_business_unit(
            session, organization_id=organization.id, name="Main business unit",
            region=region, currency=REGION_CURRENCIES.get(region, "EUR"),
        )  # fmt: skip
    live = await _bootstrap_key(session, unit.id, Mode.LIVE)
    test = await _bootstrap_key(session, unit.id, Mode.TEST)
    return Bootstrap(business_unit=unit, live_key=live, test_key=test, created=created)


async def _bootstrap_key(session: AsyncSession, business_unit_id: str, mode: str) -> IssuedKey:
    return await create_api_key(
        session, business_unit_id=business_unit_id, mode=mode, name="bootstrap",
        permissions=[perms.ALL], tier=RateTier.ENTERPRISE,
    )  # fmt: skip


async def _tenant(session: AsyncSession, business_unit_id: str, mode: str) -> Tenant:
    statement = select(Tenant).where(
        Tenant.business_unit_id == business_unit_id, Tenant.mode == mode
    )
    tenant = (await session.scalars(statement)).one_or_none()
    if tenant is None:
        raise NotFound("Business unit", business_unit_id)
    return tenant


def _validate_networks(allowed_ips: Sequence[str]) -> list[str]:
    networks, problems = [], []
    for index, text in enumerate(allowed_ips):
        try:
            networks.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            problems.append(
                ErrorDetail(
                    f"allowedIps.{index}",
                    f"'{text}' is not an IP address or CIDR",
                    "invalid_string",
                )
            )
    if problems:
        raise ValidationFailed("Invalid allowed IPs", problems)
    return networks


async def create_api_key(
    session: AsyncSession,
    *,
    business_unit_id: str,
    mode: str,
    permissions: Sequence[str],
    tier: str = RateTier.GROWTH,
    allowed_ips: Sequence[str] = (),
    expires_at: datetime | None = None,
    name: str = "",
    granted_by: TenantContext | None = None,
) -> IssuedKey:
    """Issue a key. A key that issues another can only pass on permissions it holds."""
    if mode not in tuple(Mode):
        raise ValidationFailed.field("mode", "mode must be live or test", "invalid_enum_value")
    if tier not in tuple(RateTier):
        raise ValidationFailed.field(
            "tier", "tier must be starter, growth or enterprise", "invalid_enum_value"
        )
    wanted = perms.validate(permissions)
    if granted_by is not None:
        _check_delegation(granted_by, wanted, tier)
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValidationFailed.field(
            "expiresAt", "expiresAt needs a time zone (e.g. 2030-01-01T00:00:00Z)", "invalid_date"
        )
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed.field("expiresAt", "expiresAt must be in the future", "too_small")
    tenant = await _tenant(session, business_unit_id, mode)
    unit = await session.get_one(BusinessUnit, business_unit_id)
    secret = keys.generate(mode, unit.region)
    record = ApiKey(
        id=new_id("key"), tenant_id=tenant.id, name=name, secret_digest=keys.digest(secret),
        display_prefix=keys.display_prefix(secret), permissions=wanted, tier=tier,
        allowed_ips=_validate_networks(allowed_ips), expires_at=expires_at,
    )  # fmt: skip
    session.add(record)
    await session.flush()
    return IssuedKey(secret=secret, record=record, mode=mode)


_TIER_ORDER = (RateTier.STARTER, RateTier.GROWTH, RateTier.ENTERPRISE)


def _check_delegation(granter: TenantContext, permissions: Sequence[str], tier: str) -> None:
    """A key can hand out (or take away) only what it holds: its permissions, its tier."""
    beyond = [p for p in permissions if not _can_delegate(granter.permissions, p)]
    if beyond:
        raise FlexbillError(
            "INSUFFICIENT_PERMISSIONS",
            f"This API key cannot grant permissions it does not hold: {', '.join(beyond)}",
        )
    if _TIER_ORDER.index(RateTier(tier)) > _TIER_ORDER.index(RateTier(granter.tier)):
        raise FlexbillError(
            "INSUFFICIENT_PERMISSIONS",
            f"This API key ({granter.tier} tier) cannot create a key of the {tier} tier",
        )


def _can_delegate(held: frozenset[str], wanted: str) -> bool:
    if wanted in (perms.ALL, perms.ADMIN):
        return wanted in held or perms.ALL in held
    return perms.grants(held, wanted)


async def list_api_keys(
    session: AsyncSession, *, business_unit_id: str, mode: str | None = None
) -> list[tuple[ApiKey, str]]:
    """Keys of a business unit (optionally one environment), newest first, with their mode."""
    statement = (
        select(ApiKey, Tenant.mode)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(Tenant.business_unit_id == business_unit_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    if mode is not None:
        statement = statement.where(Tenant.mode == mode)
    return [(key, key_mode) for key, key_mode in (await session.execute(statement)).all()]


async def revoke_api_key(
    session: AsyncSession,
    *,
    business_unit_id: str,
    key_id: str,
    mode: str | None = None,
    revoked_by: TenantContext | None = None,
) -> tuple[ApiKey, str]:
    """Revoke a key. Through the API, a key may revoke only keys it could have created."""
    for key, key_mode in await list_api_keys(session, business_unit_id=business_unit_id, mode=mode):
        if key.id == key_id:
            if revoked_by is not None:
                _check_delegation(revoked_by, key.permissions, key.tier)
            if key.revoked_at is None:
                key.revoked_at = clock.now()
                await session.flush()
            return key, key_mode
    raise NotFound("API key", key_id)


async def _read_grant(session: AsyncSession, digest: str) -> KeyGrant | None:
    statement = (
        select(
            ApiKey.id, ApiKey.tenant_id, Tenant.business_unit_id, Tenant.mode, BusinessUnit.region,
            BusinessUnit.currency, ApiKey.permissions, ApiKey.tier, ApiKey.allowed_ips,
            ApiKey.expires_at, ApiKey.revoked_at,
        )
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .join(BusinessUnit, BusinessUnit.id == Tenant.business_unit_id)
        .where(ApiKey.secret_digest == digest)
    )  # fmt: skip
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return KeyGrant(
        key_id=row.id, tenant_id=row.tenant_id, business_unit_id=row.business_unit_id,
        mode=row.mode, region=row.region, currency=row.currency,
        permissions=frozenset(row.permissions), tier=row.tier,
        allowed_ips=tuple(row.allowed_ips), expires_at=row.expires_at,
        revoked=row.revoked_at is not None,
    )  # fmt: skip


async def authenticate(
    session: AsyncSession,
    *,
    secret: str,
    business_unit_id: str | None,
    client_ip: str | None,
    cache: KeyCache | None = None,
) -> TenantContext:
    """Resolve a presented key to the tenant it acts in, or raise the seed's auth errors."""
    digest = keys.digest(secret)
    grant = cache.get(digest) if cache else None
    if grant is None:
        grant = await _read_grant(session, digest)
        if grant is not None and cache is not None:
            cache.put(digest, grant)
    if grant is None or grant.revoked or (grant.expires_at and grant.expires_at <= clock.now()):
        raise FlexbillError("INVALID_TOKEN", "API key is invalid or expired")
    if not business_unit_id:
        raise FlexbillError("NO_TENANT_ACCESS", "Missing Tenant-ID header")
    if business_unit_id != grant.business_unit_id:
        raise FlexbillError("NO_TENANT_ACCESS", "This API key has no access to that Tenant-ID")
    if grant.allowed_ips and not _ip_allowed(client_ip, grant.allowed_ips):
        raise FlexbillError(
            "IP_NOT_ALLOWED", "Requests with this API key are not accepted from this address"
        )
    return TenantContext(
        tenant_id=grant.tenant_id, business_unit_id=grant.business_unit_id, mode=grant.mode,
        region=grant.region, currency=grant.currency, key_id=grant.key_id,
        permissions=grant.permissions, tier=grant.tier,
    )  # fmt: skip


def _ip_allowed(client_ip: str | None, allowed: Sequence[str]) -> bool:
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in allowed)


def requests_per_minute(tier: str, settings: Settings) -> int:
    if tier == RateTier.STARTER:
        return settings.rate_limit_starter_per_minute
    return settings.rate_limit_fair_use_per_minute


API_KEY_SORT_ORDERS = SortOrders(columns={"createdAt": ApiKey.created_at}, id_column=ApiKey.id)


async def list_tenant_api_keys(
    session: AsyncSession, ctx: TenantContext, page: PageRequest
) -> Page[ApiKey]:
    statement = select(ApiKey).where(ApiKey.tenant_id == ctx.tenant_id)
    return await paginate(session, statement, API_KEY_SORT_ORDERS, page)


async def environment_context(
    session: AsyncSession, business_unit_id: str, mode: str
) -> TenantContext:
    """The system's context in one environment (``live``/``test``) of a business unit."""
    return await system_context(session, (await _tenant(session, business_unit_id, mode)).id)


async def system_context(session: AsyncSession, tenant_id: str) -> TenantContext:
    """The context in which the system itself (a job, a command) acts for a tenant: every
    permission, no API key (``actor`` is ``system``). ``NOT_FOUND`` for an unknown tenant."""
    row = (
        await session.execute(
            select(Tenant, BusinessUnit)
            .join(BusinessUnit, BusinessUnit.id == Tenant.business_unit_id)
            .where(Tenant.id == tenant_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Tenant", tenant_id)
    tenant, unit = row
    return TenantContext(
        tenant_id=tenant.id, business_unit_id=unit.id, mode=tenant.mode, region=unit.region,
        currency=unit.currency, key_id=None, permissions=frozenset({perms.ALL}),
        tier=RateTier.ENTERPRISE,
    )  # fmt: skip
