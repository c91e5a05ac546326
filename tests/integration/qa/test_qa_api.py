"""The QA review API on the real app (seeded SQLite copy, memory bus): list filters,
evidence with the transcript, overrides, disputes, calibration, trends, scorecards, pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from core.store.tables.qa import QaScore
from qa.calibration import Rating, calibrate
from qa.scorecard import DEFAULT_PATH
from tests.conftest import login
from tests.integration.qa.review_seed import (
    fixture_call,
    light_settings,
    seed_scored_contact,
    store_events,
)

API = "/api/v1/qa"


@pytest.fixture
def settings(settings: Settings) -> Settings:  # the review needs no models
    return light_settings(settings)


@pytest.fixture
async def seeded(app_client):  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    sessions = app.state.store.sessions
    yesterday = datetime.now(UTC) - timedelta(days=1)
    ids = {
        "good": await seed_scored_contact(
            sessions, contact_id="c-good", agent_id="agent1", fixture="en_01_bill_enquiry_exemplary"
        ),
        "nogreet": await seed_scored_contact(
            sessions,
            contact_id="c-nogreet",
            agent_id="agent2",
            fixture="en_04_no_greeting_no_disclosure",
            scored_at=yesterday,
        ),
        "rude": await seed_scored_contact(
            sessions, contact_id="c-rude", agent_id="agent1", fixture="en_08_rude_agent"
        ),
    }
    qa = await login(client, "qa", passwords["qa"])
    return client, app, passwords, ids, qa


async def test_list_filters_by_score_item_verdict_agent_and_date(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, _pw, _ids, qa = seeded

    async def contacts(**params: object) -> set[str]:
        r = await client.get(f"{API}/scores", params=params, headers=qa)
        assert r.status_code == 200, r.text
        return {row["contact_id"] for row in r.json()}

    assert await contacts() == {"c-good", "c-nogreet", "c-rude"}
    assert await contacts(item="greeting", verdict="fail") == {"c-nogreet"}
    assert await contacts(item="rude_language", verdict="fail") == {"c-rude"}
    assert await contacts(min_score=90) == {"c-good"}
    assert await contacts(max_score=75) == {"c-rude"}
    assert await contacts(agent="agent2") == {"c-nogreet"}
    today = datetime.now(UTC).date()
    assert await contacts(date_from=today.isoformat()) == {"c-good", "c-rude"}
    assert await contacts(date_to=(today - timedelta(days=1)).isoformat()) == {"c-nogreet"}
    rows = (await client.get(f"{API}/scores", params={"agent": "agent1"}, headers=qa)).json()
    rude = next(r for r in rows if r["contact_id"] == "c-rude")
    assert rude["auto_fail"] is True and "rude_language" in rude["failed_items"]


async def test_detail_has_evidence_pointing_into_the_transcript(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, _pw, ids, qa = seeded
    r = await client.get(f"{API}/scores/{ids['rude']}", headers=qa)
    assert r.status_code == 200, r.text
    d = r.json()
    turns = fixture_call("en_08_rude_agent")["turns"]
    assert [t["text"] for t in d["transcript"]] == [t["text"] for t in turns]
    items = {i["item_id"]: i for i in d["items"]}
    assert len(items) == 10
    rude = items["rude_language"]
    assert rude["verdict"] == rude["auto_verdict"] == "fail"
    assert rude["evidence"]
    for e in rude["evidence"]:
        turn = d["transcript"][e["turn"]]
        assert (e["start"], e["end"]) == (turn["start"], turn["end"])
        assert e["matched"] and all(m.lower() in turn["text"].lower() for m in e["matched"])
    assert d["recording_url"] is None
    by_contact = await client.get(f"{API}/contacts/c-rude/score", headers=qa)
    assert by_contact.json()["score_id"] == ids["rude"]
    assert (await client.get(f"{API}/scores/nope", headers=qa)).status_code == 404


async def test_override_changes_the_effective_verdict_and_keeps_the_automatic_one(seeded) -> None:  # type: ignore[no-untyped-def]
    client, app, passwords, ids, qa = seeded
    url = f"{API}/scores/{ids['nogreet']}/overrides"
    empty = await client.post(
        url, json={"item_id": "greeting", "verdict": "pass", "comment": ""}, headers=qa
    )
    assert empty.status_code == 422
    bad_item = {"item_id": "nope", "verdict": "pass", "comment": "x"}
    assert (await client.post(url, json=bad_item, headers=qa)).status_code == 404
    body = {"item_id": "greeting", "verdict": "pass", "comment": "greeted before the recording"}
    r = await client.post(url, json=body, headers=qa)
    assert r.status_code == 200, r.text
    d = r.json()
    greeting = next(i for i in d["items"] if i["item_id"] == "greeting")
    assert (greeting["auto_verdict"], greeting["verdict"]) == ("fail", "pass")
    assert greeting["overrides"][0]["comment"] == "greeted before the recording"
    assert greeting["overrides"][0]["analyst_id"] == "qa"
    assert d["score"] > d["auto_score"]
    assert d["overridden_items"] == ["greeting"]
    listed = await client.get(
        f"{API}/scores", params={"item": "greeting", "verdict": "fail"}, headers=qa
    )
    assert listed.json() == []
    agent2 = await login(client, "agent2", passwords["agent2"])
    assert (await client.post(url, json=body, headers=agent2)).status_code == 403
    async with app.state.store.sessions() as s:  # the automatic row itself is untouched
        row = await s.get(QaScore, ids["nogreet"])
        assert next(i for i in row.items if i.item_id == "greeting").verdict == "fail"


async def test_agent_disputes_own_score_and_analyst_resolves(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords, ids, qa = seeded
    agent2 = await login(client, "agent2", passwords["agent2"])
    mine = (await client.get(f"{API}/scores", headers=agent2)).json()
    assert {r["contact_id"] for r in mine} == {"c-nogreet"}
    assert (await client.get(f"{API}/scores/{ids['good']}", headers=agent2)).status_code == 403
    theirs = await client.post(
        f"{API}/scores/{ids['good']}/disputes", json={"reason": "x"}, headers=agent2
    )
    assert theirs.status_code == 403
    r = await client.post(
        f"{API}/scores/{ids['nogreet']}/disputes",
        json={"reason": "I did greet, the line was bad", "item_id": "greeting"},
        headers=agent2,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert dispute["status"] == "open" and dispute["agent_id"] == "agent2"
    open_ = (await client.get(f"{API}/disputes", params={"status": "open"}, headers=qa)).json()
    assert [x["id"] for x in open_] == [dispute["id"]]
    resolve = f"{API}/disputes/{dispute['id']}/resolve"
    body = {"accept": True, "resolution": "audio confirms the greeting", "verdict": "pass"}
    assert (await client.post(resolve, json=body, headers=agent2)).status_code == 403
    done = await client.post(resolve, json=body, headers=qa)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "accepted" and done.json()["resolved_by"] == "qa"
    assert (await client.post(resolve, json=body, headers=qa)).status_code == 409
    d = (await client.get(f"{API}/scores/{ids['nogreet']}", headers=agent2)).json()
    assert next(i for i in d["items"] if i["item_id"] == "greeting")["verdict"] == "pass"
    assert d["open_disputes"] == 0


async def test_calibration_reports_kappa_between_analysts_and_vs_auto(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords, _ids, qa = seeded
    admin = await login(client, "admin", passwords["admin"])  # admin passes every guard
    plan = {
        ("qa", "c-good"): {"greeting": "pass", "rude_language": "pass"},
        ("qa", "c-nogreet"): {"greeting": "fail", "rude_language": "pass"},
        ("qa", "c-rude"): {"greeting": "pass", "rude_language": "fail"},
        ("admin", "c-good"): {"greeting": "pass", "rude_language": "pass"},
        ("admin", "c-nogreet"): {"greeting": "pass", "rude_language": "pass"},
        ("admin", "c-rude"): {"greeting": "pass", "rude_language": "fail"},
    }
    headers = {"qa": qa, "admin": admin}
    url = f"{API}/calibrations/week1/verdicts"
    first = {"contact_id": "c-good", "verdicts": {"greeting": "fail", "rude_language": "fail"}}
    assert (await client.put(url, json=first, headers=qa)).status_code == 200  # replaced below
    for (who, cid), verdicts in plan.items():
        r = await client.put(
            url, json={"contact_id": cid, "verdicts": verdicts}, headers=headers[who]
        )
        assert r.status_code == 200, r.text
    rep = (await client.get(f"{API}/calibrations/week1", headers=qa)).json()
    assert rep["analysts"] == ["admin", "qa"]
    assert set(rep["contacts"]) == {"c-good", "c-nogreet", "c-rude"}
    items = {i["item_id"]: i for i in rep["items"]}
    auto = {
        "c-good": {"greeting": "pass", "rude_language": "pass"},
        "c-nogreet": {"greeting": "fail", "rude_language": "pass"},
        "c-rude": {"greeting": "pass", "rude_language": "fail"},
    }
    ratings = [Rating(c, w, i, v) for (w, c), vs in plan.items() for i, v in vs.items()]
    ratings += [Rating(c, "auto", i, v) for c, vs in auto.items() for i, v in vs.items()]
    expected = calibrate(ratings)
    for item in ("greeting", "rude_language"):
        pair = items[item]["between_analysts"][0]
        want = expected.between_analysts[item][("admin", "qa")]
        assert (pair["n"], pair["agreement"], pair["kappa"]) == (want.n, want.agreement, want.kappa)
        assert items[item]["mean_kappa_auto"] == expected.mean_kappa_auto[item]
    assert items["rude_language"]["mean_kappa_analysts"] == pytest.approx(1.0)
    assert items["greeting"]["between_analysts"][0]["agreement"] == pytest.approx(2 / 3)
    qa_vs_auto = next(p for p in items["greeting"]["analyst_vs_auto"] if p["raters"][0] == "qa")
    assert qa_vs_auto["kappa"] == pytest.approx(1.0)
    agent1 = await login(client, "agent1", passwords["agent1"])
    assert (await client.get(f"{API}/calibrations/week1", headers=agent1)).status_code == 403


async def test_trend_is_average_effective_score_per_day(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords, _ids, qa = seeded
    pts = (await client.get(f"{API}/trends", params={"by": "agent"}, headers=qa)).json()
    today = datetime.now(UTC).date().isoformat()
    by = {(p["day"], p["group"]): p for p in pts}
    good = fixture_score("en_01_bill_enquiry_exemplary")
    rude = fixture_score("en_08_rude_agent")
    assert by[(today, "agent1")]["contacts"] == 2
    assert by[(today, "agent1")]["average"] == pytest.approx((good + rude) / 2, abs=0.01)
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    assert by[(yesterday, "agent2")]["contacts"] == 1
    overall = (await client.get(f"{API}/trends", params={"by": "all"}, headers=qa)).json()
    assert sum(p["contacts"] for p in overall) == 3
    agent2 = await login(client, "agent2", passwords["agent2"])
    mine = (await client.get(f"{API}/trends", headers=agent2)).json()
    assert {p["group"] for p in mine} == {"agent2"}


def fixture_score(name: str) -> float:
    from qa.score import score_contact
    from qa.scorecard import load_default
    from qa.transcript import parse_call

    return score_contact(parse_call(fixture_call(name)), load_default()).score or 0.0


async def test_scorecard_get_put_refuses_a_bad_card_and_keeps_scores(seeded) -> None:  # type: ignore[no-untyped-def]
    client, app, _pw, _ids, qa = seeded
    got = await client.get(f"{API}/scorecards/default", headers=qa)
    assert got.status_code == 200, got.text
    card = got.json()
    assert card["source"] == "default" and card["yaml_text"] == DEFAULT_PATH.read_text("utf-8")

    async def count() -> int:
        async with app.state.store.sessions() as s:
            return await s.scalar(select(func.count()).select_from(QaScore))

    before = await count()
    for bad in ("version: [", card["yaml_text"].replace("weight:", "weight: 7 #", 1)):
        r = await client.put(f"{API}/scorecards/default", json={"yaml_text": bad}, headers=qa)
        assert r.status_code == 422, r.text
        assert r.json()["code"].startswith("scorecard_")
    assert await count() == before
    assert (await client.get(f"{API}/scorecards/default", headers=qa)).json()["source"] == "default"
    bumped = card["yaml_text"].replace(
        f"revision: {card['revision']}", f"revision: {card['revision'] + 1}", 1
    )
    assert bumped != card["yaml_text"]
    r = await client.put(f"{API}/scorecards/default", json={"yaml_text": bumped}, headers=qa)
    assert r.status_code == 200, r.text
    now = (await client.get(f"{API}/scorecards/default", headers=qa)).json()
    assert (now["source"], now["revision"]) == ("store", card["revision"] + 1)
    assert await count() == before
    again = await client.put(f"{API}/scorecards/default", json={"yaml_text": bumped}, headers=qa)
    assert again.status_code == 409


async def test_pages_need_a_login_and_a_qa_role(seeded) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords, ids, _qa = seeded
    assert (await client.get("/qa")).status_code == 303
    for user, status in (("qa", 200), ("agent1", 200), ("reports", 403)):
        client.cookies.clear()
        r = await client.post(
            "/login", data={"username": user, "password": passwords[user], "next": "/qa"}
        )
        assert r.status_code == 303, r.text
        page = await client.get(f"/qa?score={ids['good']}")
        assert page.status_code == status
        cal = await client.get("/qa/calibration")
        assert cal.status_code == (200 if user == "qa" else 403)
    client.cookies.clear()


async def test_recording_is_served_only_from_the_data_dir(app_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    inside = app.state.settings.data_dir / "recordings" / "c-rec.wav"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(b"RIFF-not-really")
    outside = tmp_path.parent / "elsewhere.wav"
    outside.write_bytes(b"secret")
    sessions = app.state.store.sessions
    ok = await seed_scored_contact(
        sessions,
        contact_id="c-rec",
        agent_id="agent1",
        fixture="en_01_bill_enquiry_exemplary",
        recording_uri=f"file://{inside}",
    )
    bad = await seed_scored_contact(
        sessions,
        contact_id="c-out",
        agent_id="agent1",
        fixture="en_01_bill_enquiry_exemplary",
        recording_uri=str(outside),
    )
    qa = await login(client, "qa", passwords["qa"])
    d = (await client.get(f"{API}/scores/{ok}", headers=qa)).json()
    assert d["recording_url"] == f"{API}/scores/{ok}/recording"
    r = await client.get(d["recording_url"], headers=qa)
    assert r.status_code == 200 and r.content == b"RIFF-not-really"
    assert (await client.get(f"{API}/scores/{bad}/recording", headers=qa)).status_code == 404


async def test_detail_shows_the_customers_emotion_over_the_call(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.events import EmotionResult

    client, app, _pw, ids, qa = seeded
    d = (await client.get(f"{API}/scores/{ids['good']}", headers=qa)).json()
    assert d["customer_emotion"] is None  # no emotion engine ran on that call
    await store_events(
        app.state.store.sessions,
        EmotionResult(
            contact_id="c-rude", label="angry", confidence=0.7, sentiment=-0.6, escalate=True
        ),
        EmotionResult(
            contact_id="c-rude",
            scope="call",
            label="frustrated",
            confidence=0.6,
            sentiment=-0.4,
            escalate=True,
            trend="worsening",
            peak="angry",
        ),
    )
    d = (await client.get(f"{API}/scores/{ids['rude']}", headers=qa)).json()
    assert d["customer_emotion"] == {
        "label": "frustrated",
        "sentiment": -0.4,
        "trend": "worsening",
        "peak": "angry",
        "escalate": True,
    }
