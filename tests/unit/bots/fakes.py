"""A deterministic Understander for engine tests: keyword rules + the real entity extractors.

It honours ``bots.dialogue.understanding.Understander``; the rules are tiny on purpose so a
test states exactly which intent a line means.
"""

from __future__ import annotations

import re
from datetime import date

from bots.dialogue.understanding import Understanding

RULES: tuple[tuple[str, str], ...] = (
    (r"\b(agent|person|human)\b|转人工|人工", "talk_to_human"),
    (r"\brepeat\b|say that again|再说一遍", "repeat"),
    (r"\bgo back\b|返回上一步", "go_back"),
    (r"\bbalance\b|余额", "check_balance"),
    (r"\blost\b.*\bcard\b|\bstolen\b|挂失|卡丢了", "report_lost_card"),
    (r"\bdispute\b|\bcharged twice\b|申诉", "dispute_charge"),
    (r"\bhours\b|\bopen\b|营业时间", "branch_hours"),
    (r"\bmoved\b|change (my )?address|改地址|修改地址", "change_address"),
    (r"\bcomplain|投诉", "complaint"),
    (r"^(hi|hello|hey)\b|你好|您好", "greet"),
    (r"^(yes|yeah|yep|sure|correct)\b|^是|^对|^确认", "affirm"),
    (r"^(no|nope)\b|^不", "deny"),
    (r"\b(bye|goodbye)\b|再见", "goodbye"),
    (r"\bthanks?\b|谢谢", "thanks"),
    (r"\bare you a (bot|robot)\b|机器人", "bot_challenge"),
)


class KeywordUnderstander:
    def __init__(self, *, emotion: dict | None = None, today: date | None = None):
        self.emotion = emotion  # returned with every parse when set (escalation tests)
        self.today = today or date(2026, 1, 5)
        self.calls = 0

    async def understand(self, text: str, *, language: str | None) -> Understanding:
        from nlu.entities import extract_amounts, extract_dates, extract_phones

        self.calls += 1
        low = text.lower()
        intent, conf = "out_of_scope", 0.2
        for pattern, name in RULES:
            if re.search(pattern, low):
                intent, conf = name, 0.95
                break
        ents = [e.as_dict() for e in extract_dates(text, today=self.today)]
        ents += [e.as_dict() for e in extract_amounts(text)]
        ents += [e.as_dict() for e in extract_phones(text, region="US")]
        m = re.search(r"(?:ending|last four( digits)?( are)?|尾号)\s*(\d{4})\b", low)
        if m:
            ents.append({"entity": "card_last4", "value": m.group(3)})
        return Understanding(
            text=text,
            intent=intent,
            confidence=conf,
            entities=tuple(ents),
            emotion=self.emotion,
            language=language,
        )
