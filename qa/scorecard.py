"""Scorecards: versioned YAML that QA admins edit, validated on load.

A scorecard has *checks* (named detectors: phrase/regex lists per language, semantic
similarity to example phrasings, ordering, time windows, emotion trajectory, silence, hold,
talk-over, talk-time ratio, sensitive numbers) and *items* in *sections* that combine
checks (``mode: all`` or ``any``) with a weight, an auto-fail flag and applicability
conditions. Items reference checks by id so one detector (e.g. "identity asked") serves
several items (identity verification, ordering).

Everything is checked before the card is used (Rasa-style: the error names the file and
the item): YAML syntax, schema, unknown check types, references to missing checks, weights
that do not add up, duplicate ids and regexes that do not compile. A card that fails to
load raises :class:`qa.errors.ScorecardError` and is never used, so existing scores stay.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from qa.errors import ScorecardError

SUPPORTED_VERSIONS = (1,)
DEFAULT_PATH = Path(__file__).parent / "scorecards" / "default.yaml"

Speaker = Literal["agent", "customer", "any"]
PhraseLists = dict[str, list[str]]  # language ("en", "zh" or "any") -> phrases


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Model):
    """Where in the contact a check looks; all given limits apply together (AND)."""

    first_s: float | None = Field(default=None, gt=0)
    last_s: float | None = Field(default=None, gt=0)
    first_speaker_turns: int | None = Field(default=None, ge=1)
    last_speaker_turns: int | None = Field(default=None, ge=1)


class _Check(_Model):
    description: str = ""
    speaker: Speaker = "agent"
    scope: Scope = Scope()


class PhraseCheck(_Check):
    """Literal phrases (word-bounded in English) and regexes, per language."""

    type: Literal["phrases"]
    expect: Literal["present", "absent"] = "present"
    phrases: PhraseLists = Field(default_factory=dict)
    patterns: PhraseLists = Field(default_factory=dict)
    negation: bool = Field(
        default=False, description="ignore a match preceded by a negation (not/never/不/没有)"
    )


class SemanticCheck(_Check):
    """Cosine similarity of turns to example phrasings; ``na`` when no embedder is given."""

    type: Literal["semantic"]
    examples: PhraseLists
    threshold: float = Field(ge=0.0, le=1.0)
    counter_examples: PhraseLists = Field(
        default_factory=dict,
        description="look-alikes that must NOT count; a sentence must be nearer the examples",
    )
    margin: float = Field(default=0.0, ge=0.0, le=1.0)


class OrderCheck(_Check):
    """``first`` must happen before ``then``; na when neither happens."""

    type: Literal["order"]
    first: str
    then: str


class TimeWindowCheck(_Check):
    """The referenced check must first match within ``within_s`` of the contact start."""

    type: Literal["time_window"]
    check: str
    within_s: float = Field(gt=0)


class EmotionTrajectoryCheck(_Check):
    """Customer calmer at the end than at the peak; na when never upset."""

    type: Literal["emotion_trajectory"]
    speaker: Speaker = "customer"
    end_turns: int = Field(default=2, ge=1)


class SilenceCheck(_Check):
    """Dead air: no gap between consecutive turns longer than ``max_gap_s``."""

    type: Literal["silence"]
    speaker: Speaker = "any"
    max_gap_s: float = Field(gt=0)


class HoldCheck(_Check):
    """Holds (gaps ≥ min_hold_s) must be announced, thanked for and not too long."""

    type: Literal["hold"]
    announce: str
    resume: str
    min_hold_s: float = Field(default=20.0, gt=0)
    max_hold_s: float = Field(default=180.0, gt=0)


class TalkOverCheck(_Check):
    """``speaker`` starting while the other side still talks, at most ``max_count`` times."""

    type: Literal["talk_over"]
    min_overlap_s: float = Field(default=0.5, ge=0)
    max_count: int = Field(default=2, ge=0)


class TalkRatioCheck(_Check):
    """Share of talk time taken by ``speaker`` must lie in [min_ratio, max_ratio]."""

    type: Literal["talk_ratio"]
    min_ratio: float = Field(default=0.0, ge=0, le=1)
    max_ratio: float = Field(default=1.0, ge=0, le=1)


class SensitiveDataCheck(_Check):
    """Full card numbers (Luhn), Chinese ID numbers (GB 11643), US SSNs read aloud."""

    type: Literal["sensitive_data"]
    kinds: list[Literal["card", "cn_id", "ssn"]] = Field(
        default_factory=lambda: ["card", "cn_id", "ssn"]
    )


Check = Annotated[
    PhraseCheck
    | SemanticCheck
    | OrderCheck
    | TimeWindowCheck
    | EmotionTrajectoryCheck
    | SilenceCheck
    | HoldCheck
    | TalkOverCheck
    | TalkRatioCheck
    | SensitiveDataCheck,
    Field(discriminator="type"),
]
CHECK_TYPES: tuple[str, ...] = (
    "phrases",
    "semantic",
    "order",
    "time_window",
    "emotion_trajectory",
    "silence",
    "hold",
    "talk_over",
    "talk_ratio",
    "sensitive_data",
)
# fields of a check that name another check
_REFERENCE_FIELDS = ("first", "then", "check", "announce", "resume")


class AppliesWhen(_Model):
    """Conditions under which an item is scored at all; otherwise the item is ``na``."""

    customer_upset: bool | None = None
    direction: list[Literal["inbound", "outbound"]] | None = None
    channel: list[str] | None = None
    language: list[str] | None = None


class Item(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = ""
    description: str = ""
    weight: float = Field(gt=0)
    auto_fail: bool = False
    applies_when: AppliesWhen = AppliesWhen()
    checks: list[str] = Field(min_length=1)
    mode: Literal["all", "any"] = "all"


class Section(_Model):
    id: str
    title: str = ""
    items: list[Item] = Field(min_length=1)


class Upset(_Model):
    """How 'customer upset' is decided: emotion labels when present, else a phrase check."""

    check: str
    labels: list[str] = Field(default_factory=lambda: ["angry", "frustrated"])


class Scorecard(_Model):
    version: int
    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    title: str = ""
    revision: int = Field(default=1, ge=1, description="bumped on every edit of this card")
    languages: list[str] = Field(default_factory=lambda: ["en", "zh"])
    total_weight: float = Field(default=100.0, gt=0)
    upset: Upset | None = None
    checks: dict[str, Check]
    sections: list[Section] = Field(min_length=1)

    _compiled: dict[tuple[str, str], list[tuple[re.Pattern[str], str]]] = PrivateAttr(
        default_factory=dict
    )
    _semantic_cache: dict[tuple[int, str, str], Any] = PrivateAttr(default_factory=dict)
    _prefilter: dict[tuple[str, str], re.Pattern[str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _version_known(self) -> Scorecard:
        if self.version not in SUPPORTED_VERSIONS:
            raise ValueError(f"unsupported scorecard version {self.version}")
        return self

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def matchers(self, check_id: str, language: str) -> list[tuple[re.Pattern[str], str]]:
        """Compiled (regex, original phrase) pairs of a phrase check for one language."""
        return self._compiled.get((check_id, language), [])

    def prefilter(self, check_id: str, language: str) -> re.Pattern[str] | None:
        """One alternation of all of a check's regexes: most turns match none, so a single
        search rejects them before the per-phrase regexes run (the text-only hot path)."""
        return self._prefilter.get((check_id, language))

    def semantic_cache(self) -> dict[tuple[int, str, str], Any]:
        """Example embeddings per (embedder, check, language): encoded once per card."""
        return self._semantic_cache


# --- phrase compilation --------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]")


def normalize_text(text: str) -> str:
    """Lower-case, unify apostrophes and drop spaces between CJK characters (ASR adds them)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", text)


