"""Check evaluation: each scorecard check type turned into a verdict with evidence.

One :class:`Context` per scored contact memoizes what several items share (the hits of a
phrase check used by an item *and* by an ordering check; turn embeddings). Every function is
pure: the transcript, the card and an optional embedder in; verdicts and evidence out.

Verdicts: ``pass``, ``fail`` or ``na`` (the check does not apply to this contact, e.g. no
hold happened, or no embedder is available for a semantic check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from qa.scorecard import (
    EmotionTrajectoryCheck,
    HoldCheck,
    OrderCheck,
    PhraseCheck,
    Scope,
    Scorecard,
    SemanticCheck,
    SensitiveDataCheck,
    SilenceCheck,
    TalkOverCheck,
    TalkRatioCheck,
    TimeWindowCheck,
    normalize_text,
)
from qa.sensitive import find_sensitive
from qa.transcript import CallTranscript, Turn

Verdict = Literal["pass", "fail", "na"]

# How negative each per-turn emotion label is (labels of core.events.EmotionResult).
EMOTION_NEGATIVITY = {
    "angry": 1.0,
    "frustrated": 0.8,
    "anxious": 0.5,
    "sad": 0.5,
    "neutral": 0.0,
    "satisfied": 0.0,
}
_UPSET_LEVEL = 0.5
_EN_NEGATION_BEFORE = re.compile(
    r"(?<![\w'])(not|no|never|nothing|none|nobody|cannot|can't|won't|isn't|aren't|don't|"
    r"doesn't|didn't|neither|nor|without|n't)(?![\w'])"
)
_EN_NEGATION_AFTER = re.compile(
    r"^\W*(is|are|does|do)?\s*(not|n't|never)\b|^\W*(isn't|aren't|doesn't exist|don't exist|"
    r"is impossible|are impossible|is not possible|don't exist)"
)
_ZH_NEGATION_BEFORE = ("不", "没", "无法", "并非", "别", "未", "非")
_ZH_NEGATION_AFTER = ("是不可能", "不可能", "不存在", "是没有的", "做不到", "不能保证", "无法保证")


class Embedder(Protocol):
    """Sentence embedder injected into scoring (MiniLM / e5 adapters, or a fake in tests)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Evidence:
    """A turn that supports a verdict, with times so a reviewer can jump to the moment."""

    turn: int
    start: float
    end: float
    speaker: str
    matched: tuple[str, ...] = ()
    check: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "turn": self.turn,
            "start": self.start,
            "end": self.end,
            "speaker": self.speaker,
            "matched": list(self.matched),
            "check": self.check,
            "note": self.note,
        }


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    evidence: tuple[Evidence, ...] = ()
    note: str = ""


def _evidence(call: CallTranscript, i: int, check: str, matched=(), note: str = "") -> Evidence:
    t = call.turns[i]
    return Evidence(i, t.start, t.end, t.speaker, tuple(matched), check, note)


