"""The after-contact summary, checked field by field in both languages.

How correctness is verified: each field must equal the wording that the events justify
(intent → reason, completed steps → actions, step promises and open compliance items →
follow-ups, end event/steps → outcome), with nothing invented and nothing left out.
"""

from assist.compliance import Alert, load_rules
from assist.scripts import load_scripts
from assist.summary import ContactRecord, summarise

BOOK = load_scripts()
RULES = load_rules()


def _dispute(language: str) -> ContactRecord:
    return ContactRecord(
        contact_id="c1",
        language=language,
        intents=["transaction_charged_twice"],
        steps_done={"dispute": ["details", "open_case"]},
        entities={"amount": "89.99 USD", "date": "03-02"},
        transcript=[("customer", "I was charged twice"), ("agent", "I've opened a dispute case")],
        disclosures_required={"recording_notice", "fee_disclosure"},
        disclosures_said={"recording_notice"},
        articles_shown=["Disputing a card transaction (chargeback)"],
    )


def test_english_summary_fields():
    s = summarise(_dispute("en"), book=BOOK, rules=RULES)
    assert s.reason == "Customer disputed a card transaction"
    assert s.actions == (
        "Took the transaction details",
        "Opened a dispute case",
        "Shared knowledge article: Disputing a card transaction (chargeback)",
    )
    assert s.outcome_code == "resolved" and s.outcome == "Resolved on the call"
    assert s.follow_ups == (
        "Dispute decision within 45 days; temporary credit within 10 working days if over $100",
        "Disclosure not given: Fee disclosure",
    )
    text = s.render()
    assert text.splitlines()[0] == "Reason: Customer disputed a card transaction"
    assert "Details: amount 89.99 USD, date 03-02" in text


def test_chinese_summary_fields():
    record = _dispute("zh")
    record.articles_shown = ["交易争议与退单（拒付）"]
    s = summarise(record, book=BOOK, rules=RULES)
    assert s.reason == "客户对一笔刷卡交易提出争议"
    assert s.actions == (
        "记录了交易信息",
        "登记了争议工单",
        "提供了知识库文章：交易争议与退单（拒付）",
    )
    assert s.outcome == "通话中已解决"
    assert s.follow_ups == (
        "争议将在 45 天内处理完毕；超过 100 元的 10 个工作日内先行垫付",
        "未完成告知：费用告知",
    )
    lines = s.render().splitlines()
    assert lines[0] == "来电原因：客户对一笔刷卡交易提出争议"
    assert lines[1].startswith("处理措施：记录了交易信息；登记了争议工单")
    assert lines[4] == "关键信息：金额 89.99 USD, 日期 03-02"


def test_unfinished_script_is_open_and_alerts_and_upset_become_follow_ups():
    record = ContactRecord(
        contact_id="c2",
        language="en",
        intents=["lost_card"],
        steps_done={"lost_card": ["verify"]},
        alerts=[Alert("card_number_spoken", "high", "Agent read out a full card number", "x")],
        upset=True,
    )
    s = summarise(record, book=BOOK, rules=RULES)
    assert s.actions == ("Verified the caller's identity",)
    assert s.outcome_code == "open"
    assert s.follow_ups == (
        "Compliance review: Agent read out a full card number",
        "Customer was upset — consider a follow-up call",
    )


def test_outcome_from_the_end_event_wins_and_hangups_are_abandoned():
    record = ContactRecord(
        contact_id="c3", language="zh", intents=["lost_card"], outcome="callback"
    )
    assert summarise(record, book=BOOK, rules=RULES).outcome == "已安排回电"
    record = ContactRecord(contact_id="c3", intents=["complaint"], ended_reason="abandoned")
    assert summarise(record, book=BOOK, rules=RULES).outcome_code == "abandoned"


def test_without_intent_the_reason_quotes_the_customer():
    record = ContactRecord(
        contact_id="c4",
        language="zh",
        transcript=[("customer", "喂"), ("customer", "我想问一下你们的积分怎么兑换")],
    )
    assert (
        summarise(record, book=BOOK, rules=RULES).reason
        == "客户表示：“我想问一下你们的积分怎么兑换”"
    )


def test_contact_with_no_transcript():
    en = summarise(ContactRecord(contact_id="c5"), book=BOOK, rules=RULES)
    zh = summarise(ContactRecord(contact_id="c5", language="zh"), book=BOOK, rules=RULES)
    assert en.reason == "No conversation was recorded" and en.actions == ()
    assert zh.reason == "本次联络无对话内容" and "处理措施：无" in zh.render()
