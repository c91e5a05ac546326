"""Cohen's kappa against a hand-computed example, and the calibration report."""

from __future__ import annotations

import pytest

from qa.calibration import Rating, agreement, calibrate, cohen_kappa


def test_kappa_hand_computed() -> None:
    # 50 contacts: both pass 20, A pass/B fail 5, A fail/B pass 10, both fail 15.
    # p_o = 35/50 = 0.70; p_e = 0.5*0.6 + 0.5*0.4 = 0.50; kappa = 0.2/0.5 = 0.40
    a = ["pass"] * 20 + ["pass"] * 5 + ["fail"] * 10 + ["fail"] * 15
    b = ["pass"] * 20 + ["fail"] * 5 + ["pass"] * 10 + ["fail"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    ag = agreement(a, b)
    assert ag.n == 50 and ag.agreement == pytest.approx(0.70)


def test_kappa_edges() -> None:
    assert cohen_kappa(["pass", "fail", "na"], ["pass", "fail", "na"]) == pytest.approx(1.0)
    assert cohen_kappa(["pass"] * 4, ["pass"] * 4) is None  # chance agreement is 1
    assert cohen_kappa([], []) is None
    # systematic disagreement is below zero
    assert cohen_kappa(["pass", "fail"] * 3, ["fail", "pass"] * 3) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa(["pass"], [])


def test_calibrate_pairs_and_auto() -> None:
    ratings = []
    verdicts = {
        "ann": ["pass", "pass", "fail", "fail"],
        "bob": ["pass", "fail", "fail", "fail"],
        "auto": ["pass", "pass", "fail", "fail"],
    }
    for rater, vs in verdicts.items():
        for i, v in enumerate(vs):
            ratings.append(Rating(f"c{i}", rater, "greeting", v))
    ratings.append(Rating("c9", "ann", "greeting", "pass"))  # only one rater: ignored in pairs
    report = calibrate(ratings)
    pair = report.between_analysts["greeting"][("ann", "bob")]
    assert pair.n == 4 and pair.agreement == pytest.approx(0.75)
    # ann vs bob: p_o .75, p_e = .5*.25 + .5*.75 = .5 -> kappa .5
    assert pair.kappa == pytest.approx(0.5)
    assert report.analyst_vs_auto["greeting"]["ann"].kappa == pytest.approx(1.0)
    assert report.mean_kappa_auto["greeting"] == pytest.approx((1.0 + 0.5) / 2)