@dataclass
class Context:
    """Everything one contact's scoring shares between checks."""

    call: CallTranscript
    card: Scorecard
    embedder: Embedder | None = None
    _hits: dict[str, list[Evidence]] = field(default_factory=dict)
    _results: dict[str, CheckResult] = field(default_factory=dict)
    _texts: list[str] = field(default_factory=list)
    _turn_vecs: dict[int, np.ndarray] = field(default_factory=dict)
    _negativity: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._texts = [normalize_text(t.text) for t in self.call.turns]

    # -- scope -----------------------------------------------------------------------------
    def turns_in(self, speaker: str, scope: Scope) -> list[int]:
        """Indices of ``speaker``'s turns inside ``scope`` (all limits together)."""
        turns = self.call.turns
        idx = [i for i, t in enumerate(turns) if speaker == "any" or t.speaker == speaker]
        if scope.first_speaker_turns is not None:
            idx = idx[: scope.first_speaker_turns]
        if scope.last_speaker_turns is not None:
            idx = idx[-scope.last_speaker_turns :]
        if scope.first_s is not None:
            idx = [i for i in idx if turns[i].start <= scope.first_s]
        if scope.last_s is not None:
            cutoff = self.call.duration_s - scope.last_s
            idx = [i for i in idx if turns[i].end >= cutoff]
        return idx

    # -- results ---------------------------------------------------------------------------
    def result(self, check_id: str) -> CheckResult:
        if check_id not in self._results:
            self._results[check_id] = _EVALUATORS[type(self.card.checks[check_id])](self, check_id)
        return self._results[check_id]

    def hits(self, check_id: str) -> list[Evidence]:
        """Turns where a phrase/semantic check found what it looks for, in time order."""
        if check_id not in self._hits:
            check = self.card.checks[check_id]
            if isinstance(check, PhraseCheck):
                found = self._phrase_hits(check_id, check)
            elif isinstance(check, SemanticCheck):
                found = self._semantic_hits(check_id, check)
            else:
                res = self.result(check_id)
                found = list(res.evidence) if res.verdict == "pass" else []
            self._hits[check_id] = sorted(found, key=lambda e: (e.start, e.turn))
        return self._hits[check_id]

    def _phrase_hits(self, check_id: str, check: PhraseCheck) -> list[Evidence]:
        lang = self.call.language
        matchers = self.card.matchers(check_id, lang)
        prefilter = self.card.prefilter(check_id, lang)
        found = []
        if prefilter is None:
            return found
        for i in self.turns_in(check.speaker, check.scope):
            text = self._texts[i]
            if prefilter.search(text) is None:
                continue
            words: list[str] = []
            for rx, _phrase in matchers:
                for m in rx.finditer(text):
                    if check.negation and _negated(text, m.start(), m.end(), lang):
                        continue
                    words.append(m.group(0))
            if words:
                found.append(_evidence(self.call, i, check_id, dict.fromkeys(words)))
        return found

    def _semantic_hits(self, check_id: str, check: SemanticCheck) -> list[Evidence]:
        """Sentences similar to the examples (and nearer them than to the counter-examples).

        Sentence level, not turn level: a long turn mixing a greeting with an account
        question would otherwise dilute both.
        """
        if self.embedder is None:
            return []
        lang = self.call.language
        examples = check.examples.get(lang, []) + check.examples.get("any", [])
        counter = check.counter_examples.get(lang, []) + check.counter_examples.get("any", [])
        idx = [i for i in self.turns_in(check.speaker, check.scope) if self._texts[i].strip()]
        if not examples or not idx:
            return []
        self._encode_turns(idx)
        ex = self._examples(check_id, "examples", examples)
        cx = self._examples(check_id, "counter", counter) if counter else None
        found = []
        for i in idx:
            sents = self._sentence_vectors(i)
            sims = sents @ ex.T  # (sentences, examples)
            s_best, e_best = np.unravel_index(int(np.argmax(sims)), sims.shape)
            best = float(sims[s_best, e_best])
            if best < check.threshold:
                continue
            if cx is not None and best - float((sents[s_best] @ cx.T).max()) < check.margin:
                continue
            found.append(
                _evidence(
                    self.call,
                    i,
                    check_id,
                    (_sentences(self.call.turns[i].text)[s_best],),
                    f"similar to {examples[e_best]!r} ({best:.2f})",
                )
            )
        return found

    def _examples(self, check_id: str, kind: str, texts: list[str]) -> np.ndarray:
        assert self.embedder is not None
        cache = self.card.semantic_cache()
        key = (id(self.embedder), f"{check_id}:{kind}", self.call.language)
        if key not in cache:
            cache[key] = _unit(np.asarray(self.embedder.encode(texts), dtype=np.float32))
        return cache[key]

    def _encode_turns(self, idx: list[int]) -> None:
        """Embed the sentences of every not-yet-seen turn in one batch (one model call)."""
        todo = [i for i in idx if i not in self._turn_vecs]
        if not todo or self.embedder is None:
            return
        per_turn = [_sentences(self.call.turns[i].text) for i in todo]
        flat = [s for sents in per_turn for s in sents]
        vecs = _unit(np.asarray(self.embedder.encode(flat), dtype=np.float32))
        pos = 0
        for i, sents in zip(todo, per_turn, strict=True):
            self._turn_vecs[i] = vecs[pos : pos + len(sents)]
            pos += len(sents)

    def _sentence_vectors(self, i: int) -> np.ndarray:
        return self._turn_vecs[i]

    # -- customer emotion ------------------------------------------------------------------
    def negativity(self, i: int) -> float:
        """How upset turn ``i`` reads: its emotion label if any, else the upset lexicon."""
        if i not in self._negativity:
            self._negativity[i] = self._read_negativity(i)
        return self._negativity[i]

    def _read_negativity(self, i: int) -> float:
        turn: Turn = self.call.turns[i]
        if turn.emotion is not None:
            label = turn.emotion.lower()
            upset_labels = self.card.upset.labels if self.card.upset else ["angry", "frustrated"]
            if label in upset_labels:
                return max(EMOTION_NEGATIVITY.get(label, 1.0), _UPSET_LEVEL)
            return min(EMOTION_NEGATIVITY.get(label, 0.0), _UPSET_LEVEL - 0.1)
        if self.card.upset is None:
            return 0.0
        check = self.card.checks[self.card.upset.check]
        if not isinstance(check, PhraseCheck):
            return 0.0
        text = self._texts[i]
        prefilter = self.card.prefilter(self.card.upset.check, self.call.language)
        if prefilter is None or prefilter.search(text) is None:
            return 0.0
        for rx, _ in self.card.matchers(self.card.upset.check, self.call.language):
            for m in rx.finditer(text):
                if not (check.negation and _negated(text, m.start(), m.end(), self.call.language)):
                    return 1.0
        return 0.0

    def upset_turns(self) -> list[int]:
        return [
            i
            for i, t in enumerate(self.call.turns)
            if t.speaker == "customer" and self.negativity(i) >= _UPSET_LEVEL
        ]


