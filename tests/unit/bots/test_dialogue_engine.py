"""The dialogue engine end to end with a fake understander, a real store and a memory bus."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.events import ContactEnded, ContactStarted, HandoffRequested, TranscriptFinal
from core.store.tables.crm import CrmCardRow, CrmCustomerRow
from tests.unit.bots.conftest import Harness, make_harness

ALICE_PHONE = "+1 202 555 0143"
ALICE_DOB = "12 March 1985"
# Every figure and number of Alice's accounts and cards the bot could leak.
ALICE_SECRETS = ("2,540.75", "12,030.00", "2345", "7890", "10012345", "8765", "1985")


async def verify_alice(bot: Harness, first: str, sender: str = "s1") -> list[str]:
    out = await bot.say(first, sender=sender)
    out += await bot.say(ALICE_PHONE, sender=sender)
    out += await bot.say(ALICE_DOB, sender=sender)
    return out


async def test_balance_inquiry_verifies_first_then_reads_balances(bot: Harness) -> None:
    out = await bot.say("what's my balance")
    assert "phone number or account number" in out[-1]
    out = await bot.say(ALICE_PHONE)
    assert "date of birth" in out[-1]
    out = await bot.say(ALICE_DOB)
    assert any("2,540.75 USD" in o for o in out)
    t = await bot.service.tracker("s1")
    assert t is not None and t.verified and t.resolved
    assert "dob" not in t.slots  # the secret used to verify is not kept


async def test_zero_account_data_before_verification(bot: Harness) -> None:
    spoken: list[str] = []
    spoken += await bot.say("what's my balance")
    spoken += await bot.say(ALICE_PHONE)
    spoken += await bot.say("1 January 1990")  # wrong date of birth
    spoken += await bot.say("what's my balance")  # asks again mid-verification
    spoken += await bot.say("9999")  # wrong last 4 → handoff, never data
    t = await bot.service.tracker("s1")
    assert t is not None and not t.verified and t.status == "handed_off"
    for line in spoken:
        for secret in ALICE_SECRETS:
            assert secret not in line, (secret, line)
    events = await bot.drained()
    bot_lines = [e.text for e in events if isinstance(e, TranscriptFinal) and e.speaker == "bot"]
    assert bot_lines and not any(s in line for line in bot_lines for s in ALICE_SECRETS)


async def test_ani_identifies_caller_and_last4_verifies(bot: Harness) -> None:
    out = await bot.say("check my balance", metadata={"phone": "+12025550178"})
    assert "date of birth" in out[-1]  # identified by caller number: no need to ask it
    out = await bot.say("not sure")
    out = await bot.say("no idea")  # two failed DOB attempts → card last 4 instead
    assert "last four digits" in out[-1]
    out = await bot.say("1234")
    assert any("89.12 USD" in o for o in out)


async def test_lost_card_blocks_the_card_in_the_crm(bot: Harness) -> None:
    await verify_alice(bot, "I lost my card")
    out = await bot.say("it's the one ending 4321")
    assert "ending 4321" in out[-1] and "go ahead" in out[-1]
    out = await bot.say("yes")
    assert "blocked" in out[0]
    async with bot.store.sessions() as s:
        card = await s.get(CrmCardRow, "card-alice-1")
        other = await s.get(CrmCardRow, "card-alice-2")
    assert card.status == "blocked" and other.status == "active"


async def test_lost_card_prefills_last4_and_deny_keeps_card(bot: Harness) -> None:
    out = await verify_alice(bot, "I lost my card ending 8765")
    assert "ending 8765" in out[-1]
    out = await bot.say("no")
    assert "haven't blocked" in out[0]
    async with bot.store.sessions() as s:
        assert (await s.get(CrmCardRow, "card-alice-2")).status == "active"


async def test_dispute_opens_a_follow_up_record(bot: Harness) -> None:
    await verify_alice(bot, "I want to dispute a charge")
    out = await bot.say("$45.99")
    assert "merchant" in out[-1]
    out = await bot.say("Coffee Palace, last Tuesday")
    assert "45.99 USD" in out[-1]
    out = await bot.say("yes")
    t = await bot.service.tracker("s1")
    ref = t.slots["reference"]
    assert ref in out[0]
    rows = await bot.crm.follow_ups(contact_id=t.contact_id)
    assert rows == [
        {
            "id": ref,
            "kind": "dispute",
            "status": "open",
            "details": {
                "dispute_amount": "45.99 USD",
                "dispute_details": "Coffee Palace, last Tuesday",
            },
        }
    ]


async def test_change_address_with_go_back_and_confirmation(bot: Harness) -> None:
    await verify_alice(bot, "I moved, change my address")
    out = await bot.say("1 Short Rd")
    out = await bot.say("go back")  # from the confirmation back to the address question
    assert "new address" in out[-1]
    out = await bot.say("99 Long Avenue, Riverton 12345")
    assert "99 Long Avenue" in out[-1]
    await bot.say("yes")
    async with bot.store.sessions() as s:
        row = await s.get(CrmCustomerRow, "cust-alice")
    assert row.address == "99 Long Avenue, Riverton 12345"


async def test_branch_hours_digression_returns_to_the_flow(bot: Harness) -> None:
    await bot.say("I lost my card")
    out = await bot.say("wait, what are your opening hours?")
    assert "Monday to Friday" in out[0]
    assert "back to where we were" in out[1]
    assert "phone number or account number" in out[-1]


async def test_complaint_intake_opens_record_without_verification(bot: Harness) -> None:
    out = await bot.say("I want to make a complaint")
    assert "what happened" in out[-1]
    out = await bot.say("The branch on Elm Street kept me waiting for an hour")
    t = await bot.service.tracker("s1")
    assert t.slots["reference"] in out[0]
    assert (await bot.crm.follow_ups(contact_id=t.contact_id))[0]["kind"] == "complaint"


async def test_repeat_returns_last_replies_and_fallback_then_handoff(bot: Harness) -> None:
    first = await bot.say("hello")
    assert await bot.say("can you repeat that") == first
    out = await bot.say("purple elephants")
    assert "didn't catch" in out[0] or "understood" in out[0]
    out = await bot.say("banana phone")
    assert "number 1 in the queue" in out[-1]
    events = await bot.drained()
    packet = next(e for e in events if isinstance(e, HandoffRequested))
    assert packet.reason == "repeated_fallback"


async def test_greeting_in_chinese_gets_chinese_reply(bot: Harness) -> None:
    out = await bot.say("你好")
    assert "演示银行" in out[0]
    out = await bot.say("我想查询余额")
    assert "手机号码" in out[-1]


async def test_negative_emotion_with_escalate_hands_off(tmp_path: Path) -> None:
    bot = await make_harness(
        tmp_path, emotion={"label": "angry", "confidence": 0.9, "sentiment": -0.8, "escalate": True}
    )
    try:
        out = await bot.say("this is the third time I call about my card")
        assert "queue" not in out[-1]  # one tense sentence is not enough
        out = await bot.say("I'm sick of this, it never works")
        assert "queue" in out[-1]
        events = await bot.drained()
        packet = next(e for e in events if isinstance(e, HandoffRequested))
        assert packet.reason == "negative_emotion" and packet.emotions == ("angry", "angry")
    finally:
        await bot.bus.close()
        await bot.store.close()


async def test_after_hours_handoff_offers_a_callback(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil_copy_flows(flows)
    text = (flows / "demo_bank.yaml").read_text(encoding="utf-8")
    (flows / "demo_bank.yaml").write_text(text.replace('"00:00-23:59"', '"09:00-17:00"'), "utf-8")
    bot = await make_harness(tmp_path, flows_dir=flows)
    bot.clock.advance(12 * 3600)  # Monday 22:00 UTC: closed
    try:
        out = await bot.say("I want to talk to a person")
        assert "not available" in out[0] and "call you back" in out[-1]
        out = await bot.say("+1 202 555 0100")
        assert "+12025550100" in out[0]
        t = await bot.service.tracker("s1")
        assert t.status == "ended" and t.outcome == "handed_off"
        rows = await bot.crm.follow_ups(contact_id=t.contact_id)
        assert rows[0]["kind"] == "callback"
    finally:
        await bot.bus.close()
        await bot.store.close()


def shutil_copy_flows(dest: Path) -> None:
    import shutil

    from bots.dialogue.loader import DEFAULT_FLOWS_DIR

    shutil.copytree(DEFAULT_FLOWS_DIR, dest)


async def test_contact_events_and_containment_outcome(bot: Harness) -> None:
    await bot.say("what are your opening hours")
    await bot.say("bye")
    events = await bot.drained()
    started = [e for e in events if isinstance(e, ContactStarted)]
    ended = [e for e in events if isinstance(e, ContactEnded)]
    assert len(started) == 1 and started[0].channel == "chat"
    assert len(ended) == 1 and ended[0].outcome == "resolved_by_bot"
    types = {e.type for e in events}
    assert {"transcript.final", "nlu.result", "bot.reply"} <= types
    # a new message after the end starts a new conversation (new contact id)
    await bot.say("hello")
    events = await bot.drained()
    assert len([e for e in events if isinstance(e, ContactStarted)]) == 2


async def test_abandoned_when_closed_without_result(bot: Harness) -> None:
    await bot.say("hello")
    assert await bot.service.end_conversation("s1", reason="idle") == "abandoned"


async def test_replayed_and_out_of_order_messages(bot: Harness) -> None:
    a = await bot.say("what's my balance", message_id="m1", seq=1)
    calls = bot.understander.calls
    assert await bot.say("what's my balance", message_id="m1", seq=1) == a  # replay: same answer
    assert bot.understander.calls == calls  # …and not processed twice
    await bot.say(ALICE_PHONE, message_id="m2", seq=2)
    assert await bot.say("stale message", message_id="m0", seq=1) == []  # out of order
    t = await bot.service.tracker("s1")
    assert t.active is not None and t.active.step == "ask_dob"


async def test_very_long_message_is_truncated_with_notice(bot: Harness) -> None:
    out = await bot.say("hello " + "x" * 5000)
    assert "only read the first part" in out[0]
    t = await bot.service.tracker("s1")
    assert len(t.latest_message["text"]) <= 1000


async def test_unknown_senders_get_separate_conversations(bot: Harness) -> None:
    await bot.say("what's my balance", sender="a")
    await bot.say("hello", sender="b")
    ta, tb = await bot.service.tracker("a"), await bot.service.tracker("b")
    assert ta.contact_id != tb.contact_id and ta.active and not tb.active


async def test_handoff_packet_queue_hold_and_hand_back(bot: Harness) -> None:
    await verify_alice(bot, "I lost my card")
    out = await bot.say("I want to speak to a human")
    assert "number 1 in the queue" in out[-1]
    out = await bot.say("hello? still there?")
    assert "still in the queue" in out[0]
    events = await bot.drained()
    p = next(e for e in events if isinstance(e, HandoffRequested))
    t = await bot.service.tracker("s1")
    assert p.contact_id == t.contact_id
    assert (p.reason, p.intent, p.queue, p.customer_id, p.verified) == (
        "customer_request",
        "report_lost_card",
        "cards",
        "cust-alice",
        True,
    )
    assert p.language == "en" and p.skills == ("cards",) and p.queue == "cards"
    assert "lost card" in p.summary and p.transcript_url.endswith(f"{t.contact_id}/events")
    assert all(v != "1985-03-12" for v in p.slots.values())
    waiting = await bot.service.desk.waiting()
    assert [w["contact_id"] for w in waiting] == [t.contact_id]
    assert waiting[0]["packet"]["reason"] == "customer_request"
    back = await bot.service.hand_back("s1", agent_id="agent-7", flow="report_lost_card")
    assert "back with the Demo Bank assistant" in back[0].text
    assert "last four digits" in back[-1].text  # verified already: straight to the question
    log = await bot.service.desk.log(t.contact_id)
    assert [(r["direction"], r["actor"]) for r in log] == [
        ("to_agent", "bot"),
        ("to_bot", "agent-7"),
    ]
    assert [m["text"] for m in await bot.service.take_outbox("s1")] == [r.text for r in back]
    assert await bot.service.take_outbox("s1") == []


async def test_flow_edit_is_picked_up_between_turns(tmp_path: Path) -> None:
    import os

    flows = tmp_path / "flows"
    shutil_copy_flows(flows)
    bot = await make_harness(tmp_path, flows_dir=flows)
    try:
        f = flows / "responses.yaml"
        f.write_text(f.read_text("utf-8").replace("You're welcome!", "My pleasure!"), "utf-8")
        os.utime(f, ns=(10**18, 10**18))
        assert (await bot.say("thanks"))[0].startswith("My pleasure!")
        f.write_text("version: '1'\nresponses: [broken", "utf-8")
        os.utime(f, ns=(2 * 10**18, 2 * 10**18))
        assert (await bot.say("thanks"))[0].startswith("My pleasure!")  # old flows still serve
        assert bot.library.errors and "responses.yaml" in bot.library.errors[0]
    finally:
        await bot.bus.close()
        await bot.store.close()


async def test_sensitive_response_is_never_rendered_unverified(bot: Harness) -> None:
    from bots.dialogue.engine import TurnResult
    from bots.dialogue.tracker import Tracker

    t = Tracker(sender_id="x", contact_id="c", slots={"balances": "1,000,000.00 USD"})
    out = TurnResult()
    bot.service.engine.say(t, out, "utter_balances")
    assert "1,000,000" not in out.replies[0].text and "confirmed who you are" in out.replies[0].text


async def test_voice_responder_uses_the_same_flows(bot: Harness) -> None:
    from bots.dialogue_responder import DialogueResponder
    from bots.responder import Responder

    r = DialogueResponder(bot.service, ani={"call-1": "+12025550143"})
    assert isinstance(r, Responder)
    said = await r.respond("what's my balance", contact_id="call-1", language="en")
    assert "date of birth" in said  # identified by the caller number
    said = await r.respond("12 March 1985", contact_id="call-1", language="en")
    assert "2,540.75 USD" in said and "[pause]" not in said
    assert await r.hangup("call-1") == "resolved_by_bot"


async def test_card_rows_untouched_by_unverified_block_attempt(bot: Harness) -> None:
    await bot.say("I lost my card ending 4321", metadata={"phone": "+12025550143"})
    await bot.say("no idea")
    await bot.say("none")
    await bot.say("0000")
    await bot.say("1111")  # verification failed → handoff, card not blocked
    async with bot.store.sessions() as s:
        statuses = set((await s.scalars(select(CrmCardRow.status))).all())
    assert statuses == {"active"}


async def test_phone_in_first_message_and_day_first_numeric_dob(bot: Harness) -> None:
    from bots.actions import _swapped_day_month

    out = await bot.say("what's my balance? my number is +1 202 555 0143")
    assert "date of birth" in out[-1]  # identified from the first message
    out = await bot.say("12/03/1985")  # day-first; the extractor reads month-first
    assert any("2,540.75" in o for o in out)
    assert _swapped_day_month("1985-12-03", "12/03/1985") == "1985-03-12"
    assert _swapped_day_month("1985-12-03", "3 December 1985") is None  # words: no ambiguity
    assert _swapped_day_month("1985-12-13", "12/13/1985") is None  # only one valid reading


async def test_queued_customer_can_leave_a_callback_instead(bot: Harness) -> None:
    await bot.say("agent please")
    out = await bot.say("/request_callback")
    assert "Which phone number" in out[-1]
    out = await bot.say("+1 202 555 0188")
    assert "+12025550188" in out[0]
    t = await bot.service.tracker("s1")
    waiting = await bot.service.desk.waiting()
    assert waiting[0]["status"] == "callback" and waiting[0]["callback_phone"] == "+12025550188"
    assert t.status == "ended" and t.outcome == "handed_off"


async def test_angry_complaint_branches_to_the_complaints_team(tmp_path: Path) -> None:
    angry = {"label": "angry", "confidence": 0.9, "sentiment": -0.9, "escalate": False}
    bot = await make_harness(tmp_path, emotion=angry)
    try:
        out = await bot.say("I want to make a complaint")
        assert "queue" in out[-1]
        events = await bot.drained()
        packet = next(e for e in events if isinstance(e, HandoffRequested))
        assert (packet.reason, packet.queue) == ("angry_complaint", "complaints")
    finally:
        await bot.bus.close()
        await bot.store.close()


async def test_complaint_flow_hears_negative_emotion_without_handing_off(tmp_path: Path) -> None:
    tense = {"label": "frustrated", "confidence": 0.6, "sentiment": -0.6, "escalate": True}
    bot = await make_harness(tmp_path, emotion=tense)
    try:
        out = await bot.say("I want to make a complaint")
        assert "what happened" in out[-1]
        out = await bot.say("Your app lost my transfer and nobody answers the phone")
        t = await bot.service.tracker("s1")
        assert t.slots["reference"] in out[0] and t.status == "bot"
    finally:
        await bot.bus.close()
        await bot.store.close()


async def test_questions_that_want_spoken_digits_say_how_many(bot: Harness) -> None:
    assert await bot.service.expected_digits("s1") is None  # no conversation yet
    await bot.say("what are your opening hours")
    assert await bot.service.expected_digits("s1") is None
    out = await verify_alice(bot, "I lost my card")
    assert "last four" in out[-1]  # verification's own last-4 question, or the card's
    assert await bot.service.expected_digits("s1") == 4
