"""Routing errors: every failure of the ACD names a stable code.

HotlineError (core.errors)
└── RoutingError                     routing_error
    ├── UnknownQueue                 unknown_queue            (transfer/enqueue to a missing queue)
    ├── UnknownAgent                 unknown_agent
    ├── UnknownContact               unknown_contact
    ├── InvalidTransition            invalid_transition       (e.g. busy -> offline, two states)
    ├── SkillLevelOutOfRange         skill_level_out_of_range (levels are 1..10)
    ├── CapacityExceeded             capacity_exceeded        (offer beyond channel capacity)
    ├── InvalidDisposition           invalid_disposition
    ├── InvalidScenario              invalid_scenario         (bad line in `hotline route`)
    └── UnknownStrategy              unknown_strategy
"""

from __future__ import annotations

from core.errors import HotlineError


class RoutingError(HotlineError):
    code = "routing_error"


class UnknownQueue(RoutingError):
    code = "unknown_queue"


class UnknownAgent(RoutingError):
    code = "unknown_agent"


class UnknownContact(RoutingError):
    code = "unknown_contact"


class InvalidTransition(RoutingError):
    code = "invalid_transition"


class SkillLevelOutOfRange(RoutingError):
    code = "skill_level_out_of_range"


class CapacityExceeded(RoutingError):
    code = "capacity_exceeded"


class InvalidDisposition(RoutingError):
    code = "invalid_disposition"


class InvalidScenario(RoutingError):
    code = "invalid_scenario"


class UnknownStrategy(RoutingError):
    code = "unknown_strategy"