def _sentences(text: str) -> list[str]:
    """Split a turn into sentences (Latin and Chinese end punctuation); never empty."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？；;])\s*", text) if p.strip()]
    return parts or [text]


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.atleast_2d(m)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def _negated(text: str, start: int, end: int, lang: str) -> bool:
    """True when the phrase at text[start:end] is denied ("not risk-free", "不能保证保本")."""
    before, after = text[:start], text[end:]
    if lang == "zh" or re.search(r"[\u3400-\u9fff]", text[start:end]):
        clause = re.split(r"[。！？!?；;]", before)[-1]
        if any(cue in clause[-6:] for cue in _ZH_NEGATION_BEFORE):
            return True
        return any(after.lstrip("，,、 ").startswith(cue) for cue in _ZH_NEGATION_AFTER) or any(
            cue in after[:8] for cue in _ZH_NEGATION_AFTER[:3]
        )
    clause = re.split(r"[.!?;]", before)[-1]
    words = " ".join(clause.split()[-4:])
    if _EN_NEGATION_BEFORE.search(words):
        return True
    return bool(_EN_NEGATION_AFTER.search(after[:40]))


# --- evaluators ----------------------------------------------------------------------------


def _phrases(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, PhraseCheck)
    hits = ctx.hits(check_id)
    if check.expect == "present":
        return CheckResult("pass", tuple(hits)) if hits else CheckResult("fail", (), "not found")
    return CheckResult("fail", tuple(hits), "found") if hits else CheckResult("pass")


def _semantic(ctx: Context, check_id: str) -> CheckResult:
    if ctx.embedder is None:
        return CheckResult("na", (), "no embedder (text-only mode)")
    hits = ctx.hits(check_id)
    return CheckResult("pass", tuple(hits)) if hits else CheckResult("fail", (), "no similar turn")


def _order(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, OrderCheck)
    first, then = ctx.hits(check.first), ctx.hits(check.then)
    if not then:
        return CheckResult("pass", (first[0],)) if first else CheckResult("na", (), "neither")
    if not first:
        return CheckResult("fail", (then[0],), f"{check.then} without {check.first}")
    if first[0].turn <= then[0].turn:
        return CheckResult("pass", (first[0], then[0]))
    return CheckResult("fail", (then[0], first[0]), f"{check.then} before {check.first}")


def _time_window(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, TimeWindowCheck)
    hits = ctx.hits(check.check)
    if not hits:
        return CheckResult("fail", (), f"{check.check} not found")
    if hits[0].start <= check.within_s:
        return CheckResult("pass", (hits[0],))
    return CheckResult("fail", (hits[0],), f"first at {hits[0].start:g}s > {check.within_s:g}s")


def _emotion(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, EmotionTrajectoryCheck)
    idx = ctx.turns_in(check.speaker, check.scope)
    if not idx:
        return CheckResult("na")
    levels = [ctx.negativity(i) for i in idx]
    peak = max(levels)
    if peak < _UPSET_LEVEL:
        return CheckResult("na", (), "customer never upset")
    peak_i = idx[levels.index(peak)]
    tail = [i for i in idx if i > peak_i][-check.end_turns :]
    peak_ev = _evidence(ctx.call, peak_i, check_id, note=f"peak {peak:.1f}")
    if not tail:
        return CheckResult("fail", (peak_ev,), "upset until the end")
    end_level = max(ctx.negativity(i) for i in tail)
    ev = (peak_ev, *(_evidence(ctx.call, i, check_id, note="end") for i in tail))
    if end_level < peak:
        return CheckResult("pass", ev, f"end {end_level:.1f} < peak {peak:.1f}")
    return CheckResult("fail", ev, f"end {end_level:.1f} not below peak {peak:.1f}")


def _gaps(call: CallTranscript) -> list[tuple[int, float]]:
    """(index of the turn after the gap, gap seconds) for every silence between turns."""
    out: list[tuple[int, float]] = []
    last_end = None
    for i, t in enumerate(call.turns):
        if last_end is not None and t.start > last_end:
            out.append((i, t.start - last_end))
        last_end = t.end if last_end is None else max(last_end, t.end)
    return out


def _silence(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, SilenceCheck)
    if ctx.call.channel != "voice":
        return CheckResult("na", (), "not a voice contact")
    long = [(i, g) for i, g in _gaps(ctx.call) if g > check.max_gap_s]
    if not long:
        return CheckResult("pass")
    return CheckResult(
        "fail", tuple(_evidence(ctx.call, i, check_id, note=f"silence {g:.1f}s") for i, g in long)
    )


def _hold(ctx: Context, check_id: str) -> CheckResult:
    """A hold is a gap ≥ min_hold_s: announced before it, thanked after it, not too long.

    With no such gap, a short announced-and-thanked pause still passes; otherwise na.
    """
    check = ctx.card.checks[check_id]
    assert isinstance(check, HoldCheck)
    call = ctx.call
    announces = {e.turn: e for e in ctx.hits(check.announce)}
    resumes = {e.turn: e for e in ctx.hits(check.resume)}
    # a hold is the agent's silence: the agent spoke just before or just after the gap
    holds = [
        (i, g)
        for i, g in _gaps(call)
        if g >= check.min_hold_s and "agent" in (call.turns[i - 1].speaker, call.turns[i].speaker)
    ]
    if not holds:
        if announces and resumes and min(announces) < max(resumes):
            return CheckResult("pass", (*announces.values(), *resumes.values()), "short hold")
        return CheckResult("na", (), "no hold")
    agent = [i for i, t in enumerate(call.turns) if t.speaker == "agent"]
    evidence: list[Evidence] = []
    problems: list[str] = []
    for after, gap in holds:
        before_agent = [i for i in agent if i < after][-2:]
        after_agent = [i for i in agent if i >= after][:2]
        ann = [announces[i] for i in before_agent if i in announces]
        res = [resumes[i] for i in after_agent if i in resumes]
        evidence += ann or [_evidence(call, after - 1, check_id, note="hold starts")]
        evidence += res or [_evidence(call, after, check_id, note=f"hold {gap:.0f}s ends")]
        if not ann:
            problems.append(f"hold of {gap:.0f}s not announced")
        if not res:
            problems.append(f"no thanks after hold of {gap:.0f}s")
        if gap > check.max_hold_s:
            problems.append(f"hold of {gap:.0f}s > {check.max_hold_s:g}s")
    if problems:
        return CheckResult("fail", tuple(evidence), "; ".join(problems))
    return CheckResult("pass", tuple(evidence))


def _talk_over(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, TalkOverCheck)
    turns = ctx.call.turns
    others = [i for i, t in enumerate(turns) if check.speaker not in ("any", t.speaker)]
    if not others or ctx.call.channel != "voice":
        return CheckResult("na")
    events = []
    for i in ctx.turns_in(check.speaker, check.scope):
        t = turns[i]
        for j in others:
            o = turns[j]
            if o.start < t.start < o.end and min(o.end, t.end) - t.start >= check.min_overlap_s:
                events.append(_evidence(ctx.call, i, check_id, note=f"talks over turn {j}"))
                break
    if len(events) > check.max_count:
        return CheckResult("fail", tuple(events), f"{len(events)} interruptions")
    return CheckResult("pass", tuple(events))


def _talk_ratio(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, TalkRatioCheck)
    turns = ctx.call.turns
    total = sum(t.end - t.start for t in turns if t.speaker in ("agent", "customer"))
    if total <= 0 or ctx.call.channel != "voice":
        return CheckResult("na", (), "no talk time")
    mine = sum(t.end - t.start for t in turns if t.speaker == check.speaker)
    ratio = mine / total
    ok = check.min_ratio <= ratio <= check.max_ratio
    return CheckResult("pass" if ok else "fail", (), f"{check.speaker} talk ratio {ratio:.2f}")


def _sensitive(ctx: Context, check_id: str) -> CheckResult:
    check = ctx.card.checks[check_id]
    assert isinstance(check, SensitiveDataCheck)
    found = []
    for i in ctx.turns_in(check.speaker, check.scope):
        hits = find_sensitive(ctx.call.turns[i].text, tuple(check.kinds))
        if hits:
            found.append(
                _evidence(ctx.call, i, check_id, tuple(f"{h.kind} {h.masked}" for h in hits))
            )
    return (
        CheckResult("fail", tuple(found), "sensitive data read aloud")
        if found
        else CheckResult("pass")
    )


_EVALUATORS = {
    PhraseCheck: _phrases,
    SemanticCheck: _semantic,
    OrderCheck: _order,
    TimeWindowCheck: _time_window,
    EmotionTrajectoryCheck: _emotion,
    SilenceCheck: _silence,
    HoldCheck: _hold,
    TalkOverCheck: _talk_over,
    TalkRatioCheck: _talk_ratio,
    SensitiveDataCheck: _sensitive,
}
