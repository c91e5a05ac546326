"""The CRM / core-banking adapter the bot's actions talk to, and a demo one on the store.

``CrmAdapter`` is the seam a real bank replaces; ``StoreCrm`` implements it on the
``crm_*`` tables so the demo answers real requests (balances, blocking a card, opening a
dispute). Identification (phone/ANI or account number) and verification (date of birth or
card last 4) are separate calls: the engine only marks a caller verified after ``verify``
returns True, and account data is never read for an unverified caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock, SystemClock
from core.store.tables.crm import CrmAccountRow, CrmCardRow, CrmCustomerRow, CrmFollowUpRow


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    phone: str
    language: str
    segment: str


@dataclass(frozen=True)
class Account:
    number: str
    kind: str
    balance_cents: int
    currency: str


@dataclass(frozen=True)
class Card:
    id: str
    last4: str
    kind: str
    status: str


def normalise_phone(raw: str, *, region: str = "US") -> str | None:
    """E.164 form of ``raw`` or None; the NLU's phone entity and ANI both go through this."""
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


class CrmAdapter(Protocol):
    async def find_customer(
        self, *, phone: str | None = None, account_number: str | None = None
    ) -> Customer | None: ...

    async def verify(
        self, customer_id: str, *, dob: str | None = None, last4: str | None = None
    ) -> bool: ...

    async def accounts(self, customer_id: str) -> list[Account]: ...

    async def cards(self, customer_id: str) -> list[Card]: ...

    async def block_card(self, customer_id: str, *, last4: str | None) -> Card | None: ...

    async def create_follow_up(
        self, *, customer_id: str | None, contact_id: str | None, kind: str, details: dict[str, Any]
    ) -> str: ...

    async def update_address(self, customer_id: str, address: str) -> None: ...


class StoreCrm:
    """Demo CRM on the ``crm_*`` tables.

    With ``tickets`` (the ticket service, injected: bots never import tickets/), follow-ups
    the bot opens — disputes, complaints, address changes — are real tickets that agents see
    on the customer card and work; without it they are ``crm_follow_ups`` rows."""

    def __init__(
        self, sessions: async_sessionmaker, *, clock: Clock | None = None, tickets: Any = None
    ):
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.tickets = tickets

    async def find_customer(
        self, *, phone: str | None = None, account_number: str | None = None
    ) -> Customer | None:
        async with self.sessions() as s:
            row: CrmCustomerRow | None = None
            if account_number:
                acc = await s.get(CrmAccountRow, account_number.replace(" ", ""))
                row = await s.get(CrmCustomerRow, acc.customer_id) if acc else None
            if row is None and phone:
                candidates = {normalise_phone(phone, region=r) for r in ("US", "CN")} - {None}
                if candidates:
                    row = await s.scalar(
                        select(CrmCustomerRow).where(CrmCustomerRow.phone.in_(candidates)).limit(1)
                    )
            if row is None:
                return None
            return Customer(row.id, row.name, row.phone, row.language, row.segment)

    async def verify(
        self, customer_id: str, *, dob: str | None = None, last4: str | None = None
    ) -> bool:
        async with self.sessions() as s:
            row = await s.get(CrmCustomerRow, customer_id)
            if row is None:
                return False
            if dob and dob == row.dob:
                return True
            if last4:
                hit = await s.scalar(
                    select(CrmCardRow.id).where(
                        CrmCardRow.customer_id == customer_id, CrmCardRow.last4 == last4
                    )
                )
                return hit is not None
            return False

    async def accounts(self, customer_id: str) -> list[Account]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(CrmAccountRow)
                .where(CrmAccountRow.customer_id == customer_id)
                .order_by(CrmAccountRow.number)
            )
            return [Account(r.number, r.kind, r.balance_cents, r.currency) for r in rows]

    async def cards(self, customer_id: str) -> list[Card]:
        async with self.sessions() as s:
            rows = await s.scalars(select(CrmCardRow).where(CrmCardRow.customer_id == customer_id))
            return [Card(r.id, r.last4, r.kind, r.status) for r in rows]

    async def block_card(self, customer_id: str, *, last4: str | None) -> Card | None:
        """Block the card ending ``last4`` (or the only active card when last4 is None)."""
        async with self.sessions() as s:
            stmt = select(CrmCardRow).where(
                CrmCardRow.customer_id == customer_id, CrmCardRow.status == "active"
            )
            if last4:
                stmt = select(CrmCardRow).where(
                    CrmCardRow.customer_id == customer_id, CrmCardRow.last4 == last4
                )
            rows = list(await s.scalars(stmt))
            if len(rows) != 1:
                return None
            card = rows[0]
            card.status, card.blocked_at = "blocked", self.clock.now()
            await s.commit()
            return Card(card.id, card.last4, card.kind, card.status)

    async def create_follow_up(
        self, *, customer_id: str | None, contact_id: str | None, kind: str, details: dict[str, Any]
    ) -> str:
        if self.tickets is not None:
            title = kind.replace("_", " ").capitalize() + " (opened by the bot)"
            description = "; ".join(f"{k}: {v}" for k, v in details.items() if v)
            row = await self.tickets.create(
                title=title,
                created_by="bot",
                description=description,
                kind=kind,
                customer_id=customer_id,
                contact_id=contact_id,
                fields={k: str(v) for k, v in details.items()},
            )
            return str(row.id)
        ref = f"{kind[:2].upper()}-{uuid.uuid4().hex[:6].upper()}"
        async with self.sessions() as s:
            s.add(
                CrmFollowUpRow(
                    id=ref,
                    customer_id=customer_id,
                    contact_id=contact_id,
                    kind=kind,
                    details=details,
                    created_at=self.clock.now(),
                )
            )
            await s.commit()
        return ref

    async def update_address(self, customer_id: str, address: str) -> None:
        async with self.sessions() as s:
            row = await s.get(CrmCustomerRow, customer_id)
            if row is not None:
                row.address = address
                await s.commit()

    async def follow_ups(self, *, contact_id: str) -> list[dict[str, Any]]:
        """Follow-up records a conversation opened (for tests and the agent view)."""
        async with self.sessions() as s:
            rows = await s.scalars(
                select(CrmFollowUpRow).where(CrmFollowUpRow.contact_id == contact_id)
            )
            return [
                {"id": r.id, "kind": r.kind, "status": r.status, "details": r.details} for r in rows
            ]


