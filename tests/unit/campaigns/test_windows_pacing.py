"""Calling windows in the callee's zone, and pacing (progressive never abandons; the
predictive cap holds)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from bots.campaigns.config import PacingConfig, PacingMode, parse_config
from bots.campaigns.pacing import PacingState, decide_dials, expected_abandons
from bots.campaigns.windows import is_callable, next_callable, time_zones_for

CFG = parse_config({"holidays": {"US": ["2026-01-06"]}})
MON_15Z = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_zone_from_number() -> None:
    assert time_zones_for("+14152221234") == ["America/Los_Angeles"]
    assert time_zones_for("+99912345", default="Europe/Paris") == ["Europe/Paris"]


def test_window_is_callee_local() -> None:
    ny, la = ["America/New_York"], ["America/Los_Angeles"]
    assert is_callable(MON_15Z, zones=ny, region="US", config=CFG)  # 10:00 NY
    assert not is_callable(MON_15Z, zones=la, region="US", config=CFG)  # 07:00 LA
    # a number spanning both zones waits for both
    assert not is_callable(MON_15Z, zones=ny + la, region="US", config=CFG)
    nxt = next_callable(MON_15Z, zones=la, region="US", config=CFG)
    assert nxt == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def test_holiday_and_weekend_skip() -> None:
    tue = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)  # a US holiday in CFG
    assert not is_callable(tue, zones=["America/New_York"], region="US", config=CFG)
    assert is_callable(tue, zones=["Europe/London"], region="GB", config=CFG)
    fri_night = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)  # Fri 21:00 NY
    nxt = next_callable(fri_night, zones=["America/New_York"], region="US", config=CFG)
    assert nxt is not None and nxt.astimezone(UTC).date() == date(2026, 1, 12)


def test_no_window_at_all() -> None:
    cfg = parse_config({"windows": []})
    assert next_callable(MON_15Z, zones=["UTC"], region=None, config=cfg) is None


def _state(**kw: int) -> PacingState:
    base = dict(
        active_calls=0,
        ringing=0,
        free_agents=0,
        answered_in_window=0,
        abandoned_in_window=0,
        dialed_in_window=0,
    )
    return PacingState(**{**base, **kw})


def test_preview_never_autodials() -> None:
    assert decide_dials(PacingConfig(mode=PacingMode.PREVIEW), _state()).dial == 0


def test_handoffs_limit_slots() -> None:
    cfg = PacingConfig(
        mode=PacingMode.PROGRESSIVE, bot_slots=10, max_lines=10, expected_handoff_rate=0.5
    )
    assert decide_dials(cfg, _state(free_agents=2)).dial == 4


@given(
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(1, 20),
    st.integers(1, 40),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_progressive_never_exceeds_free_slots(active, ringing, slots, lines, dialed, ans) -> None:  # type: ignore[no-untyped-def]
    cfg = PacingConfig(mode=PacingMode.PROGRESSIVE, bot_slots=slots, max_lines=lines)
    d = decide_dials(
        cfg,
        _state(
            active_calls=active,
            ringing=ringing,
            dialed_in_window=dialed,
            answered_in_window=min(ans, dialed),
        ),
    )
    assert 0 <= d.dial <= max(0, slots - active - ringing)


def test_predictive_overdials_when_history_allows_and_stops_at_the_cap() -> None:
    cfg = PacingConfig(mode=PacingMode.PREDICTIVE, bot_slots=10, max_lines=40)
    calm = _state(dialed_in_window=400, answered_in_window=120, abandoned_in_window=0)
    assert decide_dials(cfg, calm).dial > 10
    over = _state(dialed_in_window=400, answered_in_window=120, abandoned_in_window=4)
    d = decide_dials(cfg, over)
    assert d.dial == 10 and d.mode is PacingMode.PROGRESSIVE
    warmup = _state(dialed_in_window=5, answered_in_window=1)
    assert decide_dials(cfg, warmup).dial == 10


def test_expected_abandons_exact() -> None:
    assert expected_abandons(2, 1.0, 1) == 1.0
    assert abs(expected_abandons(2, 0.5, 1) - 0.25) < 1e-12
