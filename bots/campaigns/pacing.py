"""How many new calls to place now: preview, progressive and predictive pacing.

A bot campaign's "servers" are bot slots (concurrent conversations the voice workers take);
a fraction ``h`` of answered calls also needs a human for a transfer, so the usable slots are
``min(free bot slots, free agents / h)``. A call answered with no slot free is *abandoned*
(answered but unserved) and regulators cap those — 3 % of live-answered calls (FCC TCPA /
Ofcom), here over a rolling window.

- preview: never dial automatically; a person triggers each dial.
- progressive: one line per free slot, minus calls already ringing: cannot abandon.
- predictive: after a warm-up of ``MIN_HISTORY_DIALS`` progressive dials, dial ``n`` ≥ free
  slots so that the expected abandons E[max(0, Bin(n, p̂) − free)], with p̂ the Wilson upper
  bound of the observed answer rate, keep the *projected* rolling abandon rate under 80 % of
  the cap, and so that even if *every* ringing and new call answered at once the overflow
  would still fit under it. Once the measured rate reaches 80 % of the cap, predictive falls
  back to progressive (which cannot abandon) until the window recovers: that is what makes
  the cap hard rather than a target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bots.campaigns.config import PacingConfig, PacingMode


@dataclass(frozen=True)
class PacingState:
    active_calls: int  # answered, in conversation
    ringing: int  # dialed, not answered yet
    free_agents: int  # humans free to take a transfer
    answered_in_window: int  # live answers (human or machine) in the rolling window
    abandoned_in_window: int
    dialed_in_window: int

    @property
    def abandon_rate(self) -> float:
        return self.abandoned_in_window / self.answered_in_window if self.answered_in_window else 0


@dataclass(frozen=True)
class PacingDecision:
    dial: int
    mode: PacingMode
    reason: str
    answer_rate: float = 0.0


def free_slots(cfg: PacingConfig, state: PacingState) -> int:
    """Slots that can serve one more answered call now, handoffs accounted for."""
    bot_free = cfg.bot_slots - state.active_calls
    if cfg.expected_handoff_rate > 0:
        agent_bound = math.floor(state.free_agents / cfg.expected_handoff_rate)
        bot_free = min(bot_free, agent_bound)
    return max(0, bot_free)


def expected_abandons(n: int, p: float, slots: int) -> float:
    """E[max(0, X − slots)] for X ~ Binomial(n, p), exact."""
    total = 0.0
    for k in range(slots + 1, n + 1):
        total += (k - slots) * math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return total


MIN_HISTORY_DIALS = 20
TARGET_FRACTION = 0.8  # aim below the cap so noise does not push the measured rate over it


def answer_rate(state: PacingState) -> float:
    """Observed answer probability per dial in the rolling window."""
    return state.answered_in_window / state.dialed_in_window if state.dialed_in_window else 0.0


def answer_rate_upper(state: PacingState, z: float = 1.96) -> float:
    """Wilson upper bound of the answer rate: over-dial as if answers were that likely."""
    n = state.dialed_in_window
    if n == 0:
        return 1.0
    p = state.answered_in_window / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def decide_dials(cfg: PacingConfig, state: PacingState) -> PacingDecision:
    """Pure pacing decision; the scheduler also never exceeds its own ``max_lines``."""
    lines_left = cfg.max_lines - state.active_calls - state.ringing
    if cfg.mode is PacingMode.PREVIEW:
        return PacingDecision(0, cfg.mode, "preview: dials are triggered by a person")
    slots = free_slots(cfg, state)
    progressive = max(0, min(lines_left, slots - state.ringing))
    if cfg.mode is PacingMode.PROGRESSIVE:
        return PacingDecision(progressive, cfg.mode, "one line per free slot")
    p = answer_rate(state)
    if state.dialed_in_window < MIN_HISTORY_DIALS or p == 0:
        return PacingDecision(progressive, PacingMode.PROGRESSIVE, "warm-up: progressive", p)
    if state.abandon_rate >= cfg.abandon_cap * TARGET_FRACTION:
        return PacingDecision(
            progressive, PacingMode.PROGRESSIVE, "abandon cap reached: progressive", p
        )
    p_hi = answer_rate_upper(state)
    usable = max(0, slots - state.ringing)  # ringing calls will claim slots if answered
    target = cfg.abandon_cap * TARGET_FRACTION
    best = progressive
    for n in range(progressive + 1, max(progressive, lines_left) + 1):
        exp_ab = expected_abandons(n, p_hi, usable)
        projected = (state.abandoned_in_window + exp_ab) / (state.answered_in_window + n * p)
        # Worst case: every ringing and new call answers at once. The overflow must still fit
        # under the cap, whatever the answer rate turns out to be: this is what makes it hard.
        in_flight = state.ringing + n
        worst = state.abandoned_in_window + max(0, in_flight - slots)
        if projected > target or worst > target * (state.answered_in_window + in_flight):
            break
        best = n
    return PacingDecision(best, cfg.mode, f"predictive at answer rate {p:.2f}", p)