def phrase_regex(phrase: str) -> str:
    """Regex for one literal phrase: word-bounded for Latin text, plain for Chinese."""
    norm = normalize_text(phrase.strip())
    body = r"\s+".join(re.escape(part) for part in norm.split())
    if _CJK.search(norm):
        return body
    return rf"(?<![\w']){body}(?![\w'])"


def _compile(card: Scorecard, source: str) -> None:
    compiled: dict[tuple[str, str], list[tuple[re.Pattern[str], str]]] = {}
    prefilter: dict[tuple[str, str], re.Pattern[str]] = {}
    for check_id, check in card.checks.items():
        if not isinstance(check, PhraseCheck):
            continue
        lists: list[tuple[PhraseLists, bool]] = [(check.phrases, False), (check.patterns, True)]
        for lang in {*card.languages, "any"}:
            pairs: list[tuple[re.Pattern[str], str]] = []
            for table, is_regex in lists:
                for text in [
                    *table.get(lang, []),
                    *(table.get("any", []) if lang != "any" else []),
                ]:
                    try:
                        rx = re.compile(text if is_regex else phrase_regex(text), re.IGNORECASE)
                    except re.error as e:
                        raise ScorecardError(
                            f"pattern {text!r} does not compile: {e}",
                            code="scorecard_regex",
                            source=source,
                            item=f"checks.{check_id}",
                        ) from e
                    pairs.append((rx, text))
            compiled[(check_id, lang)] = pairs
            if pairs:
                prefilter[(check_id, lang)] = re.compile(
                    "|".join(f"(?:{rx.pattern})" for rx, _ in pairs), re.IGNORECASE
                )
    card._compiled = compiled
    card._prefilter = prefilter


