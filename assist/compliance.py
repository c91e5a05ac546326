"""Live compliance: required disclosures that tick themselves, forbidden phrases, and full
card or ID numbers spoken on a recorded line.

Everything here is a pure function of (utterance, language, rules), so it is tested with
tables and costs microseconds: the forbidden-phrase alert goes out with the same
``transcript.final`` that carried the words. Rules live in ``assist/compliance.yaml``.

Card numbers: 13–19 digits that pass the Luhn check (ISO/IEC 7812-1), spoken digits and
number words included ("four five three two …", "四五三二…"). Chinese resident ID numbers:
18 characters per GB 11643-1999 (6-digit area, valid YYYYMMDD birth date, 3-digit sequence,
ISO 7064 MOD 11-2 check character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from assist.errors import AssistConfigInvalid
from assist.tokens import normalise
from core.masking import cn_id_ok as cn_id_valid
from core.masking import luhn_ok as luhn_valid

DEFAULT_RULES = Path(__file__).with_name("compliance.yaml")
Lang = str


@dataclass(frozen=True)
class Disclosure:
    key: str
    name: dict[Lang, str]
    required: Literal["always", "when_triggered"]
    say: dict[Lang, str]
    detect: dict[Lang, tuple[str, ...]]
    trigger_intents: frozenset[str] = frozenset()
    trigger_phrases: dict[Lang, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ForbiddenRule:
    key: str
    name: dict[Lang, str]
    severity: str
    phrases: dict[Lang, tuple[str, ...]]


@dataclass(frozen=True)
class ComplianceRules:
    disclosures: tuple[Disclosure, ...]
    forbidden: tuple[ForbiddenRule, ...]

    def disclosure(self, key: str) -> Disclosure:
        return next(d for d in self.disclosures if d.key == key)


@dataclass(frozen=True)
class Alert:
    """A compliance alert: ``key`` names the rule, ``evidence`` is safe to display (masked)."""

    key: str
    severity: str
    title: str
    evidence: str


def _phrases(raw: object, where: str) -> dict[Lang, tuple[str, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise AssistConfigInvalid(f"{where}: expected phrases per language (en:, zh:)")
    out = {}
    for lang, items in raw.items():
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(s, str) and s.strip() for s in items)
        ):
            raise AssistConfigInvalid(f"{where}.{lang}: expected a list of phrases")
        out[str(lang)] = tuple(normalise(s) for s in items)
    return out


def _texts(raw: object, where: str) -> dict[Lang, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise AssistConfigInvalid(f"{where}: expected text per language (en:, zh:)")
    return {str(k): v for k, v in raw.items()}


def load_rules(path: Path = DEFAULT_RULES) -> ComplianceRules:
    """Read and validate the rules file; errors name the file and the item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise AssistConfigInvalid(f"{path}: {e}".splitlines()[0]) from e
    if not isinstance(data, dict) or data.get("version") != 1:
        raise AssistConfigInvalid(f"{path}: expected a mapping with version: 1")
    disclosures = []
    for i, d in enumerate(data.get("disclosures") or []):
        where = f"{path.name}: disclosures[{i}]"
        if not isinstance(d, dict) or not isinstance(d.get("key"), str):
            raise AssistConfigInvalid(f"{where}: needs a key")
        where = f"{path.name}: disclosure {d['key']}"
        required = d.get("required", "always")
        if required not in ("always", "when_triggered"):
            raise AssistConfigInvalid(f"{where}: required must be always or when_triggered")
        trig = d.get("triggers") or {}
        disclosures.append(
            Disclosure(
                key=d["key"],
                name=_texts(d.get("name"), f"{where}.name"),
                required=required,
                say=_texts(d.get("say"), f"{where}.say"),
                detect=_phrases(d.get("detect"), f"{where}.detect"),
                trigger_intents=frozenset(trig.get("intents") or ()),
                trigger_phrases=_phrases(trig["phrases"], f"{where}.triggers.phrases")
                if trig.get("phrases")
                else {},
            )
        )
    forbidden = []
    for i, f in enumerate(data.get("forbidden") or []):
        if not isinstance(f, dict) or not isinstance(f.get("key"), str):
            raise AssistConfigInvalid(f"{path.name}: forbidden[{i}]: needs a key")
        where = f"{path.name}: forbidden {f['key']}"
        forbidden.append(
            ForbiddenRule(
                key=f["key"],
                name=_texts(f.get("name"), f"{where}.name"),
                severity=str(f.get("severity", "high")),
                phrases=_phrases(f.get("phrases"), f"{where}.phrases"),
            )
        )
    return ComplianceRules(tuple(disclosures), tuple(forbidden))


