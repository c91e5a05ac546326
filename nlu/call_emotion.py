"""One emotion for a whole call, from its customer turns (the per-call half of issue 5).

Supervisors and QA ask two questions of a call: how did the customer feel overall, and did it
get better or worse (Contact Lens reports the same pair as overall sentiment and sentiment
trend). So the call gets:

- ``label``: a vote of the turns' labels, each weighted by its confidence and by how late it
  came (the last turn counts twice the first), so a call that was angry for most of its turns
  stays "angry" even if the customer said thanks at the end;
- ``sentiment``: the same recency-weighted mean of the turns' sentiment (-1..+1);
- ``trend``: how upset the customer sounds in the last third of turns against the first
  third (``UPSET``: angry 1 ... satisfied -0.5), "improving" / "worsening" beyond
  ``TREND_STEP``, else "steady". On labels, not on ``sentiment``: a worried "my card was
  stolen" scores lower sentiment than an angry "I want to complain" (measured with the
  shipped head: -0.85 vs -0.46), yet going from worried to angry is no improvement;
- ``peak``: the most severe negative label any turn had (angry > frustrated > anxious > sad);
- ``escalate``: any turn was flagged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from nlu.emotion import TAXONOMY

# severity order of the negative labels, worst first
SEVERITY = ("angry", "frustrated", "anxious", "sad")
# how upset each label reads (QA's scale in qa/checks.py, with "satisfied" below neutral)
UPSET = {"angry": 1.0, "frustrated": 0.8, "anxious": 0.5, "sad": 0.5, "neutral": 0.0,
         "satisfied": -0.5}  # fmt: skip
# anxious -> angry (0.5) is a change, frustrated -> angry (0.2) is not
TREND_STEP = 0.3


@dataclass(frozen=True)
class TurnEmotion:
    """What the per-utterance classifier said of one customer turn."""

    label: str
    confidence: float
    sentiment: float
    escalate: bool = False


@dataclass(frozen=True)
class CallEmotion:
    label: str
    confidence: float  # the label's share of the weighted vote
    sentiment: float
    start_sentiment: float  # mean over the first third of turns
    end_sentiment: float  # ... and the last third
    trend: str  # improving | worsening | steady
    peak: str | None
    escalate: bool
    turns: int
    counts: dict[str, int] = field(default_factory=dict)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def summarize_call(turns: Sequence[TurnEmotion]) -> CallEmotion | None:
    """The call's emotion from its customer turns in order; None for a call with none."""
    known = [t for t in turns if t.label in TAXONOMY]
    if not known:
        return None
    n = len(known)
    weights = [1.0 + (i / (n - 1) if n > 1 else 0.0) for i in range(n)]
    votes = dict.fromkeys(TAXONOMY, 0.0)
    for t, w in zip(known, weights, strict=True):
        votes[t.label] += w * max(t.confidence, 1e-3)
    # ties go to the more severe label: an even angry/neutral split is an angry call
    rank = {lab: i for i, lab in enumerate((*SEVERITY, "neutral", "satisfied"))}
    label = max(votes, key=lambda lab: (votes[lab], -rank[lab]))
    total = sum(votes.values())
    sentiments = [max(-1.0, min(1.0, t.sentiment)) for t in known]
    upset = [UPSET[t.label] for t in known]
    third = max(1, n // 3)
    delta = _mean(upset[-third:]) - _mean(upset[:third])
    trend = (
        "worsening" if delta >= TREND_STEP else "improving" if delta <= -TREND_STEP else "steady"
    )
    seen = {t.label for t in known}
    return CallEmotion(
        label=label,
        confidence=round(votes[label] / total, 3) if total else 0.0,
        sentiment=round(
            sum(w * s for w, s in zip(weights, sentiments, strict=True)) / sum(weights), 3
        ),
        start_sentiment=round(_mean(sentiments[:third]), 3),
        end_sentiment=round(_mean(sentiments[-third:]), 3),
        trend=trend if n > 1 else "steady",
        peak=next((lab for lab in SEVERITY if lab in seen), None),
        escalate=any(t.escalate for t in known),
        turns=n,
        counts=dict(Counter(t.label for t in known)),
    )
