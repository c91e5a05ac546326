"""Ticket shapes and status rules (pure: no store)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from core.store.tables.tickets import TICKET_PRIORITIES, TICKET_STATUSES
from tickets.repo import OPEN_STATUSES, TRANSITIONS, new_ticket_id
from tickets.schemas import TicketCreate, TicketUpdate


def test_ticket_ids_are_short_and_distinct() -> None:
    ids = {new_ticket_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(re.fullmatch(r"T-[0-9A-F]{8}", i) for i in ids)


def test_every_status_has_rules_and_closed_only_reopens() -> None:
    assert set(TRANSITIONS) == set(TICKET_STATUSES)
    assert all(to <= set(TICKET_STATUSES) and frm not in to for frm, to in TRANSITIONS.items())
    assert TRANSITIONS["closed"] == {"open"}
    assert set(OPEN_STATUSES) < set(TICKET_STATUSES)
    # from anywhere, a ticket can be closed within two moves
    assert all("closed" in to or "closed" in TRANSITIONS[next(iter(to))] for to in
               TRANSITIONS.values())  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x", "kind": "Follow Up"},  # kinds are snake_case
        {"title": "x", "priority": "asap"},
        {"title": "x", "status": "closed"},  # a new ticket is open
        {"title": "x" * 301},
    ],
)
def test_bad_tickets_are_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        TicketCreate(**body)


def test_defaults_and_updates() -> None:
    t = TicketCreate(title="Card dispute", kind="dispute", fields={"amount": "42.00"})
    assert (t.priority, t.customer_id, t.fields) == ("normal", None, {"amount": "42.00"})
    assert t.priority in TICKET_PRIORITIES
    assert TicketUpdate().model_dump() == {
        "status": None, "priority": None, "assignee": None, "note": None,
    }  # fmt: skip
    with pytest.raises(ValidationError):
        TicketUpdate(status="gone")
