"""Errors raised by the tickets package.

HotlineError (core.errors)
└── TicketError                  ticket_error
    ├── TicketNotFound           ticket_not_found     (also a NotFoundError: 404)
    └── InvalidTicketTransition  invalid_transition   (also a ConflictError: 409, e.g.
                                                        closed → resolved; reopen first)
"""

from __future__ import annotations

from core.errors import ConflictError, HotlineError, NotFoundError


class TicketError(HotlineError):
    code = "ticket_error"


class TicketNotFound(TicketError, NotFoundError):
    code = "ticket_not_found"


class InvalidTicketTransition(TicketError, ConflictError):
    code = "invalid_transition"
