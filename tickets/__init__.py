"""Tickets: work orders that outlive a contact (follow-ups, disputes, callbacks).

``tickets.service.TicketService`` creates and moves tickets (store, then ``ticket.created`` /
``ticket.updated`` on the bus); ``tickets.api`` serves ``/api/v1/tickets``.
"""
