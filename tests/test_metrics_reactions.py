"""How users react, pooled: rates, and curves by slot position and by times shown before
(the metrics the LLM-vs-offline comparison reports), on hand-written logs."""

from __future__ import annotations

import pytest

from simrec.metrics import position_curves, reaction_rates, repeat_curves
from tests.test_metrics import log

LOG = log(
    {
        1: [
            {"items": [1, 2, 3], "click": 0, "buy": 0},
            {"items": [1, 2, 4], "click": 2, "dismiss": [1]},
            {"items": [1, 2, -1], "dismiss": [0, 1], "left": True, "sat": 0.2},
        ],
        2: [{"items": [5, 6, 7], "click": 1, "sat": 0.9}],
    }
)


def test_reaction_rates_pool_slates_items_and_turns():
    rates = reaction_rates(*LOG)
    assert rates["ctr"] == pytest.approx(3 / 4)
    assert rates["clicks_per_slate"] == pytest.approx(3 / 4)
    assert rates["purchase_rate"] == pytest.approx(1 / 4)
    assert rates["conversion"] == pytest.approx(1 / 3)
    assert rates["dismissal_rate"] == pytest.approx(3 / 11)  # the empty slot is not shown
    assert rates["leave_rate"] == pytest.approx(1 / 4)
    assert rates["session_length"] == pytest.approx(2.0)
    assert rates["final_satisfaction"] == pytest.approx((0.2 + 0.9) / 2)


def test_position_curves_count_shown_items_only():
    curves = position_curves(LOG[0])
    assert list(curves.index) == [1, 2, 3] and curves.index.name == "position"
    assert curves["impressions"].tolist() == [4, 4, 3]
    assert curves["ctr"].tolist() == pytest.approx([1 / 4, 1 / 4, 1 / 3])
    assert curves["dismissal_rate"].tolist() == pytest.approx([1 / 4, 2 / 4, 0.0])


def test_repeat_curves_count_earlier_showings_in_the_same_visit():
    curves = repeat_curves(LOG[0], most=1)
    assert curves.index.name == "shown_before" and list(curves.index) == [0, 1]
    # first showings: 1,2,3,4 (visit 1) and 5,6,7 (visit 2); repeats: 1,2 twice each
    assert curves["impressions"].tolist() == [7, 4]
    assert curves["ctr"].tolist() == pytest.approx([3 / 7, 0.0])
    assert curves["dismissal_rate"].tolist() == pytest.approx([0.0, 3 / 4])
    assert repeat_curves(LOG[0], most=3)["impressions"].tolist() == [7, 2, 2]


def test_an_empty_log_has_no_rates():
    empty = (LOG[0].iloc[:0], LOG[1].iloc[:0])
    rates = reaction_rates(*empty)
    assert all(v != v for v in rates.values())  # NaN
    assert position_curves(empty[0]).empty and repeat_curves(empty[0]).empty
