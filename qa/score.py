"""Score one contact against a scorecard: verdict, score and evidence per item.

Pure function of (transcript, scorecard, optional embedder), so the subscriber, the
backfill job, the CLI and the benchmark all score the same way and tests need no I/O.
The total is weighted over the *applicable* items only (an ``na`` item neither helps nor
hurts); ``auto_fail`` is set when any auto-fail item failed and is reported beside the
weighted score so reviewers see both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.checks import CheckResult, Context, Embedder, Evidence, Verdict
from qa.scorecard import Item, Scorecard
from qa.transcript import CallTranscript


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    verdict: Verdict
    score: float | None  # 1.0 pass, 0.0 fail, None when na
    weight: float
    auto_fail: bool
    evidence: tuple[Evidence, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "weight": self.weight,
            "auto_fail": self.auto_fail,
            "note": self.note,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class ContactScore:
    call_id: str
    scorecard: str
    scorecard_revision: int
    score: float | None  # 0-100 over applicable items; None when nothing applied
    auto_fail: bool
    items: dict[str, ItemResult] = field(default_factory=dict)
    language: str = ""

    @property
    def failed_items(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.items.items() if v.verdict == "fail")

    def summary(self) -> dict[str, object]:
        """The CLI / hidden-set shape: verdicts with evidence as turn indices."""
        return {
            "call_id": self.call_id,
            "score": self.score,
            "auto_fail": self.auto_fail,
            "items": {
                k: {"verdict": v.verdict, "evidence": sorted({e.turn for e in v.evidence})}
                for k, v in self.items.items()
            },
        }


def _applies(item: Item, ctx: Context) -> tuple[bool, str]:
    cond, call = item.applies_when, ctx.call
    if cond.direction is not None and call.direction not in cond.direction:
        return False, f"only {'/'.join(cond.direction)}"
    if cond.channel is not None and call.channel not in cond.channel:
        return False, f"only {'/'.join(cond.channel)}"
    if cond.language is not None and call.language not in cond.language:
        return False, f"only {'/'.join(cond.language)}"
    if cond.customer_upset is not None:
        upset = bool(ctx.upset_turns())
        if upset != cond.customer_upset:
            return False, "customer not upset" if cond.customer_upset else "customer upset"
    return True, ""


def _combine(mode: str, results: list[CheckResult]) -> tuple[Verdict, tuple[Evidence, ...], str]:
    verdicts = [r.verdict for r in results]
    if mode == "any":
        verdict: Verdict = "pass" if "pass" in verdicts else "fail" if "fail" in verdicts else "na"
    else:
        verdict = "fail" if "fail" in verdicts else "pass" if "pass" in verdicts else "na"
    chosen = [r for r in results if r.verdict == verdict]
    evidence: dict[tuple[int, str], Evidence] = {}
    for r in chosen:
        for e in r.evidence:
            evidence.setdefault((e.turn, e.check), e)
    notes = "; ".join(r.note for r in chosen if r.note)
    return verdict, tuple(sorted(evidence.values(), key=lambda e: (e.turn, e.check))), notes


def score_item(item: Item, ctx: Context) -> ItemResult:
    applies, why = _applies(item, ctx)
    if not applies:
        return ItemResult(item.id, "na", None, item.weight, item.auto_fail, (), why)
    # lazily: in "any" mode stop at the first pass, in "all" mode at the first fail, so a
    # costly semantic check only runs when the phrase check did not already decide
    stop = "pass" if item.mode == "any" else "fail"
    results = []
    for check_id in item.checks:
        results.append(ctx.result(check_id))
        if results[-1].verdict == stop:
            break
    verdict, evidence, note = _combine(item.mode, results)
    score = None if verdict == "na" else 1.0 if verdict == "pass" else 0.0
    return ItemResult(item.id, verdict, score, item.weight, item.auto_fail, evidence, note)


def score_contact(
    call: CallTranscript, scorecard: Scorecard, *, embedder: Embedder | None = None
) -> ContactScore:
    """Score every item of ``scorecard`` on ``call``; without an embedder semantic checks are na."""
    ctx = Context(call, scorecard, embedder)
    items = {item.id: score_item(item, ctx) for item in scorecard.items}
    applicable = [r for r in items.values() if r.score is not None]
    weight = sum(r.weight for r in applicable)
    total = (
        round(100.0 * sum(r.weight * (r.score or 0.0) for r in applicable) / weight, 2)
        if weight
        else None
    )
    auto_fail = any(r.auto_fail and r.verdict == "fail" for r in items.values())
    return ContactScore(
        call.call_id, scorecard.name, scorecard.revision, total, auto_fail, items, call.language
    )
