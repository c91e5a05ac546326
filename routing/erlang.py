"""Staffing maths: Erlang C (M/M/n) and Erlang A (M/M/n+M, callers abandon).

Numerics: Erlang B by its recursion ``B(k) = A·B(k-1) / (k + A·B(k-1))`` never forms
``A^n / n!`` so it is stable for 10 000+ agents; Erlang C follows from B. Erlang A builds
the birth-death stationary distribution in log space, truncated where the tail is below
e⁻⁴⁰, and gets the answered-within-t probability by uniformization of the tagged caller's
position in line (numpy, no scipy). With infinite patience it reproduces Erlang C, which
the tests check.

Conventions: ``service_level`` = share of offered calls answered within ``answer_within_s``;
``asa_s`` = mean wait over all offered calls (Little: E[Q]/λ); ``occupancy`` = carried
load / agents.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state figures for one staffing level."""

    agents: int
    traffic_erlangs: float
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    abandon_rate: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def traffic(calls_per_hour: float, aht_s: float) -> float:
    """Offered load in Erlangs."""
    if calls_per_hour < 0 or aht_s <= 0:
        raise ValidationFailed("calls_per_hour must be ≥ 0 and aht_s > 0")
    return calls_per_hour * aht_s / 3600.0


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of M/M/n/n (iterative, stable for large n)."""
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return b


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability an arriving call waits in M/M/n (1.0 when the queue is unstable)."""
    if agents <= erlangs:
        return 1.0
    if erlangs <= 0:
        return 0.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1.0 - b))


def erlang_c_metrics(
    calls_per_hour: float, aht_s: float, agents: int, answer_within_s: float
) -> QueueMetrics:
    """SL, ASA, occupancy of ``agents`` under Erlang C."""
    a = traffic(calls_per_hour, aht_s)
    if agents <= a:
        return QueueMetrics(agents, a, 1.0, 0.0, math.inf, 1.0 if agents else 0.0)
    pw = erlang_c(agents, a)
    sl = 1.0 - pw * math.exp(-(agents - a) * answer_within_s / aht_s)
    asa = pw * aht_s / (agents - a)
    return QueueMetrics(agents, a, pw, sl, asa, a / agents)


def _erlang_a_distribution(
    lam: float, mu: float, theta: float, agents: int
) -> tuple[np.ndarray, int]:
    """Stationary distribution of the M/M/n+M chain (states 0..K), truncated."""
    logs = [0.0]
    j = 0
    peak = 0.0
    while True:
        j += 1
        death = min(j, agents) * mu + max(0, j - agents) * theta
        logs.append(logs[-1] + math.log(lam) - math.log(death))
        peak = max(peak, logs[-1])
        if j > agents and logs[-1] < peak - 40 and logs[-1] < logs[-2]:
            break
        if j > agents + 200_000:
            break
    p = np.exp(np.asarray(logs) - peak)
    return p / p.sum(), len(logs) - 1


def _answered_within(ahead: np.ndarray, agents: int, mu: float, theta: float, t: float) -> float:
    """P(tagged caller answered within t | starts with k callers ahead ~ ``ahead``)."""
    k_max = len(ahead) - 1
    if t <= 0 or ahead.sum() == 0:
        return 0.0
    ks = np.arange(k_max + 1)
    move = agents * mu + ks * theta  # rate at which the caller moves up (or is served at 0)
    lam_u = agents * mu + k_max * theta + theta
    stay = 1.0 - (move + theta) / lam_u
    step_up = move / lam_u
    lt = lam_u * t
    m_max = int(lt + 12 * math.sqrt(lt) + 30)
    p = ahead.astype(float).copy()
    served = 0.0
    total = 0.0
    for m in range(m_max + 1):
        w = math.exp(-lt + m * math.log(lt) - math.lgamma(m + 1)) if lt > 0 else float(m == 0)
        total += w * served
        served += p[0] * step_up[0]
        moved = p[1:] * step_up[1:]
        p = p * stay
        p[:-1] += moved
    return total


def erlang_a_metrics(
    calls_per_hour: float,
    aht_s: float,
    agents: int,
    answer_within_s: float,
    patience_s: float,
) -> QueueMetrics:
    """SL, ASA, abandon rate and occupancy with exponential patience (mean ``patience_s``)."""
    a = traffic(calls_per_hour, aht_s)
    if patience_s <= 0:
        raise ValidationFailed("patience_s must be > 0")
    if agents < 1 or calls_per_hour == 0:
        if calls_per_hour == 0:
            return QueueMetrics(agents, 0.0, 0.0, 1.0, 0.0, 0.0)
        return QueueMetrics(agents, a, 1.0, 0.0, patience_s, 0.0, 1.0)
    lam = calls_per_hour / 3600.0
    mu = 1.0 / aht_s
    theta = 1.0 / patience_s
    pi, k = _erlang_a_distribution(lam, mu, theta, agents)
    states = np.arange(k + 1)
    p_wait = float(pi[agents:].sum())
    queue_len = float(((states - agents).clip(min=0) * pi).sum())
    abandon = theta * queue_len / lam
    busy = float((np.minimum(states, agents) * pi).sum())
    ahead = pi[agents:]
    sl = float(pi[:agents].sum()) + float(
        _answered_within(ahead, agents, mu, theta, answer_within_s)
    )
    return QueueMetrics(
        agents=agents,
        traffic_erlangs=a,
        p_wait=p_wait,
        service_level=min(1.0, sl),
        asa_s=queue_len / lam,
        occupancy=busy / agents,
        abandon_rate=abandon,
    )


def staffing(
    calls_per_hour: float,
    aht_s: float,
    answer_within_s: float,
    target_sl: float,
    *,
    patience_s: float | None = None,
    max_occupancy: float | None = None,
    max_agents: int = 100_000,
) -> QueueMetrics:
    """Fewest agents meeting ``target_sl`` (and ``max_occupancy``): Erlang C, or Erlang A
    when ``patience_s`` is given (abandonment makes fewer agents suffice)."""
    if not 0 < target_sl < 1:
        raise ValidationFailed("target_sl must be between 0 and 1 (exclusive)")
    if answer_within_s < 0:
        raise ValidationFailed("answer_within_s must be ≥ 0")
    a = traffic(calls_per_hour, aht_s)

    def metrics(n: int) -> QueueMetrics:
        if patience_s is None:
            return erlang_c_metrics(calls_per_hour, aht_s, n, answer_within_s)
        return erlang_a_metrics(calls_per_hour, aht_s, n, answer_within_s, patience_s)

    def ok(m: QueueMetrics) -> bool:
        return m.service_level >= target_sl and (
            max_occupancy is None or m.occupancy <= max_occupancy
        )

    if calls_per_hour == 0:
        return metrics(0)
    # Erlang C staffing is an upper bound; binary-search down for Erlang A
    n = max(1, math.floor(a) + 1)
    while not ok(erlang_c_metrics(calls_per_hour, aht_s, n, answer_within_s)):
        n += 1
        if n > max_agents:
            raise ValidationFailed(f"more than {max_agents} agents needed")
    if patience_s is None:
        return metrics(n)
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(metrics(mid)):
            hi = mid
        else:
            lo = mid + 1
    return metrics(lo)
