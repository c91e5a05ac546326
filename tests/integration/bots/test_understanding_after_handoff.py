"""The bot hands a chat to people; from then on the nlu subscriber understands the customer.

Real dialogue service, real demo NLU (MiniLM + e5 + emotion head), the app's subscriber.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bots.dialogue.understanding import NluUnderstander
from core.events import ContactEnded, EmotionResult, HandoffRequested, NluResult
from nlu.subscriber import UnderstandingSubscriber
from tests.unit.bots.conftest import make_harness

pytestmark = pytest.mark.slow


async def test_customer_turns_after_handoff_are_understood_and_the_call_summed_up(
    tmp_path: Path, nlu_engine: Any
) -> None:
    if nlu_engine.emotion is None:
        pytest.skip("no emotion head shipped (run make models)")
    h = await make_harness(tmp_path, understander=NluUnderstander(nlu_engine))
    UnderstandingSubscriber(h.bus, lambda: nlu_engine, clock=h.clock).subscribe()
    try:
        await h.say("I need to talk to a real person")
        events = await h.drained()
        handoff = [e for e in events if isinstance(e, HandoffRequested)]
        assert handoff, [e.type for e in events]
        cid = handoff[0].contact_id
        bot_nlu = [e for e in events if isinstance(e, NluResult)]
        assert len(bot_nlu) == 1  # the bot's own parse of the first turn, not ours as well

        # queued for an agent: the bot no longer parses; the subscriber does
        await h.say("this is outrageous, you charged me twice and nobody fixes it")
        await h.say("ok thanks, that is really helpful")
        await h.bus.drain()
        await h.bus.publish(ContactEnded(contact_id=cid))
        for _ in range(3):
            await h.bus.drain()
        events = h.events
        ours = [e for e in events if isinstance(e, NluResult)][1:]
        assert [e.text for e in ours] == [
            "this is outrageous, you charged me twice and nobody fixes it",
            "ok thanks, that is really helpful",
        ]
        moods = [e for e in events if isinstance(e, EmotionResult) and e.scope == "utterance"]
        assert [e.label for e in moods][-2:][0] in ("angry", "frustrated")
        assert moods[-1].label == "satisfied"
        (call,) = [e for e in events if isinstance(e, EmotionResult) and e.scope == "call"]
        assert call.contact_id == cid and call.escalate and call.trend == "improving"
    finally:
        await h.bus.close()
        await h.store.close()
