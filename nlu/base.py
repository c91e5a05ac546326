"""What the rest of Hotline codes against: an utterance understander and its capabilities.

Bots, assist, routing and QA depend on this Protocol, not on :class:`nlu.engine.NluEngine`,
so they can be tested with any object that parses text the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nlu.engine import ParseResult
    from nlu.prosody import Prosody


@dataclass(frozen=True)
class Capabilities:
    languages: tuple[str, ...] = ("en", "zh")
    out_of_scope: bool = True
    emotion: bool = True
    prosody: bool = True


class Understander(Protocol):
    def parse(
        self, text: str, *, language: str | None = None, prosody: Prosody | None = None
    ) -> ParseResult: ...

    async def aparse(
        self, text: str, *, language: str | None = None, prosody: Prosody | None = None
    ) -> ParseResult: ...
