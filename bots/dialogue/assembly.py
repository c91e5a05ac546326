"""Assemble the bot for one process: NLU, CRM, engine, trackers, handoff desk → BotService.

``app.py`` calls :func:`build_bot_service` in its lifespan (and so do the integration tests
and ``bench/bots_turns.py``), so the wiring is written once. Training the demo NLU takes
~25 s cold on 2 cores and is cached under ``cache_dir`` by a hash of the data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bots.actions import RasaActionClient
from bots.crm import StoreCrm
from bots.dialogue.engine import DialogueEngine
from bots.dialogue.loader import DEFAULT_FLOWS_DIR, FlowLibrary
from bots.dialogue.service import BotService, SqlTrackerStore, TrackerStore
from bots.dialogue.understanding import NluUnderstander, Understander
from bots.handoff import HandoffDesk, LivePosition
from bots.knowledge import ArticleAnswers
from core.bus.base import Bus
from core.clock import Clock

DEMO_NLU_FILES = ("demo_bank_en.yml", "demo_bank_zh.yml")


def train_demo_nlu(
    *, registry: Any, cache_dir: Path, with_emotion: bool = True, finetune_layers: int = 0
) -> Any:
    """The Demo Bank NLU (EN + ZH) from ``nlu/data``; blocking, call it in a thread.

    ``finetune_layers`` (``bots.nlu_finetune_layers``) tunes the English intent pick
    (nlu/finetune.py); off by default: on the demo's ~10 examples an intent it does not pay.
    """
    from nlu.engine import NluEngine
    from nlu.intents import HeadConfig
    from nlu.rasa_format import read_nlu_yaml

    data_dir = Path(__import__("nlu").__file__).parent / "data"
    data = read_nlu_yaml(data_dir / DEMO_NLU_FILES[0])
    for name in DEMO_NLU_FILES[1:]:
        data = data.merge(read_nlu_yaml(data_dir / name))
    emotion = None
    if with_emotion:
        from nlu.emotion import DEFAULT_HEAD, EmotionClassifier

        if DEFAULT_HEAD.with_suffix(".json").exists():
            emotion = EmotionClassifier.load(DEFAULT_HEAD, registry=registry)
    return NluEngine.train(
        data,
        registry=registry,
        language="auto",
        cache_dir=cache_dir,
        emotion=emotion,
        config=HeadConfig(finetune_layers=finetune_layers) if finetune_layers else None,
    )


async def build_bot_service(
    *,
    sessions: async_sessionmaker,
    bus: Bus,
    clock: Clock,
    understander: Understander | None = None,
    registry: Any = None,
    nlu_cache_dir: Path | None = None,
    flows_dir: Path = DEFAULT_FLOWS_DIR,
    action_server_url: str | None = None,
    trackers: TrackerStore | None = None,
    knowledge_base: Any = None,
    live_position: LivePosition | None = None,
    tickets: Any = None,
) -> BotService:
    """Build the service; with no ``understander`` the demo NLU is trained/loaded (in a thread).

    ``knowledge_base``: the KB (or a callable returning it, None while it is off) that FAQ
    responses naming an article answer from. ``live_position``: routing's position/EWT of
    a waiting contact (``RoutingService.position``) for the queue announcements.
    ``tickets``: the ticket service; follow-ups the bot opens become tickets.
    """
    if understander is None:
        if registry is None or nlu_cache_dir is None:
            raise ValueError("pass an understander, or registry + nlu_cache_dir for the demo NLU")
        nlu = await asyncio.to_thread(train_demo_nlu, registry=registry, cache_dir=nlu_cache_dir)
        understander = NluUnderstander(nlu)
    crm = StoreCrm(sessions, clock=clock, tickets=tickets)
    engine = DialogueEngine(
        library=FlowLibrary(flows_dir),
        crm=crm,
        clock=clock,
        action_client=RasaActionClient(action_server_url) if action_server_url else None,
        knowledge=(
            ArticleAnswers(knowledge_base, clock=clock) if knowledge_base is not None else None
        ),
    )
    return BotService(
        engine=engine,
        understander=understander,
        trackers=trackers or SqlTrackerStore(sessions=sessions, clock=clock),
        bus=bus,
        clock=clock,
        desk=HandoffDesk(sessions=sessions, clock=clock, live_position=live_position),
    )