# --- phrase matching -----------------------------------------------------------------------


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word match for Latin phrases, plain substring (spaces ignored) for Chinese."""
    if phrase.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None
    return phrase.replace(" ", "") in text.replace(" ", "")


def _any_phrase(text: str, phrases: dict[Lang, tuple[str, ...]]) -> str | None:
    # Agents switch languages mid-call, so every language's phrases are checked.
    for items in phrases.values():
        for p in items:
            if contains_phrase(text, p):
                return p
    return None


def disclosures_said(text: str, rules: ComplianceRules) -> set[str]:
    """Keys of the disclosures this utterance delivers."""
    norm = normalise(text)
    return {d.key for d in rules.disclosures if _any_phrase(norm, d.detect)}


def disclosures_triggered(text: str, intent: str | None, rules: ComplianceRules) -> set[str]:
    """Keys of conditional disclosures that this utterance or intent makes required."""
    norm = normalise(text) if text else ""
    out = set()
    for d in rules.disclosures:
        if d.required != "when_triggered":
            continue
        if (intent and intent in d.trigger_intents) or (
            norm and _any_phrase(norm, d.trigger_phrases)
        ):
            out.add(d.key)
    return out


# --- numbers: card (Luhn) and Chinese resident ID (GB 11643) ----------------------------------

_WORD_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_CN_DIGIT = re.compile("[零〇一幺二两三四五六七八九]")
_EN_DIGIT_WORD = re.compile(r"\b(zero|oh|o|one|two|three|four|five|six|seven|eight|nine)\b")
_DIGIT_RUN = re.compile(r"\d(?:[\s\-.,]*\d)*(?:[\s\-]*x)?")


def spoken_digits(text: str) -> str:
    """Turn spoken digits ("four five", "四五") into numerals so ASR output can be checked."""
    norm = normalise(text)
    norm = _CN_DIGIT.sub(lambda m: _WORD_DIGITS[m.group()], norm)
    return _EN_DIGIT_WORD.sub(lambda m: _WORD_DIGITS[m.group()], norm)


def _runs(text: str) -> list[str]:
    return [re.sub(r"[^0-9x]", "", m.group()) for m in _DIGIT_RUN.finditer(spoken_digits(text))]


def find_card_numbers(text: str) -> list[str]:
    """Full payment card numbers (13–19 digits, Luhn-valid) in an utterance."""
    out = []
    for run in _runs(text):
        digits = run.rstrip("x")
        for n in range(19, 12, -1):  # a longer run may hold a card number plus other digits
            hit = next((digits[i : i + n] for i in range(len(digits) - n + 1)
                        if luhn_valid(digits[i : i + n])), None)  # fmt: skip
            if hit and not cn_id_valid(run[:18]):
                out.append(hit)
                break
    return out


def find_cn_ids(text: str) -> list[str]:
    return [run.upper() for run in _runs(text) if len(run) == 18 and cn_id_valid(run)]


def mask_number(value: str) -> str:
    """Only the last four characters survive: alerts and logs never carry the full number."""
    return "*" * (len(value) - 4) + value[-4:]


# --- one utterance -------------------------------------------------------------------------


def check_utterance(
    text: str, *, language: str, speaker: str, rules: ComplianceRules
) -> list[Alert]:
    """Alerts for one final utterance. Forbidden phrases count only for agent/bot speech;
    full card or ID numbers count for anyone (they must not be spoken on a recorded line)."""
    lang = language if language in ("en", "zh") else "en"
    alerts: list[Alert] = []
    if speaker in ("agent", "bot"):
        norm = normalise(text)
        for rule in rules.forbidden:
            phrase = _any_phrase(norm, rule.phrases)
            if phrase:
                alerts.append(Alert(rule.key, rule.severity, rule.name.get(lang, rule.key), phrase))
    who = {"en": "Customer" if speaker == "customer" else "Agent",
           "zh": "客户" if speaker == "customer" else "坐席"}[lang]  # fmt: skip
    for card in find_card_numbers(text):
        title = {"en": f"{who} read out a full card number", "zh": f"{who}报出了完整卡号"}[lang]
        alerts.append(Alert("card_number_spoken", "high", title, mask_number(card)))
    for cid in find_cn_ids(text):
        title = {"en": f"{who} read out a full ID number", "zh": f"{who}报出了完整身份证号"}[lang]
        alerts.append(Alert("id_number_spoken", "high", title, mask_number(cid)))
    return alerts
