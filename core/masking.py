"""Masking of personal data in free text (logs, exports, transcripts shown to the wrong role).

Rules follow what Chinese and Western contact centres expect: card numbers keep the last 4
digits, resident ID numbers hide the middle 8 (GB 11643 layout), phone numbers keep the last
4, e-mail addresses keep the first letter and the domain.
"""

from __future__ import annotations

import re
from datetime import date

_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_CN_ID = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_PHONE = re.compile(r"(?<![\w])(\+?\d[\d ()-]{6,}\d)(?!\w)")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812) check digit of a payment card number (digits only)."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_ok(value: str) -> bool:
    """GB 11643-1999 resident ID: 18 characters, a real birth date, MOD 11-2 check character."""
    v = value.upper()
    if len(v) != 18 or not v[:17].isdigit() or v[17] not in "0123456789X":
        return False
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date(2100, 1, 1):
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == v[17]


def _mask_card(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return "*" * (len(digits) - 4) + digits[-4:]
    return m.group(0)


def _mask_phone(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if len(digits) < 7:
        return m.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    """Mask card numbers, Chinese ID numbers, phone numbers and e-mails in ``text``."""
    text = _CN_ID.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    text = _CARD.sub(_mask_card, text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(_mask_phone, text)
