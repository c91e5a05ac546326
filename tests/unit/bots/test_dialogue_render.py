"""Rendering: variations, slots, per-language text, voice pauses/SSML, chat buttons."""

from __future__ import annotations

from bots.dialogue.render import fill, pick_variation, render
from bots.dialogue.schema import Response

RESP = Response.model_validate(
    {
        "en": ["Hi {name}. [pause] Ready?", "Hello {name}!"],
        "zh": "你好{name}",
        "buttons": [{"title": {"en": "Yes", "zh": "是"}, "payload": "/affirm"}],
    }
)


def _r(**kw):  # type: ignore[no-untyped-def]
    args = dict(
        language="en", default_language="en", channel="chat", slots={"name": "Ann"}, seed="a"
    )
    args.update(kw)
    return render("utter_x", RESP, **args)


def test_variations_are_deterministic_and_all_reachable() -> None:
    seen = {pick_variation(["a", "b"], seed=str(i)) for i in range(20)}
    assert seen == {"a", "b"}
    assert pick_variation(["a", "b"], seed="x") == pick_variation(["a", "b"], seed="x")


def test_chat_keeps_buttons_and_drops_pause_marker() -> None:
    r = _r(seed="0")
    assert "[pause]" not in r.text and "Ann" in r.text
    assert r.buttons == ({"title": "Yes", "payload": "/affirm"},)


def test_voice_has_ssml_break_and_no_buttons() -> None:
    for seed in map(str, range(10)):
        r = _r(channel="voice", seed=seed)
        assert r.buttons == () and "[pause]" not in r.text
        if "Ready" in r.text:
            assert '<break time="400ms"/>' in (r.ssml or "")
            assert r.text == "Hi Ann. Ready?"
            return
    raise AssertionError("no seed picked the variation with a pause")


def test_language_and_missing_slot() -> None:
    assert _r(language="zh").text == "你好Ann"
    assert _r(language="fr", slots={}).text in {"Hi . Ready?", "Hello !"}
    assert fill("{a} {b", {"a": "x"}) == "{a} {b"  # a stray brace never breaks a turn
    assert _r(language="zh").buttons[0]["title"] == "是"


def test_money_format_per_language() -> None:
    assert fill("{a:money}", {"a": "35.00 CNY"}, language="zh") == "35.00元"
    assert fill("{a:money}", {"a": "45.99 USD"}, language="en") == "45.99 USD"
    assert fill("{a:money}", {}, language="zh") == ""
