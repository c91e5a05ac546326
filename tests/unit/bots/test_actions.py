"""Rasa action-server protocol: a custom action over HTTP sets slots and utters text."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from bots.actions import RasaActionClient
from bots.dialogue.errors import ActionError
from bots.dialogue.tracker import Tracker
from tests.unit.bots.conftest import make_harness


def action_server() -> tuple[FastAPI, list[dict]]:
    """A tiny Rasa-SDK-compatible action server (same wire format as rasa_sdk's /webhook)."""
    app = FastAPI()
    seen: list[dict] = []

    @app.post("/webhook")
    async def webhook(body: dict) -> dict:
        seen.append(body)
        if body["next_action"] == "action_card_activation":
            return {
                "events": [
                    {"event": "slot", "name": "activated", "value": "yes"},
                    {"event": "slot", "name": "action_result", "value": "done"},
                ],
                "responses": [{"text": f"Card for {body['sender_id']} activated."}],
            }
        return {"error": "unknown action"}

    return app, seen


async def test_webhook_action_protocol_round_trip() -> None:
    app, seen = action_server()
    client = RasaActionClient("http://actions/webhook", transport=httpx.ASGITransport(app=app))
    t = Tracker(sender_id="u1", contact_id="c1", slots={"card_last4": "4321"})
    result = await client.run("action_card_activation", t, responses=["utter_x"])
    assert result.result == "done" and result.slots == {"activated": "yes"}
    assert result.texts == ["Card for u1 activated."]
    body = seen[0]
    assert body["tracker"]["slots"] == {"card_last4": "4321"}
    assert body["sender_id"] == "u1" and "utter_x" in body["domain"]["responses"]
    await client.close()


async def test_webhook_failure_is_an_action_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": "boom"})

    client = RasaActionClient("http://actions/webhook", transport=httpx.MockTransport(refuse))
    try:
        await client.run("x", Tracker(sender_id="u", contact_id="c"), responses=[])
    except ActionError as e:
        assert e.code == "action_failed" and e.recoverable
    else:
        raise AssertionError("no ActionError")


async def test_flow_runs_custom_action_through_the_engine(tmp_path: Path) -> None:
    import shutil

    from bots.dialogue.loader import DEFAULT_FLOWS_DIR

    flows = tmp_path / "flows"
    shutil.copytree(DEFAULT_FLOWS_DIR, flows)
    (flows / "custom.yaml").write_text(
        """
version: "1"
flows:
  activate:
    trigger: {intents: [bot_challenge]}
    steps:
      - id: run
        action: action_card_activation
        on: {done: ok}
        next: failed
      - id: ok
        say: utter_welcome
        next: end
      - id: failed
        say: utter_fallback
""",
        "utf-8",
    )
    (flows / "small_talk.yaml").write_text(
        (flows / "small_talk.yaml")
        .read_text("utf-8")
        .replace("intents: [bot_challenge]", "intents: []"),
        "utf-8",
    )
    bot = await make_harness(tmp_path, flows_dir=flows)
    app, _ = action_server()
    bot.service.engine.action_client = RasaActionClient(
        "http://actions/webhook", transport=httpx.ASGITransport(app=app)
    )
    try:
        out = await bot.say("are you a bot?")
        assert out[0] == "Card for s1 activated." and out[1].startswith("You're welcome")
    finally:
        await bot.bus.close()
        await bot.store.close()
