"""The customer ledger: every movement of a customer's ``balance`` (what it owes on issued
invoices) and ``unapplied_amount`` (the credit it holds), one append-only row each.

A ``Ledger`` writes the entries of some customers under their row locks: it locks them
in one statement (in id order, so two writers never wait on each other crosswise), reads
each one's last ``sequence`` in one more, and then moves the customers' two values and
numbers their entries 1, 2, 3… in memory; ``write`` adds all entries with one insert.
The lock serializes writers, so sequences never repeat and never skip. Each entry holds
both values after it, and the entries of a customer in sequence order replay its
values from zero.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.customers.models import Customer, CustomerLedgerEntry, LedgerEntryKind
from flexbill.tenancy.context import TenantContext

ENTRY_PREFIX = "cle"
IDS_PER_QUERY = 1000


def customer_not_found(customer_id: str) -> FlexbillError:
    return FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{customer_id}' not found")


def _chunks(ids: Collection[str]) -> list[list[str]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + IDS_PER_QUERY] for i in range(0, len(ordered), IDS_PER_QUERY)]


class Ledger:
    """Entries being written for a few customers, whose rows this transaction holds."""

    def __init__(
        self,
        session: AsyncSession,
        ctx: TenantContext,
        customers: Mapping[str, Customer],
        last_sequences: Mapping[str, int],
        at: datetime,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.customers = dict(customers)
        self._sequences = dict(last_sequences)
        self._entries: list[CustomerLedgerEntry] = []
        self.at = at

    @classmethod
    async def open(
        cls,
        session: AsyncSession,
        ctx: TenantContext,
        customer_ids: Collection[str],
        *,
        at: datetime,
    ) -> Ledger:
        """Lock ``customer_ids`` (re-read: their values are what others committed) and
        find where their entries stand. Raises ``CUSTOMER_NOT_FOUND`` for one missing."""
        customers: dict[str, Customer] = {}
        sequences: dict[str, int] = {}
        for chunk in _chunks(customer_ids):
            locked = await session.scalars(
                select(Customer)
                .where(Customer.tenant_id == ctx.tenant_id, Customer.id.in_(chunk))
                .order_by(Customer.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            customers.update((customer.id, customer) for customer in locked)
        for chunk in _chunks(customers):
            last = await session.execute(
                select(CustomerLedgerEntry.customer_id, func.max(CustomerLedgerEntry.sequence))
                .where(
                    CustomerLedgerEntry.tenant_id == ctx.tenant_id,
                    CustomerLedgerEntry.customer_id.in_(chunk),
                )
                .group_by(CustomerLedgerEntry.customer_id)
            )
            sequences.update((customer_id, int(top)) for customer_id, top in last.all())
        for customer_id in customer_ids:
            if customer_id not in customers:
                raise customer_not_found(customer_id)
        return cls(session, ctx, customers, sequences, at)

    def customer(self, customer_id: str) -> Customer:
        return self.customers[customer_id]

    def record(
        self,
        customer_id: str,
        kind: LedgerEntryKind,
        description: str,
        *,
        balance: int = 0,
        unapplied: int = 0,
        invoice_id: str | None = None,
        payment_id: str | None = None,
        credit_note_id: str | None = None,
        transaction_id: str | None = None,
    ) -> CustomerLedgerEntry:
        """Move the customer's balance by ``balance`` and its unapplied amount by
        ``unapplied``, and note the movement as the customer's next entry."""
        customer = self.customers[customer_id]
        customer.balance += balance
        customer.unapplied_amount += unapplied
        sequence = self._sequences.get(customer_id, 0) + 1
        self._sequences[customer_id] = sequence
        entry = CustomerLedgerEntry(
            tenant_id=self.ctx.tenant_id, id=new_id(ENTRY_PREFIX), customer_id=customer_id,
            sequence=sequence, kind=kind, balance_change=balance, unapplied_change=unapplied,
            balance_after=customer.balance, unapplied_after=customer.unapplied_amount,
            invoice_id=invoice_id, payment_id=payment_id, credit_note_id=credit_note_id,
            transaction_id=transaction_id,
            description=description[:500], created_at=self.at,
        )  # fmt: skip
        self._entries.append(entry)
        return entry

    async def write(self) -> None:
        """Insert the entries recorded since the last write (one statement)."""
        if self._entries:
            self.session.add_all(self._entries)
            self._entries = []
        await self.session.flush()


@dataclass(frozen=True)
class BalanceView:
    customer_id: str
    balance: int
    unapplied_amount: int


async def _existing_customer(
    session: AsyncSession, ctx: TenantContext, customer_id: str
) -> Customer:
    customer = await session.get(Customer, (ctx.tenant_id, customer_id))
    if customer is None:
        raise customer_not_found(customer_id)
    return customer


async def customer_balance(
    session: AsyncSession, ctx: TenantContext, customer_id: str
) -> BalanceView:
    """What the customer owes on issued invoices and the credit it holds. Raises
    ``CUSTOMER_NOT_FOUND``."""
    customer = await _existing_customer(session, ctx, customer_id)
    return BalanceView(customer.id, customer.balance, customer.unapplied_amount)


LEDGER_ORDERS = SortOrders(
    columns={"sequence": CustomerLedgerEntry.sequence}, id_column=CustomerLedgerEntry.id
)


async def ledger_entries(
    session: AsyncSession, ctx: TenantContext, customer_id: str, page: PageRequest
) -> Page[CustomerLedgerEntry]:
    """One page of the customer's entries by ``sequence``. Raises ``CUSTOMER_NOT_FOUND``."""
    await _existing_customer(session, ctx, customer_id)
    statement = select(CustomerLedgerEntry).where(
        CustomerLedgerEntry.tenant_id == ctx.tenant_id,
        CustomerLedgerEntry.customer_id == customer_id,
    )
    return await paginate(session, statement, LEDGER_ORDERS, page)
