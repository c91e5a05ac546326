"""After-contact summary: reason, actions taken, outcome, follow-ups — in the contact's language.

Extractive and template-based, no generative model: the reason comes from the detected
intents' script wording (or, failing that, the customer's first real utterance, quoted), the
actions from the script steps the agent actually completed, the follow-ups from those steps'
promises plus anything compliance left open. Every sentence can be traced back to an event,
which is what makes it checkable (tests assert each field for EN and ZH calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assist.compliance import Alert, ComplianceRules
from assist.scripts import ScriptBook, pick
from assist.tokens import tokenize

_LABELS = {
    "en": {"reason": "Reason", "actions": "Actions", "outcome": "Outcome",
           "follow_ups": "Follow-ups", "details": "Details", "none": "none"},
    "zh": {"reason": "来电原因", "actions": "处理措施", "outcome": "处理结果",
           "follow_ups": "后续跟进", "details": "关键信息", "none": "无"},
}  # fmt: skip
_ENTITY_LABELS = {
    "en": {"amount": "amount", "date": "date", "account_last4": "account ending"},
    "zh": {"amount": "金额", "date": "日期", "account_last4": "账号尾号"},
}
_PHRASES = {
    "en": {"said": "Customer said: “{}”", "silent": "No conversation was recorded",
           "article": "Shared knowledge article: {}", "missing": "Disclosure not given: {}",
           "alert": "Compliance review: {}",
           "upset": "Customer was upset — consider a follow-up call"},
    "zh": {"said": "客户表示：“{}”", "silent": "本次联络无对话内容",
           "article": "提供了知识库文章：{}", "missing": "未完成告知：{}",
           "alert": "合规复核：{}", "upset": "客户情绪激动，建议回访"},
}  # fmt: skip


@dataclass
class ContactRecord:
    """What assist saw on one contact; the summary is a pure function of it."""

    contact_id: str
    language: str = "en"
    customer_id: str | None = None
    intents: list[str] = field(default_factory=list)
    steps_done: dict[str, list[str]] = field(default_factory=dict)
    entities: dict[str, str] = field(default_factory=dict)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    disclosures_required: set[str] = field(default_factory=set)
    disclosures_said: set[str] = field(default_factory=set)
    alerts: list[Alert] = field(default_factory=list)
    upset: bool = False
    escalated: bool = False
    articles_shown: list[str] = field(default_factory=list)
    ended_reason: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class ContactSummary:
    contact_id: str
    language: str
    reason: str
    actions: tuple[str, ...]
    outcome: str
    outcome_code: str
    follow_ups: tuple[str, ...]
    entities: dict[str, str]

    def render(self) -> str:
        lab = _LABELS.get(self.language, _LABELS["en"])
        sep = "；" if self.language == "zh" else "; "
        ent_lab = _ENTITY_LABELS.get(self.language, _ENTITY_LABELS["en"])
        lines = [
            f"{lab['reason']}: {self.reason}",
            f"{lab['actions']}: {sep.join(self.actions) or lab['none']}",
            f"{lab['outcome']}: {self.outcome}",
            f"{lab['follow_ups']}: {sep.join(self.follow_ups) or lab['none']}",
        ]
        if self.entities:
            ents = ", ".join(f"{ent_lab.get(k, k)} {v}" for k, v in self.entities.items())
            lines.append(f"{lab['details']}: {ents}")
        if self.language == "zh":
            lines = [line.replace(": ", "：", 1) for line in lines]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id, "language": self.language, "reason": self.reason,
            "actions": list(self.actions), "outcome": self.outcome,
            "outcome_code": self.outcome_code, "follow_ups": list(self.follow_ups),
            "entities": dict(self.entities), "text": self.render(),
        }  # fmt: skip


def _first_real_utterance(record: ContactRecord) -> str | None:
    for speaker, text in record.transcript:
        if speaker == "customer" and len(tokenize(text)) >= 3:
            return text if len(text) <= 120 else text[:117] + "…"
    return None


def summarise(record: ContactRecord, *, book: ScriptBook, rules: ComplianceRules) -> ContactSummary:
    """Build the after-contact summary of one contact in its language."""
    lang = record.language if record.language in _PHRASES else "en"
    ph = _PHRASES[lang]
    scripted = [i for i in dict.fromkeys(book.resolve(i) for i in record.intents) if i]
    if scripted:
        reason = ("；" if lang == "zh" else "; ").join(
            pick(book.intents[i].reason, lang) for i in scripted[:2]
        )
    elif (said := _first_real_utterance(record)) is not None:
        reason = ph["said"].format(said)
    elif record.transcript:
        reason = pick(book.script(None).reason, lang)
    else:
        reason = ph["silent"]

    actions: list[str] = []
    follow_ups: list[str] = []
    finished = bool(scripted)
    for intent in scripted:
        done = set(record.steps_done.get(intent, ()))
        for step in book.intents[intent].steps:
            if step.step in done:
                actions.append(pick(step.action, lang))
                if step.follow_up:
                    follow_ups.append(pick(step.follow_up, lang))
            else:
                finished = False
    actions.extend(ph["article"].format(t) for t in dict.fromkeys(record.articles_shown))

    for key in sorted(record.disclosures_required - record.disclosures_said):
        follow_ups.append(ph["missing"].format(pick(rules.disclosure(key).name, lang)))
    for alert in record.alerts:
        follow_ups.append(ph["alert"].format(alert.title))
    if record.upset:
        follow_ups.append(ph["upset"])

    if record.outcome in book.outcomes:
        code = record.outcome
    elif record.escalated:
        code = "escalated"
    elif record.ended_reason in ("abandoned", "customer_hangup") and not finished:
        code = "abandoned"
    else:
        code = "resolved" if finished else "open"
    outcome = pick(book.outcomes.get(code, book.outcomes["open"]), lang)
    return ContactSummary(
        contact_id=record.contact_id, language=lang, reason=reason,
        actions=tuple(dict.fromkeys(actions)), outcome=outcome, outcome_code=code,
        follow_ups=tuple(dict.fromkeys(follow_ups)), entities=dict(record.entities),
    )  # fmt: skip
