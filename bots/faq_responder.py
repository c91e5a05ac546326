"""A keyword FAQ responder for Demo Bank: the placeholder dialogue until the bots issue lands.

Answers live in ``faq.yaml`` (versioned content, editable without code). Matching is by
keyword hits, longest keywords first; it is instant, so the latency budget measured with it
is the pipeline's own. The same YAML gives the greeting and the compliance announcement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bots.errors import FaqFormatError

DEFAULT_FAQ = Path(__file__).with_name("faq.yaml")
SUPPORTED_VERSION = 1


@dataclass(frozen=True)
class FaqEntry:
    id: str
    keywords: dict[str, tuple[str, ...]]
    answer: dict[str, str]


def _lang(language: str | None) -> str:
    return "zh" if (language or "en").lower().startswith("zh") else "en"


class FaqResponder:
    """Implements ``bots.responder.Responder`` with the Demo Bank FAQ."""

    def __init__(self, path: Path = DEFAULT_FAQ) -> None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise FaqFormatError(f"{path}: cannot read FAQ: {e}") from e
        if not isinstance(data, dict) or data.get("version") != SUPPORTED_VERSION:
            raise FaqFormatError(f"{path}: expected 'version: {SUPPORTED_VERSION}'")
        self.fallback: dict[str, str] = data["fallback"]
        self.greeting: dict[str, str] = data.get("greeting", {})
        self.announcement_text: dict[str, str] = data.get("announcement", {})
        entries = []
        for i, item in enumerate(data.get("entries", [])):
            try:
                entries.append(
                    FaqEntry(
                        id=item["id"],
                        keywords={k: tuple(v) for k, v in item["keywords"].items()},
                        answer=dict(item["answer"]),
                    )
                )
            except (KeyError, TypeError, AttributeError) as e:
                raise FaqFormatError(f"{path}: entry #{i}: missing or bad field {e}") from e
        self.entries = tuple(entries)

    def match(self, text: str, language: str | None) -> FaqEntry | None:
        """The entry with the most keyword hits (ties: the earlier entry), or None."""
        lang = _lang(language)
        t = text.lower()
        best, best_score = None, 0
        for entry in self.entries:
            score = 0
            for kw in entry.keywords.get(lang, ()):
                pattern = re.escape(kw.lower()) if lang == "zh" else rf"\b{re.escape(kw.lower())}\b"
                if re.search(pattern, t):
                    score += len(kw)
            if score > best_score:
                best, best_score = entry, score
        return best

    def announcement(self, language: str | None) -> str:
        return self.announcement_text.get(_lang(language), "")

    def phrases(self) -> list[tuple[str, str]]:
        """Every fixed text this responder can say, for the TTS phrase cache."""
        out = [(t, lang) for lang, t in self.fallback.items()]
        out += [(t, lang) for lang, t in self.greeting.items()]
        out += [(t, lang) for lang, t in self.announcement_text.items()]
        out += [(t, lang) for e in self.entries for lang, t in e.answer.items()]
        return out

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        if not text.strip():
            return ""
        entry = self.match(text, language)
        lang = _lang(language)
        return entry.answer.get(lang, "") if entry else self.fallback.get(lang, "")