# --- loading -------------------------------------------------------------------------------


def _check_types(raw: dict[str, Any], source: str) -> None:
    checks = raw.get("checks")
    if not isinstance(checks, dict):
        raise ScorecardError(
            "'checks' must be a mapping of check id to check",
            code="scorecard_schema",
            source=source,
        )
    for check_id, check in checks.items():
        kind = check.get("type") if isinstance(check, dict) else None
        if kind not in CHECK_TYPES:
            raise ScorecardError(
                f"unknown check type {kind!r}; known: {', '.join(CHECK_TYPES)}",
                code="scorecard_unknown_check_type",
                source=source,
                item=f"checks.{check_id}",
            )


def _check_references(card: Scorecard, source: str) -> None:
    seen: set[str] = set()
    for section in card.sections:
        for item in section.items:
            if item.id in seen:
                raise ScorecardError(
                    "duplicate item id", code="scorecard_duplicate_id", source=source, item=item.id
                )
            seen.add(item.id)
            for ref in item.checks:
                if ref not in card.checks:
                    raise ScorecardError(
                        f"refers to missing check {ref!r}",
                        code="scorecard_missing_check",
                        source=source,
                        item=item.id,
                    )
    for check_id, check in card.checks.items():
        for field in _REFERENCE_FIELDS:
            ref = getattr(check, field, None)
            if isinstance(ref, str) and ref not in card.checks:
                raise ScorecardError(
                    f"{field} refers to missing check {ref!r}",
                    code="scorecard_missing_check",
                    source=source,
                    item=f"checks.{check_id}",
                )
            if isinstance(ref, str) and ref == check_id:
                raise ScorecardError(
                    f"{field} refers to itself",
                    code="scorecard_schema",
                    source=source,
                    item=f"checks.{check_id}",
                )
    if card.upset is not None and card.upset.check not in card.checks:
        raise ScorecardError(
            f"upset.check refers to missing check {card.upset.check!r}",
            code="scorecard_missing_check",
            source=source,
            item="upset",
        )


def _check_weights(card: Scorecard, source: str) -> None:
    total = sum(item.weight for item in card.items)
    if not math.isclose(total, card.total_weight, rel_tol=0, abs_tol=1e-6):
        detail = ", ".join(f"{i.id}={i.weight:g}" for i in card.items)
        raise ScorecardError(
            f"item weights add up to {total:g}, not total_weight {card.total_weight:g} ({detail})",
            code="scorecard_weights",
            source=source,
            item="weights",
        )


def parse_scorecard(text: str, *, source: str = "<scorecard>") -> Scorecard:
    """Validate scorecard YAML text and return a ready-to-use card (regexes compiled)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScorecardError(f"invalid YAML: {e}", code="scorecard_yaml", source=source) from e
    if not isinstance(raw, dict):
        raise ScorecardError(
            "a scorecard is a YAML mapping", code="scorecard_schema", source=source
        )
    _check_types(raw, source)
    try:
        card = Scorecard.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScorecardError(
            first["msg"],
            code="scorecard_schema",
            source=source,
            item=_name_item(raw, first["loc"]) or where,
        ) from e
    _check_references(card, source)
    _check_weights(card, source)
    _compile(card, source)
    return card


def _name_item(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Turn a pydantic location like ('sections', 0, 'items', 2, 'weight') into 'item_id.weight'."""
    if len(loc) >= 4 and loc[0] == "sections" and loc[2] == "items":
        try:
            item = raw["sections"][loc[1]]["items"][loc[3]]
            rest = ".".join(str(p) for p in loc[4:])
            return f"{item.get('id', loc[3])}" + (f".{rest}" if rest else "")
        except (KeyError, IndexError, TypeError, AttributeError):
            return ""
    return ""


def load_scorecard(path: str | Path) -> Scorecard:
    """Read and validate a scorecard file; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ScorecardError(f"cannot read: {e}", code="scorecard_yaml", source=str(p)) from e
    return parse_scorecard(text, source=str(p))


def load_default() -> Scorecard:
    """The contact-center scorecard shipped with the product (qa/scorecards/default.yaml)."""
    return load_scorecard(DEFAULT_PATH)
