"""Assist API against the real app served by uvicorn on loopback (memory bus, seeded SQLite):
the live socket catches up from the store and streams what is published; ratings are
stored and re-rank the KB; the summary is editable and stored with the contact; the
customer card is the unified, masked view; the KB pages list, show and edit (new version).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from assist import repo
from assist.articles import Article
from assist.embedding import HashingEmbedder
from assist.kb import KnowledgeBase
from assist.ranking import RankedKnowledge
from core.clock import FrozenClock
from core.events import AssistSuggestion
from core.settings import FeatureSettings, Settings
from core.store.tables.assist import ContactSummaryRow, SuggestionRating
from core.store.tables.contacts import ContactRow
from core.store.tables.crm import CrmAccountRow, CrmCardRow, CrmCustomerRow, CrmFollowUpRow
from tests.conftest import wait_for

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        bus_url="memory://",
        log_json=True,
        secret_key="test-secret-0123456789abcdef0123456789",
        features=FeatureSettings(voice=False, bots=False, assist=False, qa=False, campaigns=False),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_kb(index_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=FrozenClock(), index_dir=index_dir)
    for aid, title, body in (
        (
            "en-lost-card",
            "Lost or stolen card",
            "Block a lost card at once in the app or by phone.",
        ),
        ("en-card-block", "Blocking a card", "To block a lost card, freeze it in the app first."),
        ("en-fees", "Account fees", "The monthly account fee is 5 USD, waived above 1000 USD."),
    ):
        kb.upsert(Article(id=aid, title=title, body=body, language="en"))
    return kb


@pytest.fixture
async def served(settings, seeded_sqlite, tmp_path) -> AsyncIterator[dict]:  # type: ignore[no-untyped-def]
    import uvicorn

    from app import create_app
    from assist.service import AssistService

    template, passwords = seeded_sqlite
    shutil.copy(template, settings.data_dir / "hotline.db")
    app = create_app(settings)
    kb = demo_kb(tmp_path / "kb")
    app.state.kb = kb
    # a service built as app._start_features builds it (not subscribed: the tests publish
    # suggestions themselves), searching through the rating re-ranker
    app.state.assist = AssistService(
        app.state.bus, RankedKnowledge(kb, app.state.assist_boosts), clock=FrozenClock()
    )
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serve = asyncio.create_task(srv.serve())
    await wait_for(lambda: srv.started, timeout=30)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield {
                "base": base,
                "ws": f"ws://127.0.0.1:{port}",
                "app": app,
                "client": client,
                "passwords": passwords,
            }
    finally:
        srv.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serve, 30)


async def token(client: httpx.AsyncClient, username: str, passwords: dict[str, str]) -> str:
    r = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": passwords[username]}
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def sug(contact_id: str, n: int, kind: str = "knowledge", source: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return AssistSuggestion(
        contact_id=contact_id,
        at=T0 + timedelta(seconds=n),
        kind=kind,
        title=f"s{n}",
        body=f"body {n}",
        source=source or f"kb:en-fees#{n}@v1",
        **kw,
    )


async def recv(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def test_live_socket_catches_up_from_store_then_streams(served) -> None:  # type: ignore[no-untyped-def]
    import websockets

    app, client = served["app"], served["client"]
    tok = await token(client, "agent1", served["passwords"])
    writer = repo.StoreWriter(app.state.store.sessions)
    stored = sug("c-live", 1)
    await writer.save_suggestion(stored)  # said before the sidebar opened (store only)
    url = f"{served['ws']}/api/v1/assist/contacts/c-live/live?token={tok}"

    async with websockets.connect(url) as ws:
        first = await recv(ws)
        assert (first["type"], first["id"], first["kind"]) == ("suggestion", stored.id, "knowledge")
        assert (await recv(ws))["type"] == "caught_up"
        await wait_for(lambda: app.state.assist_live.watching("c-live") == 1)
        await app.state.bus.publish(sug("c-other", 2))  # another contact's: not for this socket
        live = sug("c-live", 3, kind="disclosure", source="disclosure:recording", score=0.0)
        await app.state.bus.publish(live)
        got = await recv(ws)
        assert (got["id"], got["kind"], got["source"], got["score"]) == (
            live.id,
            "disclosure",
            "disclosure:recording",
            0.0,
        )
    await wait_for(lambda: app.state.assist_live.watching("c-live") == 0)

    # reconnect mid-call: everything so far, once each, oldest first, then live again
    said = sug("c-live", 4, kind="disclosure", source="disclosure:recording", score=1.0)
    await app.state.bus.publish(said)  # published while no sidebar was open
    await writer.save_suggestion(said)  # the service stores what it publishes: no duplicate
    await wait_for(lambda: len(app.state.assist_live.recent("c-live")) == 2)
    async with websockets.connect(url) as ws:
        ids = []
        while (msg := await recv(ws))["type"] == "suggestion":
            ids.append(msg["id"])
        assert msg["type"] == "caught_up"
        assert ids == [stored.id, live.id, said.id]
        more = sug("c-live", 5, kind="compliance", source="compliance:guaranteed_returns")
        await app.state.bus.publish(more)
        assert (await recv(ws))["id"] == more.id

    r = await client.get(
        "/api/v1/assist/contacts/c-live/suggestions", headers={"Authorization": f"Bearer {tok}"}
    )
    assert [m["id"] for m in r.json()] == [stored.id, live.id, said.id, more.id]


async def test_live_socket_refuses_strangers(served) -> None:  # type: ignore[no-untyped-def]
    import websockets

    client = served["client"]
    url = f"{served['ws']}/api/v1/assist/contacts/c1/live"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url):
            pass
    qa = await token(client, "qa", served["passwords"])
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(f"{url}?token={qa}"):
            pass
    assert served["app"].state.assist_live.watching("c1") == 0


async def test_ratings_are_stored_and_rerank_knowledge(served) -> None:  # type: ignore[no-untyped-def]
    app, client = served["app"], served["client"]
    hdr = {"Authorization": f"Bearer {await token(client, 'agent1', served['passwords'])}"}
    sup = {"Authorization": f"Bearer {await token(client, 'supervisor', served['passwords'])}"}

    async def top(q: str) -> list[str]:
        r = await client.get("/api/v1/assist/kb/search", params={"q": q, "k": 2}, headers=hdr)
        assert r.status_code == 200, r.text
        return [h["article_id"] for h in r.json()]

    before = await top("block lost card")
    assert set(before) == {"en-lost-card", "en-card-block"}
    loser = before[1]
    hits = app.state.kb.search("block lost card", k=2)
    passage = next(h.passage_id for h in hits if h.article_id == loser)
    writer = repo.StoreWriter(app.state.store.sessions)
    shown = sug("c-rate", 1, source=f"kb:{passage}@v1")
    await writer.save_suggestion(shown)

    r = await client.post(
        f"/api/v1/assist/suggestions/{shown.id}/rating", json={"useful": True}, headers=hdr
    )
    assert r.status_code == 200, r.text
    assert (r.json()["source_useful"], r.json()["source_not_useful"]) == (1, 0)
    assert (await top("block lost card"))[0] == loser  # the rated passage now answers first
    hits = await asyncio.to_thread(app.state.assist.kb.search, "block lost card", k=1)
    assert hits[0].article_id == loser

    # one verdict per agent (latest wins); another agent's counts too
    r = await client.post(
        f"/api/v1/assist/suggestions/{shown.id}/rating", json={"useful": False}, headers=hdr
    )
    r = await client.post(
        f"/api/v1/assist/suggestions/{shown.id}/rating", json={"useful": False}, headers=sup
    )
    assert (r.json()["source_useful"], r.json()["source_not_useful"]) == (0, 2)
    assert (await top("block lost card"))[0] != loser
    async with app.state.store.sessions() as s:
        rows = (await s.scalars(repo.select(SuggestionRating))).all()
    assert sorted((x.agent_id, x.useful) for x in rows) == [
        ("agent1", False),
        ("supervisor", False),
    ]

    r = await client.post(
        "/api/v1/assist/suggestions/nope/rating", json={"useful": True}, headers=hdr
    )
    assert r.status_code == 404


async def _seed_customer(app) -> None:  # type: ignore[no-untyped-def]
    async with app.state.store.sessions.begin() as s:
        s.add(
            CrmCustomerRow(
                id="cust-1",
                name="Alice Chen",
                phone="+15551234567",
                dob="1985-04-12",
                address="1 Main St",
                language="en",
            )
        )
        await s.flush()
        s.add_all(
            [
                CrmAccountRow(
                    number="12345678",
                    customer_id="cust-1",
                    kind="checking",
                    balance_cents=123456,
                    currency="USD",
                ),
                CrmCardRow(
                    id="card-1", customer_id="cust-1", last4="4242", kind="debit", status="blocked"
                ),
                CrmFollowUpRow(
                    id="DSP-1",
                    customer_id="cust-1",
                    contact_id="c-old",
                    kind="dispute",
                    status="open",
                    details={},
                    created_at=T0,
                ),
                CrmFollowUpRow(
                    id="CB-1",
                    customer_id="cust-1",
                    contact_id="c-old",
                    kind="callback",
                    status="closed",
                    details={},
                    created_at=T0,
                ),
                ContactRow(
                    id="c-old",
                    channel="chat",
                    customer_id="cust-1",
                    status="ended",
                    outcome="resolved",
                    started_at=T0 - timedelta(days=2),
                    ended_at=T0 - timedelta(days=2, minutes=-5),
                ),
                ContactRow(
                    id="c-now",
                    channel="voice",
                    customer_id="cust-1",
                    status="active",
                    started_at=T0,
                    language="en",
                ),
                ContactRow(id="c-anon", channel="voice", status="active", started_at=T0),
            ]
        )
        await s.flush()
        s.add(
            ContactSummaryRow(
                contact_id="c-old",
                language="en",
                reason="Card lost",
                actions=["blocked card"],
                outcome="Card blocked",
                outcome_code="resolved",
                follow_ups=[],
                entities={},
                generated_text="Reason: card lost; card blocked",
            )
        )


async def test_customer_card_is_the_unified_masked_view(served) -> None:  # type: ignore[no-untyped-def]
    app, client = served["app"], served["client"]
    await _seed_customer(app)
    hdr = {"Authorization": f"Bearer {await token(client, 'agent1', served['passwords'])}"}
    r = await client.get("/api/v1/assist/contacts/c-now/card", headers=hdr)
    assert r.status_code == 200, r.text
    card = r.json()
    cust = card["customer"]
    assert cust["name"] == "Alice C." and cust["phone"].endswith("4567")
    assert "555123" not in cust["phone"] and cust["dob"] == "1985-••-••"
    assert "address" not in cust
    assert card["products"]["accounts"] == [
        {"number": "••••5678", "kind": "checking", "currency": "USD", "balance": "1234.56"}
    ]
    assert card["products"]["cards"] == [{"last4": "4242", "kind": "debit", "status": "blocked"}]
    assert [f["id"] for f in card["open_follow_ups"]] == ["DSP-1"]
    recent = card["recent_contacts"]
    assert [(c["id"], c["channel"]) for c in recent] == [("c-now", "voice"), ("c-old", "chat")]
    assert recent[1]["summary"] == "Reason: card lost; card blocked"
    assert recent[1]["outcome"] == "resolved"
    same = await client.get("/api/v1/assist/customers/cust-1/card", headers=hdr)
    assert same.json()["recent_contacts"] == recent

    anon = (await client.get("/api/v1/assist/contacts/c-anon/card", headers=hdr)).json()
    assert anon["customer"] is None and anon["recent_contacts"] == []
    assert (await client.get("/api/v1/assist/contacts/nope/card", headers=hdr)).status_code == 404
    assert (await client.get("/api/v1/assist/contacts/c-now/card")).status_code == 401
    rep = {"Authorization": f"Bearer {await token(client, 'reports', served['passwords'])}"}
    assert (await client.get("/api/v1/assist/contacts/c-now/card", headers=rep)).status_code == 403


async def test_summary_is_editable_and_stored_with_the_contact(served) -> None:  # type: ignore[no-untyped-def]
    app, client = served["app"], served["client"]
    await _seed_customer(app)
    hdr = {"Authorization": f"Bearer {await token(client, 'agent1', served['passwords'])}"}
    r = await client.get("/api/v1/assist/contacts/c-old/summary", headers=hdr)
    assert r.json()["text"] == "Reason: card lost; card blocked" and not r.json()["edited"]

    r = await client.put(
        "/api/v1/assist/contacts/c-old/summary",
        json={"text": "Card lost; blocked; new card sent"},
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["edited"] and out["edited_by"] == "agent1"
    assert out["generated_text"] == "Reason: card lost; card blocked"
    async with app.state.store.sessions() as s:
        assert (await s.get(ContactRow, "c-old")).summary == "Card lost; blocked; new card sent"

    # no generated summary yet (assist off / still talking): the agent writes one
    assert (
        await client.get("/api/v1/assist/contacts/c-now/summary", headers=hdr)
    ).status_code == 404
    r = await client.put(
        "/api/v1/assist/contacts/c-now/summary", json={"text": "客户挂失信用卡"}, headers=hdr
    )
    assert r.status_code == 200 and r.json()["text"] == "客户挂失信用卡"
    r = await client.get("/api/v1/assist/contacts/c-now/summary", headers=hdr)
    assert r.json()["text"] == "客户挂失信用卡"
    r = await client.put("/api/v1/assist/contacts/missing/summary", json={"text": "x"}, headers=hdr)
    assert r.status_code == 404


async def test_kb_pages_and_edit_make_a_new_version(served) -> None:  # type: ignore[no-untyped-def]
    app, client = served["app"], served["client"]
    r = await client.post(
        "/login",
        data={"username": "agent1", "password": served["passwords"]["agent1"], "next": "/kb"},
    )
    assert r.status_code == 303
    page = await client.get("/kb")
    assert page.status_code == 200 and "Account fees" in page.text
    found = await client.get("/kb", params={"q": "monthly fee"})
    assert "waived above 1000" in found.text  # the passage, not just the title
    art = await client.get("/kb/en-fees")
    assert "kb-edit" in art.text and "version 1" in art.text

    r = await client.put(
        "/api/v1/assist/kb/articles/en-fees",
        json={"title": "Account fees", "body": "The monthly fee is 4 USD."},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["status"], r.json()["versions"]) == (2, "updated", [1, 2])
    again = await client.put(
        "/api/v1/assist/kb/articles/en-fees",
        json={"title": "Account fees", "body": "The monthly fee is 4 USD."},
    )
    assert again.json()["status"] == "unchanged"
    assert "4 USD" in (await client.get("/kb/en-fees")).text
    assert "5 USD" in (await client.get("/kb/en-fees", params={"version": 1})).text
    hits = await client.get("/api/v1/assist/kb/search", params={"q": "monthly fee"})
    assert "4 USD" in hits.json()[0]["text"]
    async with app.state.store.sessions() as s:
        versions = await repo.list_suggestions(s, contact_id="none")  # store reachable
        assert versions == []
    assert (await client.get("/kb/nope")).status_code == 200  # "no article" shown, not a crash
    r = await client.put(
        "/api/v1/assist/kb/articles/zh-new", json={"title": "新文章", "body": "内容"}
    )
    assert r.status_code == 422  # a new article needs its language

    page = await client.get("/assist/c-now")
    assert page.status_code == 200 and "/static/assist-sidebar.js" in page.text