# Demo customers written for this project (fictional people, numbers from the 555-01xx and
# Chinese test ranges). Documented in the README "Demo Bank" section of the bots issue.
DEMO_CUSTOMERS: tuple[dict[str, Any], ...] = (
    {
        "id": "cust-alice",
        "name": "Alice Walker",
        "phone": "+12025550143",
        "dob": "1985-03-12",
        "address": "12 Elm Street, Springfield",
        "language": "en",
        "accounts": [
            ("10012345", "checking", 254_075, "USD"),
            ("10067890", "savings", 1_203_000, "USD"),
        ],
        "cards": [("card-alice-1", "4321", "debit"), ("card-alice-2", "8765", "credit")],
    },
    {
        "id": "cust-bob",
        "name": "Bob Martinez",
        "phone": "+12025550178",
        "dob": "1972-11-30",
        "address": "400 Oak Avenue, Riverton",
        "language": "en",
        "accounts": [("10023456", "checking", 8_912, "USD")],
        "cards": [("card-bob-1", "1234", "debit")],
    },
    {
        "id": "cust-li",
        "name": "李娜",
        "phone": "+8613800138000",
        "dob": "1990-05-14",
        "address": "上海市浦东新区世纪大道100号",
        "language": "zh",
        "accounts": [("62001234", "checking", 5_620_050, "CNY")],
        "cards": [("card-li-1", "6688", "debit")],
    },
    {
        "id": "cust-wang",
        "name": "王伟",
        "phone": "+8613912345678",
        "dob": "1968-08-08",
        "address": "北京市朝阳区建国路88号",
        "language": "zh",
        "accounts": [("62005678", "savings", 30_000_000, "CNY")],
        "cards": [("card-wang-1", "2468", "credit")],
    },
)


async def seed_demo_crm(sessions: async_sessionmaker, *, now: datetime | None = None) -> int:
    """Insert the demo customers, accounts and cards if absent; returns how many were added."""
    added = 0
    async with sessions() as s:
        for c in DEMO_CUSTOMERS:
            if await s.get(CrmCustomerRow, c["id"]) is not None:
                continue
            s.add(
                CrmCustomerRow(
                    id=c["id"],
                    name=c["name"],
                    phone=c["phone"],
                    dob=c["dob"],
                    address=c["address"],
                    language=c["language"],
                )
            )
            await s.flush()
            for number, kind, cents, cur in c["accounts"]:
                s.add(
                    CrmAccountRow(
                        number=number,
                        customer_id=c["id"],
                        kind=kind,
                        balance_cents=cents,
                        currency=cur,
                    )
                )
            for cid, last4, kind in c["cards"]:
                s.add(CrmCardRow(id=cid, customer_id=c["id"], last4=last4, kind=kind))
            added += 1
        await s.commit()
    return added
