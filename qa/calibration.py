"""Calibration: how far analysts agree with each other and with the automatic scores.

Analysts score the same contacts; per item we report the raw agreement rate and Cohen's
kappa (agreement corrected for chance, Cohen 1960): ``kappa = (p_o - p_e) / (1 - p_e)``
where ``p_o`` is the observed agreement and ``p_e`` the agreement expected from each rater's
own verdict frequencies. Verdicts are categorical (pass / fail / na). When ``p_e`` is 1
(both raters gave one and the same verdict to everything) kappa is undefined and reported
as ``None`` next to the agreement rate, rather than as a misleading 0 or 1.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

AUTO = "auto"


@dataclass(frozen=True)
class Rating:
    """One rater's verdict on one item of one contact (``rater`` "auto" = the scorer)."""

    contact_id: str
    rater: str
    item_id: str
    verdict: str


@dataclass(frozen=True)
class Agreement:
    n: int  # contacts both raters scored on this item
    agreement: float | None  # observed agreement rate p_o
    kappa: float | None  # Cohen's kappa; None when undefined or n == 0


@dataclass
class CalibrationReport:
    """Per item: every analyst pair, and every analyst against the automatic scores."""

    between_analysts: dict[str, dict[tuple[str, str], Agreement]] = field(default_factory=dict)
    analyst_vs_auto: dict[str, dict[str, Agreement]] = field(default_factory=dict)
    mean_kappa_analysts: dict[str, float | None] = field(default_factory=dict)
    mean_kappa_auto: dict[str, float | None] = field(default_factory=dict)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two equally long label sequences; None when undefined."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same number of cases")
    n = len(a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1.0 - p_e)


def agreement(a: Sequence[str], b: Sequence[str]) -> Agreement:
    n = len(a)
    if n == 0:
        return Agreement(0, None, None)
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    return Agreement(n, p_o, cohen_kappa(a, b))


def _table(ratings: Iterable[Rating]) -> dict[str, dict[str, dict[str, str]]]:
    """item -> rater -> contact -> verdict (a later rating of the same cell wins)."""
    table: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in ratings:
        table[r.item_id][r.rater][r.contact_id] = r.verdict
    return table


def _pair(by_contact_a: dict[str, str], by_contact_b: dict[str, str]) -> Agreement:
    common = sorted(by_contact_a.keys() & by_contact_b.keys())
    return agreement([by_contact_a[c] for c in common], [by_contact_b[c] for c in common])


def _mean(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def calibrate(ratings: Iterable[Rating], *, auto_rater: str = AUTO) -> CalibrationReport:
    """Agreement per item between every pair of analysts and each analyst vs ``auto``."""
    report = CalibrationReport()
    for item, by_rater in sorted(_table(ratings).items()):
        analysts = sorted(r for r in by_rater if r != auto_rater)
        pairs = {(a, b): _pair(by_rater[a], by_rater[b]) for a, b in combinations(analysts, 2)}
        report.between_analysts[item] = pairs
        report.mean_kappa_analysts[item] = _mean([p.kappa for p in pairs.values()])
        if auto_rater in by_rater:
            vs_auto = {a: _pair(by_rater[a], by_rater[auto_rater]) for a in analysts}
            report.analyst_vs_auto[item] = vs_auto
            report.mean_kappa_auto[item] = _mean([p.kappa for p in vs_auto.values()])
    return report
