"""FastAPI app factory: wires settings, store, bus, engines, subscribers and routers.

Nothing here does domain work; this is the one place objects are composed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from asr.batch import transcribe_recordings
from asr.faster_whisper import FasterWhisperSTT
from assist.api import router as assist_router
from assist.embedding import load_e5 as load_kb_embedder
from assist.help import HelpDesk, HelpLive
from assist.kb import KnowledgeBase
from assist.live import AssistLive
from assist.pages import build_pages_router as build_assist_pages
from assist.ranking import RankedKnowledge, RatingBoosts
from assist.repo import QueuedStoreWriter, source_ratings
from assist.service import AssistService
from bots.agent_chat import AgentChatRelay
from bots.api import build_bots_router, build_channel_router
from bots.campaigns.api import build_page_router as build_campaign_pages
from bots.campaigns.api import build_router as build_campaigns_router
from bots.campaigns.api import build_webhook_router as build_campaign_webhooks
from bots.campaigns.runtime import build_runtime as build_campaign_runtime
from bots.dialogue.assembly import build_bot_service, train_demo_nlu
from bots.dialogue.understanding import NluUnderstander
from bots.dialogue_responder import DialogueResponder
from bots.voice_pipeline import VoiceConfig, build_voice_engines, make_voice_factory
from channels.agent_api import build_agent_media_router
from channels.agent_bridge import MediaBridges
from channels.api import build_page_router as build_call_page_router
from channels.api import build_router as build_voice_router
from channels.audiosocket_server import serve_audiosocket
from channels.twilio_stream import HandshakeSignature
from core.api import auth_router, contacts_router, jobs_router, users_router
from core.bus import open_bus
from core.clock import Clock, SystemClock
from core.deps import ANY_ROLE, require_roles
from core.domain import Role
from core.errors import (
    AuthError,
    BusError,
    ConflictError,
    Disabled,
    FeatureDisabled,
    ForbiddenError,
    HotlineError,
    NotFoundError,
    StoreError,
    ValidationFailed,
)
from core.jobs import JobRunner
from core.logging import configure_logging
from core.metrics import make_metrics
from core.settings import Settings, load_settings
from core.store import open_store
from core.store.timeline import TimelineRecorder
from models import CATALOG, Registry
from nlu.api import build_router as build_nlu_router
from nlu.subscriber import UnderstandingSubscriber
from qa.api import router as qa_router
from qa.pages import build_pages_router as build_qa_pages
from qa.repo import active_scorecard_text
from qa.scorecard import load_default as load_default_scorecard
from qa.scorecard import parse_scorecard
from qa.subscriber import QaSubscriber
from qa.subscriber import backfill as qa_backfill_contacts
from routing.api import router as routing_router
from routing.api import ws_require_roles
from routing.call_control import CallControl
from routing.config import load_queues
from routing.live import LiveHub
from routing.pages import build_pages_router as build_routing_pages
from routing.service import RoutingService
from tickets.api import router as tickets_router
from tickets.service import TicketService
from tts.by_language import VoicesByLanguage
from tts.piper import PiperTTS
from web.routes import build_pages_router, mount_static

API_PREFIX = "/api/v1"
DEMO_KB = Path(__file__).parent / "assist" / "kb"
log = structlog.get_logger("hotline.app")

_STATUS: tuple[tuple[type[HotlineError], int], ...] = (
    (ForbiddenError, 403),
    (AuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ValidationFailed, 422),
    (FeatureDisabled, 503),
    (StoreError, 503),
    (BusError, 503),
)


def _status_for(exc: HotlineError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 503 if exc.recoverable else 400


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    registry: Registry | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    clock = clock or SystemClock()
    store = open_store(settings.database_url)
    bus = open_bus(
        settings.bus_url,
        stream=settings.bus.stream,
        outbox_size=settings.bus.outbox_size,
    )
    registry = registry or Registry(CATALOG, models_dir=settings.models_dir)
    metrics = make_metrics()
    timeline = TimelineRecorder(bus=bus, sessions=store.sessions)
    jobs = JobRunner(sessions=store.sessions, clock=clock)
    routing = RoutingService(sessions=store.sessions, bus=bus, clock=clock, queues=load_queues())
    features = settings.features
    campaigns = (
        build_campaign_runtime(
            sessions=store.sessions,
            clock=clock,
            settings=settings.campaigns,
            bus=bus,
            tts=_campaign_voices(registry) if features.voice else None,
        )
        if features.campaigns
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.check()
        timeline.attach()
        await routing.start()
        routing.subscribe()
        await app.state.live.restore(store.sessions)  # today's SL/abandons survive a restart
        await _start_features(app, settings=settings, registry=registry, clock=clock)
        await bus.start()
        await jobs.start()
        background = [asyncio.create_task(routing.run(interval_s=1.0), name="routing-loop")]
        if features.bots:
            background.append(asyncio.create_task(_expire_chats(app), name="bots-expire"))
        if campaigns is not None:
            await campaigns.start()
        log.info(
            "hotline.started", store=store.url.split("://")[0], bus=settings.bus_url.split("://")[0]
        )
        try:
            yield
        finally:
            preload = getattr(app.state, "zh_preload", None)
            if preload is not None:
                background.append(preload)
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.live.close()
            if campaigns is not None:
                await campaigns.stop()
            if app.state.audiosocket is not None:
                app.state.audiosocket.close()
            await jobs.close()
            await bus.close()
            if features.assist:
                await app.state.assist.close()  # flushes the write-behind suggestions
            await store.close()

    app = FastAPI(
        title="Hotline",
        version="0.1.0",
        description="Open-source, AI-first contact centre",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.store = store
    app.state.bus = bus
    app.state.registry = registry
    app.state.metrics = metrics
    app.state.timeline = timeline
    app.state.jobs = jobs
    app.state.routing = routing
    app.state.campaigns = campaigns or Disabled("campaigns")
    for name in ("nlu", "understanding", "bots", "voice_factory", "assist", "kb", "qa"):
        setattr(app.state, name, Disabled(name))
    app.state.audiosocket = None

    @app.exception_handler(HotlineError)
    async def _hotline_error(request: Request, exc: HotlineError) -> JSONResponse:
        return JSONResponse(
            {"code": exc.code, "message": exc.message}, status_code=_status_for(exc)
        )

    @app.middleware("http")
    async def _request_context(request: Request, call_next):  # type: ignore[no-untyped-def]
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        t0 = time.perf_counter()
        try:
            response: Response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.http_requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.http_latency.labels(path).observe(time.perf_counter() - t0)
        response.headers["x-request-id"] = request_id
        return response

    for router in (auth_router, users_router, contacts_router, jobs_router):
        app.include_router(router, prefix=API_PREFIX)
    _include_area_routers(app, campaigns)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    async def ready() -> JSONResponse:
        """Readiness: store, bus and model files are usable."""
        checks = {
            "store": await store.ping(),
            "bus": await bus.ping(),
            "models": all(registry.verify(name, check_hash=False).ok for name in registry.entries),
        }
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def prometheus_metrics() -> Response:
        metrics.bus_published.set(bus.published)
        metrics.bus_dropped.set(bus.dropped)
        metrics.bus_outbox_depth.set(bus.outbox_depth)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # Agent desktop, supervisor view and the media bridge between callers and agents (issue 7).
    live = LiveHub(routing=routing, bus=bus, clock=clock)
    live.attach()
    call_control = CallControl(routing=routing, clock=clock, bus=bus)
    media_bridges = MediaBridges()
    call_control.listeners += [live.control_changed, media_bridges.apply_control]
    app.state.live = live
    app.state.call_control = call_control
    app.state.media_bridges = media_bridges
    app.include_router(routing_router, prefix=API_PREFIX)
    app.include_router(build_routing_pages())
    app.include_router(
        build_agent_media_router(
            bridges=media_bridges,
            may_join=call_control.participant,
            agent_guard=ws_require_roles(Role.AGENT),
            supervisor_guard=ws_require_roles(Role.SUPERVISOR),
        )
    )
    # Live-assist fan-out to sidebars, and agents' ratings re-ranking knowledge (issue 8).
    app.state.assist_live = AssistLive(bus)
    app.state.assist_live.attach()
    app.state.assist_boosts = RatingBoosts()
    # "Ask a supervisor" help requests, live to supervisors and the agent's sidebar (issue 8).
    app.state.help_live = HelpLive(bus)
    app.state.help_live.attach()
    app.state.help_desk = HelpDesk(
        bus=bus, sessions=store.sessions, clock=clock, monitor=call_control.monitor
    )
    app.state.tickets = TicketService(sessions=store.sessions, bus=bus, clock=clock)
    app.include_router(tickets_router, prefix=API_PREFIX)

    app.include_router(build_pages_router())
    mount_static(app)
    return app


def _include_area_routers(app: FastAPI, campaigns: object | None) -> None:
    """Every area's API under /api/v1 and its pages at the root (routes exist even when a
    feature is off; using them then answers 503 feature_disabled)."""

    async def voice_factory(session: object) -> object:
        return await app.state.voice_factory(session)

    settings: Settings = app.state.settings
    twilio_token = (
        settings.voice.twilio_auth_token.get_secret_value()
        or settings.campaigns.twilio_auth_token.get_secret_value()
    )
    signed = HandshakeSignature(twilio_token, settings.voice.public_ws_url)
    app.include_router(
        build_voice_router(
            voice_factory=voice_factory,
            twilio_signature=signed,
            outbound_stream=getattr(getattr(campaigns, "media_hub", None), "serve", None),
        ),
        prefix=API_PREFIX,
    )
    app.include_router(build_call_page_router(ws_path=f"{API_PREFIX}/voice/browser"))
    app.include_router(build_channel_router())
    app.include_router(build_bots_router(), prefix=API_PREFIX)
    app.include_router(
        build_nlu_router(lambda: app.state.nlu or None, dependencies=[require_roles(*ANY_ROLE)])
    )
    if campaigns is not None:
        app.include_router(build_campaigns_router(campaigns), prefix=API_PREFIX)
        app.include_router(build_campaign_webhooks(campaigns), prefix=API_PREFIX)
    app.include_router(build_campaign_pages())
    app.include_router(qa_router, prefix=API_PREFIX)
    app.include_router(build_qa_pages())
    app.include_router(assist_router, prefix=API_PREFIX)
    app.include_router(build_assist_pages())


def _campaign_voices(registry: Registry) -> VoicesByLanguage:
    """Campaign lines in English by Piper, in Mandarin by Kokoro (loaded on the first one)."""
    from tts.kokoro import KokoroTTS

    return VoicesByLanguage({"en": PiperTTS(registry), "zh": lambda: KokoroTTS(registry)})


async def _preload_language(engines: object, language: str) -> None:
    try:
        await asyncio.to_thread(engines.for_language, language)  # type: ignore[attr-defined]
        log.info("voice.language_preloaded", language=language)
    except Exception as e:  # a missing voice only costs the first such call its wait
        log.warning("voice.preload_failed", language=language, error=repr(e))


def wire_agent_chat(app: FastAPI) -> AgentChatRelay:
    """Agents type into handed-off chats: the relay joins bots, bus and call control."""
    relay = AgentChatRelay(app.state.bots)
    relay.attach(app.state.bus)
    app.state.call_control.listeners.append(relay.on_control)
    return relay


async def _start_features(
    app: FastAPI, *, settings: Settings, registry: Registry, clock: Clock
) -> None:
    """Load the model-backed parts switched on in ``settings.features`` (once per process)."""
    features, store, bus = settings.features, app.state.store, app.state.bus
    if features.bots:
        # One NLU (trained once, cached by a hash of its data) serves the bots and /model/parse.
        app.state.nlu = await asyncio.to_thread(
            train_demo_nlu,
            registry=registry,
            cache_dir=settings.models_dir / "nlu",
            finetune_layers=settings.bots.nlu_finetune_layers,
        )
        app.state.bots = await build_bot_service(
            sessions=store.sessions,
            bus=bus,
            clock=clock,
            understander=NluUnderstander(app.state.nlu),
            action_server_url=settings.bots.action_server_url,
            # FAQ answers from the KB once assist has opened it; routing's position/EWT.
            knowledge_base=lambda: app.state.kb or None,
            live_position=app.state.routing.position,
            tickets=app.state.tickets,  # disputes/complaints the bot opens are tickets
        )
        wire_agent_chat(app)
        # the customer is still understood once people take over; each call gets one emotion
        app.state.understanding = UnderstandingSubscriber(
            bus, lambda: app.state.nlu or None, clock=clock
        )
        app.state.understanding.subscribe()
    if features.voice:
        # Hold audio stops once an agent's softphone is on the call's media (issue 7 bridge).
        responder = (
            DialogueResponder(
                app.state.bots,
                agent_connected=lambda cid: bool(
                    getattr(app.state.media_bridges.get(cid), "agent_on", False)
                ),
            )
            if features.bots
            else None
        )
        engines = await asyncio.to_thread(build_voice_engines, registry, responder=responder)
        config = VoiceConfig() if settings.voice.announcement else VoiceConfig(announcement=None)
        app.state.voice_factory = make_voice_factory(
            engines,
            bus=bus,
            clock=clock,
            recordings_dir=settings.data_dir / "recordings",
            config=config,
        )
        if settings.voice.preload_zh:
            # Mandarin (whisper-base + Kokoro, ~15 s of CPU) loads in the background so the
            # first 普通话 call does not wait for it; until then such a call loads it itself
            app.state.zh_preload = asyncio.create_task(
                _preload_language(engines, "zh"), name="voice-preload-zh"
            )
        if settings.voice.audiosocket_port:
            app.state.audiosocket = await serve_audiosocket(
                settings.voice.audiosocket_host,
                settings.voice.audiosocket_port,
                voice_factory=app.state.media_bridges.wrap_factory(app.state.voice_factory),
                # answered ARI campaign calls stream in here too (their UUID is the call id)
                outbound=app.state.campaigns.media_hub if app.state.campaigns else None,
            )
    if features.assist:
        kb = await asyncio.to_thread(
            KnowledgeBase.open,
            settings.data_dir / "kb",
            embedder=load_kb_embedder(registry),
            clock=clock,
        )
        # Incremental: only new or changed passages of the shipped demo KB are embedded.
        await asyncio.to_thread(kb.import_folder, DEMO_KB)
        app.state.kb = kb
        async with store.sessions() as session:
            app.state.assist_boosts.load(await source_ratings(session))
        assist = AssistService(
            bus,
            RankedKnowledge(kb, app.state.assist_boosts),
            clock=clock,
            store_writer=QueuedStoreWriter(store.sessions),
        )
        assist.subscribe()
        app.state.assist = assist

    async def transcribe_job(payload: dict) -> dict:
        """Batch re-transcription of stored recordings (beam from asr.batch_beam_size)."""
        language = payload.get("language") or None
        model = settings.asr.live_model if language == "en" else settings.asr.multilingual_model
        engine = FasterWhisperSTT(registry, model=model, beam_size=settings.asr.batch_beam_size)
        results = await transcribe_recordings(
            [Path(p) for p in payload.get("paths", [])], engine, language=language
        )
        return {
            "transcripts": [
                {"file": r.extra.get("file"), "text": r.text, "language": r.language,
                 "error": r.extra.get("error")}
                for r in results
            ]
        }  # fmt: skip

    app.state.jobs.register("transcribe", transcribe_job)
    if features.qa:

        async def active_scorecard() -> object:
            """The card saved on the QA page (the shipped default until one is saved)."""
            async with store.sessions() as session:
                text = await active_scorecard_text(session)
            return (
                parse_scorecard(text, source="scorecards:default")
                if text
                else load_default_scorecard()
            )

        qa = QaSubscriber(bus, store.sessions, active_scorecard)
        qa.attach()
        app.state.qa = qa

        async def qa_backfill(payload: dict) -> dict:
            report = await qa_backfill_contacts(
                session_factory=store.sessions,
                scorecard=await active_scorecard(),
                contact_ids=payload.get("contact_ids"),
                bus=bus,
            )
            return dataclasses.asdict(report) if dataclasses.is_dataclass(report) else {}

        app.state.jobs.register("qa_backfill", qa_backfill)


async def _expire_chats(app: FastAPI) -> None:
    """Close chats nobody has written in for ``bots.idle_s`` (they count as abandoned)."""
    while True:
        await asyncio.sleep(60)
        with contextlib.suppress(Exception):
            await app.state.bots.expire_idle(idle_s=app.state.settings.bots.idle_s)
