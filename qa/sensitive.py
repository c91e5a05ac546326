"""Sensitive numbers read aloud: payment cards (Luhn), Chinese resident IDs (GB 11643), SSNs.

ASR writes spoken digits as words ("four five three two…", "四五三二…") as often as figures,
so digit words are folded into figures first. A run of digits only counts when its checksum
holds, which keeps order numbers and phone numbers from looking like card numbers. What is
returned is masked (last four kept): evidence is stored, and must not become a second copy
of the card number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.masking import cn_id_ok, luhn_ok

_EN_DIGITS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ZH_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_DIGITS) + r")\b", re.IGNORECASE)
# a digit run: figures joined by spaces, dashes, dots or commas (how cards are read in groups)
_RUN = re.compile(r"\d(?:[\s\-.,，、]*\d)+(?:[\s\-]*[xX](?![a-zA-Z]))?")
_SSN = re.compile(r"(?<!\d)(\d{3})[\s\-](\d{2})[\s\-](\d{4})(?!\d)")
_CARD_WORDS = re.compile(r"\b(card|account) (number|no)\b|卡号|银行卡|信用卡|账号|卡的号码", re.I)
_ID_WORDS = re.compile(r"身份证|证件号|\bid (number|card)\b|identity (number|card)", re.I)


@dataclass(frozen=True)
class Finding:
    kind: str  # card | cn_id | ssn
    masked: str


def spoken_digits_to_figures(text: str) -> str:
    """'four five 三二' -> '4 5 32': digit words in English and Chinese become figures."""
    return _EN_WORD.sub(lambda m: _EN_DIGITS[m.group(1).lower()], text).translate(_ZH_DIGITS)


def _mask(digits: str) -> str:
    return "*" * (len(digits) - 4) + digits[-4:]


def find_sensitive(text: str, kinds: tuple[str, ...] = ("card", "cn_id", "ssn")) -> list[Finding]:
    """Every card / Chinese ID / SSN read out in ``text``, masked.

    A number counts when its checksum holds, or when the turn itself says what it is
    ("card number …", "卡号…", "身份证号…"): people read out mistyped or made-up numbers
    too, and a reviewer would still flag them.
    """
    norm = spoken_digits_to_figures(text)
    card_said = bool(_CARD_WORDS.search(text))
    id_said = bool(_ID_WORDS.search(text))
    found: list[Finding] = []
    for m in _RUN.finditer(norm):
        raw = re.sub(r"[^\dxX]", "", m.group(0))
        if (
            "cn_id" in kinds
            and len(raw) == 18
            and (cn_id_ok(raw) or (id_said and raw[:17].isdigit()))
        ):
            found.append(Finding("cn_id", _mask(raw)))
            continue
        digits = raw.rstrip("xX")
        if (
            "card" in kinds
            and digits.isdigit()
            and 13 <= len(digits) <= 19
            and (luhn_ok(digits) or (card_said and len(digits) >= 15))
        ):
            found.append(Finding("card", _mask(digits)))
    if "ssn" in kinds:
        for m in _SSN.finditer(norm):
            area, group, serial = m.groups()
            valid = area not in ("000", "666") and not area.startswith("9")
            if valid and group != "00" and serial != "0000":
                found.append(Finding("ssn", "***-**-" + serial))
    return found
