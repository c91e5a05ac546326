"""What the engine needs from NLU: the ``Understander`` Protocol and its adapters.

The engine depends on this small Protocol, not on ``nlu.engine``, so unit tests drive it with
a deterministic fake and a deployment can put any NLU behind it. ``NluUnderstander`` adapts
the real :class:`nlu.engine.NluEngine` (inference in a worker thread, off the event loop).
Rasa-style button payloads (``/intent`` or ``/intent{"entity": "value"}``) bypass NLU.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Understanding:
    """One parsed utterance in the shape the engine uses (normalised from any NLU)."""

    text: str
    intent: str
    confidence: float
    entities: tuple[dict[str, Any], ...] = ()
    ranking: tuple[tuple[str, float], ...] = ()
    emotion: dict[str, Any] | None = None
    language: str | None = None
    from_payload: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def entity(self, name: str) -> str | None:
        for e in self.entities:
            if e.get("entity") == name:
                return str(e.get("value"))
        return None


@runtime_checkable
class Understander(Protocol):
    """Anything that parses text: ``nlu.engine.NluEngine`` fits via ``NluUnderstander``."""

    async def understand(self, text: str, *, language: str | None) -> Understanding: ...


_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w-]*)(?P<ents>\{.*\})?$", re.S)


def parse_payload(text: str) -> Understanding | None:
    """Rasa button payload ``/intent{"k": "v"}`` → an Understanding with confidence 1."""
    m = _PAYLOAD.match(text.strip())
    if not m:
        return None
    entities: list[dict[str, Any]] = []
    if m.group("ents"):
        try:
            raw = json.loads(m.group("ents"))
        except json.JSONDecodeError:
            return None
        if not isinstance(raw, dict):
            return None
        entities = [{"entity": str(k), "value": str(v)} for k, v in raw.items()]
    return Understanding(
        text=text,
        intent=m.group("intent"),
        confidence=1.0,
        entities=tuple(entities),
        from_payload=True,
    )


def from_parse_result(result: Any) -> Understanding:
    """Normalise an ``nlu.engine.ParseResult`` (or the Rasa /model/parse dict) to Understanding."""
    get = result.get if isinstance(result, dict) else lambda k, d=None: getattr(result, k, d)
    intent = get("intent") or {}
    ranking = tuple((r["name"], float(r["confidence"])) for r in (get("intent_ranking") or ()))
    return Understanding(
        text=get("text") or "",
        intent=str(intent.get("name") or "out_of_scope"),
        confidence=float(intent.get("confidence") or 0.0),
        entities=tuple(dict(e) for e in (get("entities") or ())),
        ranking=ranking,
        emotion=get("emotion"),
        language=get("language"),
    )


class NluUnderstander:
    """Adapter: ``nlu.engine.NluEngine.parse`` behind the ``Understander`` Protocol.

    Text the NLU refuses (no letters or digits, e.g. "???") becomes ``out_of_scope`` with
    confidence 0, which the engine treats as a misunderstanding rather than an error.
    """

    def __init__(self, engine: Any, *, in_thread: bool = True):
        self.engine = engine
        self.in_thread = in_thread

    async def understand(self, text: str, *, language: str | None) -> Understanding:
        from nlu.errors import NluInputError

        try:
            if self.in_thread:
                result = await asyncio.to_thread(self.engine.parse, text, language=language)
            else:
                result = self.engine.parse(text, language=language)
        except NluInputError:
            return Understanding(text=text, intent="out_of_scope", confidence=0.0)
        return from_parse_result(result)
