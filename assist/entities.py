"""Entity capture from what was said, for the wrap-up form: amounts, dates, account endings.

NLU entities (``nlu.result``) are used as they come; these patterns add what callers say
that a general NLU model does not tag ("ending 4821", "尾号4821", "$1,250", "3月5日").
Full card and ID numbers are never captured here: compliance masks and alerts on them.
"""

from __future__ import annotations

import re

from assist.tokens import normalise

_AMOUNT = re.compile(
    r"(?:(?:\$|usd\s?|¥|rmb\s?)\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?)"
    r"|(?:(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s?(?:dollars|元|块钱|块|rmb|usd|万元|万))"
)
_ACCOUNT = re.compile(
    r"(?:ending(?: in| with)?|last (?:four|4) digits(?: are)?|尾号(?:是)?)\s*(\d{4})(?!\d)"
)
_DATE_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_DATE_ZH = re.compile(r"(?:(20\d\d)年)?(\d{1,2})月(\d{1,2})[日号]")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_M = "|".join(_MONTHS)
_DATE_EN = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_M})\b|\b({_M}) (\d{{1,2}})(?:st|nd|rd|th)?\b"
)


def extract_entities(text: str) -> list[tuple[str, str]]:
    """(entity, value) pairs in utterance order; values are normalised for the form."""
    norm = normalise(text)
    found: list[tuple[int, str, str]] = []
    for m in _AMOUNT.finditer(norm):
        whole, cents = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = whole.replace(",", "") + (f".{cents}" if cents else "")
        if "万" in m.group(0):
            value = str(int(float(value) * 10_000))
        currency = "CNY" if any(c in m.group(0) for c in ("元", "块", "¥", "rmb", "万")) else "USD"
        found.append((m.start(), "amount", f"{value} {currency}"))
    for m in _ACCOUNT.finditer(norm):
        found.append((m.start(), "account_last4", m.group(1)))
    for m in _DATE_ISO.finditer(norm):
        found.append((m.start(), "date", m.group(0)))
    for m in _DATE_ZH.finditer(norm):
        year = f"{m.group(1)}-" if m.group(1) else ""
        found.append((m.start(), "date", f"{year}{int(m.group(2)):02d}-{int(m.group(3)):02d}"))
    for m in _DATE_EN.finditer(norm):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found.append((m.start(), "date", f"{_MONTHS.index(month) + 1:02d}-{int(day):02d}"))
    return [(e, v) for _, e, v in sorted(found)]
