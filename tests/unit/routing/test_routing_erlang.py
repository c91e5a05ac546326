"""Erlang B/C/A against published values and limiting cases; staffing search."""

from __future__ import annotations

import math

import pytest

from core.errors import ValidationFailed
from routing.erlang import (
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    staffing,
    traffic,
)


@pytest.mark.parametrize(
    ("n", "a", "expected"),
    [
        (10, 10.0, 0.2146),  # Erlang B tables
        (5, 5.0, 0.2849),
        (1, 1.0, 0.5),
        (2, 1.0, 0.2),
    ],
)
def test_erlang_b_table_values(n: int, a: float, expected: float) -> None:
    assert erlang_b(n, a) == pytest.approx(expected, abs=1e-4)


def test_erlang_c_exact_small_cases() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.6) == pytest.approx(0.6)  # M/M/1: P(wait) = rho
    assert erlang_c(5, 5.0) == 1.0 and erlang_c(4, 5.0) == 1.0


def test_textbook_case_200_calls_per_hour_180s_aht() -> None:
    """The classic worked example (100 calls / 30 min, AHT 3 min, 80/20): 10 Erlangs,
    11 agents wait with P=68.21 %; 14 agents give SL 88.8 %, ASA 7.8 s."""
    assert traffic(200, 180) == pytest.approx(10.0)
    m11 = erlang_c_metrics(200, 180, 11, 20)
    assert m11.p_wait == pytest.approx(0.6821, abs=1e-4)
    assert m11.service_level == pytest.approx(0.3896, abs=1e-3)
    m14 = erlang_c_metrics(200, 180, 14, 20)
    assert m14.p_wait == pytest.approx(0.1741, abs=1e-4)
    assert m14.service_level == pytest.approx(0.8884, abs=1e-3)
    assert m14.asa_s == pytest.approx(7.84, abs=0.01)
    assert m14.occupancy == pytest.approx(10 / 14)
    s = staffing(200, 180, 20, 0.8)
    assert s.agents == 14  # 13 agents give 79.6 %, just short
    assert erlang_c_metrics(200, 180, 13, 20).service_level < 0.8


def test_large_centres_are_numerically_stable() -> None:
    m = erlang_c_metrics(360_000, 300, 30_200, 20)
    assert 0 <= m.p_wait <= 1 and math.isfinite(m.asa_s)
    s = staffing(36_000, 180, 20, 0.8)
    assert 1800 < s.agents < 1900 and s.service_level >= 0.8


def test_unstable_queue_reports_no_service() -> None:
    m = erlang_c_metrics(200, 180, 10, 20)
    assert m.service_level == 0.0 and math.isinf(m.asa_s)


def test_erlang_a_tends_to_erlang_c_with_infinite_patience() -> None:
    for n in (11, 13, 14):
        c = erlang_c_metrics(200, 180, n, 20)
        a = erlang_a_metrics(200, 180, n, 20, patience_s=1e8)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-3)
        assert a.p_wait == pytest.approx(c.p_wait, abs=1e-3)
        assert a.asa_s == pytest.approx(c.asa_s, rel=1e-2)


def test_erlang_a_abandonment_lowers_staffing_and_is_stable_when_overloaded() -> None:
    a = staffing(200, 180, 20, 0.8, patience_s=120)
    assert a.agents < staffing(200, 180, 20, 0.8).agents
    assert 0 < a.abandon_rate < 0.2
    over = erlang_a_metrics(400, 180, 10, 20, patience_s=60)  # 20 Erlangs on 10 agents
    assert over.abandon_rate > 0.4 and over.occupancy > 0.95
    assert 0 <= over.service_level <= 1


def test_max_occupancy_constraint() -> None:
    assert staffing(200, 180, 20, 0.5, max_occupancy=0.7).occupancy <= 0.7


@pytest.mark.parametrize("bad", [dict(target_sl=1.5), dict(target_sl=0.0), dict(aht_s=0)])
def test_staffing_rejects_bad_input(bad: dict) -> None:
    kw = {"calls_per_hour": 100, "aht_s": 180, "answer_within_s": 20, "target_sl": 0.8} | bad
    with pytest.raises(ValidationFailed):
        staffing(**kw)
