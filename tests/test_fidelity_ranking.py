"""Comparing policy rankings: intervals, paired separations and tau's interval."""

from __future__ import annotations

import numpy as np

from simrec.fidelity.ranking import compare_rankings


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    users, sessions = 400, 300
    # real data: "good" clearly above "fair", which ties with "twin"; "poor" lowest
    quality = {"poor": 0.05, "fair": 0.15, "twin": 0.15, "good": 0.30}
    ndcg = np.array([np.clip(rng.normal(q, 0.1, users), 0, 1) for q in quality.values()])
    ndcg[0, 7] = np.nan  # a user without held-out items is left out
    shown = np.full((4, sessions), 20.0)
    rates = {"poor": 0.05, "fair": 0.12, "twin": 0.12, "good": 0.2}
    clicks = np.array([rng.binomial(20, r, sessions) for r in rates.values()], dtype=float)
    return list(quality), ndcg, clicks, shown


def test_clear_gaps_are_separated_on_both_sides_and_ties_are_not():
    names, ndcg, clicks, shown = _data()
    result = compare_rankings(names, ndcg, clicks, shown, seed=0, sessions=300)
    pairs = {(p["policy"], p["other"]): p for p in result["pairs"]}
    assert pairs[("poor", "good")]["separated_real"] and pairs[("poor", "good")]["agree"]
    assert pairs[("fair", "good")]["separated_env"]
    tie = pairs[("fair", "twin")]
    assert not tie["separated_real"] and not tie["agree"]
    assert tie["ndcg_10_difference_low"] < 0 < tie["ndcg_10_difference_high"]
    assert result["pairs_total"] == 6 and result["pairs_separated_real"] == 5
    assert result["pairs_agreeing"] == 5
    for row in result["policies"]:
        assert row["ndcg_10_low"] <= row["ndcg_10"] <= row["ndcg_10_high"]
        assert row["ctr_low"] <= row["ctr"] <= row["ctr_high"]
    good = result["policies"][3]
    assert good["ctr"] == clicks[3].sum() / shown[3].sum()
    low, high = result["kendall_tau_low"], result["kendall_tau_high"]
    assert low <= result["kendall_tau"] <= high and low < 1.0  # the tie can flip


def test_an_env_that_reverses_the_real_order_disagrees():
    names, ndcg, clicks, shown = _data()
    result = compare_rankings(names, ndcg, clicks[::-1].copy(), shown, seed=0, sessions=300)
    assert result["kendall_tau"] < 0 and result["kendall_tau_high"] < 0
    assert result["pairs_agreeing"] == 0
    assert compare_rankings(names, ndcg, clicks, shown, seed=0, sessions=300) == compare_rankings(
        names, ndcg, clicks, shown, seed=0, sessions=300
    )  # seeded
