"""Behaviour metrics computed from hand-written event logs with known answers."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simrec.events import INTERACTION_DTYPES, TURN_DTYPES
from simrec.metrics import (
    cold_start_metrics,
    direction,
    drift_adaptation,
    drift_metrics,
    hallucination_rate,
    intra_list_diversity,
    novelty_metrics,
    request_curves,
    slates_frame,
    steerability_metrics,
    steering_events,
    turn_curves,
)
from simrec.stats import interval, t_quantile_975
from tests.conftest import small_catalog

STEER = {"field": "category", "op": "==", "value": "alpha"}


def log(sessions: dict[int, list[dict[str, Any]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Event tables from ``{session_id: [turn, ...]}``; a turn is a dict with ``items``
    (indices, -1 = empty), optional ``click`` / ``buy`` (slot), ``dismiss`` (slots),
    ``ok`` (per-slot constraint flags), ``steer`` (constraint), ``left``, ``sat``,
    ``made_up`` (slots whose semantic id named no item)."""
    rows: dict[str, list] = {c: [] for c in INTERACTION_DTYPES}
    turns: dict[str, list] = {c: [] for c in TURN_DTYPES}
    for sid, steps in sessions.items():
        for t, step in enumerate(steps, start=1):
            reward = 0.0
            for pos, item in enumerate(step["items"]):
                clicked = step.get("click") == pos
                bought = step.get("buy") == pos
                dismissed = pos in step.get("dismiss", ())
                slot = float(clicked) + 2.0 * bought - 0.25 * dismissed
                reward += slot
                ok = step.get("ok")
                for column, value in (
                    ("session_id", sid), ("persona_id", "p"), ("turn", t), ("position", pos),
                    ("item_id", None if item < 0 else f"it-{item:03d}"), ("item_index", item),
                    ("clicked", clicked), ("purchased", bought), ("dismissed", dismissed),
                    ("reward", slot), ("satisfies_constraint", None if ok is None else ok[pos]),
                    ("hallucinated", pos in step.get("made_up", ())), ("emitted_id", None),
                ):  # fmt: skip
                    rows[column].append(value)
            steer = step.get("steer")
            for column, value in (
                ("session_id", sid), ("persona_id", "p"), ("turn", t), ("reply", ""),
                ("left", step.get("left", False)), ("satisfaction", step.get("sat", 0.5)),
                ("reward", reward), ("duplicates", 0),
                ("constraint", json.dumps(steer) if steer else None), ("brain", "test"),
                ("latency_ms", 0.0), ("input_tokens", 0), ("output_tokens", 0),
                ("cache_read_tokens", 0), ("cache_write_tokens", 0), ("invalid_response", False),
                ("message", None), ("policy_input_tokens", 0), ("policy_output_tokens", 0),
                ("policy_cache_read_tokens", 0), ("policy_cache_write_tokens", 0),
                ("policy_latency_ms", 0.0), ("policy_cost_usd", 0.0), ("policy_fallbacks", 0),
            ):  # fmt: skip
                turns[column].append(value)
    frame = lambda cols, dtypes: pd.DataFrame(  # noqa: E731
        {c: pd.array(cols[c], dtype=d) for c, d in dtypes.items()}
    )
    return frame(rows, INTERACTION_DTYPES), frame(turns, TURN_DTYPES)


def test_slates_and_turn_curves_count_clicks_per_slate_and_dismissals_per_item():
    interactions, turns = log(
        {
            1: [{"items": [0, 1], "click": 0, "buy": 0}, {"items": [2, 3], "dismiss": [0, 1]}],
            2: [{"items": [4, -1]}, {"items": [5, 6], "click": 1, "left": True, "sat": 0.1}],
        }
    )
    slates = slates_frame(interactions)
    assert slates["shown"].tolist() == [2, 2, 1, 2]
    assert slates["clicked"].tolist() == [True, False, False, True]
    curves = turn_curves(interactions, turns)
    assert curves.loc[1, "ctr"] == 0.5 and curves.loc[1, "purchase_rate"] == 0.5
    assert curves.loc[2, "dismissal_rate"] == pytest.approx(2 / 4)
    assert curves.loc[2, "left"] == 0.5
    assert curves.loc[2, "satisfaction"] == pytest.approx(0.3)


def test_cold_start_censors_sessions_without_a_click_at_horizon_plus_one():
    interactions, turns = log(
        {
            1: [{"items": [0, 1]}, {"items": [2, 3], "click": 1, "buy": 1}],
            2: [{"items": [4, 5]}, {"items": [6, 7], "left": True}],
        }
    )
    m = cold_start_metrics(interactions, turns, first_turns=1, horizon=10)
    assert m["ctr_at_1"] == 0.0
    assert m["turns_to_click"] == (2 + 11) / 2
    assert m["turns_to_purchase"] == (2 + 11) / 2
    assert m["return"] == pytest.approx(3.0 / 2)


def test_novelty_metrics_see_repetition_concentration_coverage_and_churn():
    catalog = small_catalog()  # categories cycle alpha, beta, gamma by index
    same = [0, 3, 6]  # all alpha
    interactions, turns = log(
        {
            1: [{"items": same, "click": 0}, {"items": same}, {"items": same, "left": True}],
            2: [{"items": [0, 1, 2], "click": 0}, {"items": [4, 5, 9]}, {"items": [7, 8, 10]}],
        }
    )
    m = novelty_metrics(interactions, turns, catalog, first_turns=1)
    # from the second slate on: session 1 repeats all 6 slots, session 2 none of its 6
    assert m["repetition"] == pytest.approx(6 / 12)
    assert m["visit_coverage"] == pytest.approx((3 / 9 + 9 / 9) / 2)
    # session 2 shows alpha x2, beta x4, gamma x3 of 9 items
    assert m["concentration"] == pytest.approx((1.0 + (4 + 16 + 9) / 81) / 2)
    assert m["coverage"] == pytest.approx(len({0, 3, 6, 1, 2, 4, 5, 9, 7, 8, 10}) / 60)
    assert m["churn"] == 0.5 and m["session_length"] == 3
    assert m["ctr_at_1"] == 1.0 and m["ctr_decay"] < 0
    new_items = [0, 3, 6] + [0, 1, 2, 4, 5, 9, 7, 8, 10]  # repeats add no novelty
    expected = catalog.self_information[new_items].sum() / 18
    assert m["novelty"] == pytest.approx(expected)


def test_a_constant_slate_scores_the_worst_repetition_and_empty_slots_never_help():
    catalog = small_catalog()
    constant = [{"items": [0, 1, 2, 4]}] * 5
    one_fresh = [{"items": [i, -1, -1, -1]} for i in range(5)]
    fresh = [{"items": [4 * t + j for j in range(4)]} for t in range(5)]
    scores = {
        name: novelty_metrics(*log({1: steps}), catalog)
        for name, steps in (("constant", constant), ("one_fresh", one_fresh), ("fresh", fresh))
    }
    assert scores["constant"]["repetition"] == 1.0  # the worst there is
    assert scores["one_fresh"]["repetition"] == 0.75  # three empty slots of four
    assert scores["fresh"]["repetition"] == 0.0
    assert scores["constant"]["visit_coverage"] == pytest.approx(1 / 5)
    assert scores["one_fresh"]["visit_coverage"] == pytest.approx(1 / 4)
    assert scores["one_fresh"]["ild"] == 0.0  # one item and three empty slots: no diversity
    for metric in ("visit_coverage", "novelty"):
        assert scores["fresh"][metric] > scores["one_fresh"][metric]
        assert scores["fresh"][metric] > scores["constant"][metric]


def test_intra_list_diversity_is_lower_for_a_one_category_slate():
    catalog = small_catalog()
    one, _ = log({1: [{"items": [0, 3, 6, 9]}]})
    mixed, _ = log({1: [{"items": [0, 1, 2, 5]}]})
    assert intra_list_diversity(one, catalog.features) < intra_list_diversity(
        mixed, catalog.features
    )
    pair, _ = log({1: [{"items": [0, 1]}]})
    f = catalog.features.astype(float)
    cos = f[0] @ f[1] / np.linalg.norm(f[0]) / np.linalg.norm(f[1])
    assert intra_list_diversity(pair, catalog.features) == pytest.approx(1 - cos)
    # the same two items in four slots: two empty slots add no pairs of distance
    padded, _ = log({1: [{"items": [0, 1, -1, -1]}]})
    assert intra_list_diversity(padded, catalog.features) == pytest.approx(2 * (1 - cos) / 12)


BEFORE = {"items": [0, 1]}  # item 0 is alpha, item 1 beta: compliance 1/2 would anticipate


def steered(items: list[int], ok: list[bool], **extra: Any) -> dict[str, Any]:
    return {"items": items, "steer": STEER, "ok": ok, **extra}


def test_steering_events_score_compliance_time_to_comply_and_the_users_reaction():
    catalog = small_catalog()  # alpha: every third item
    not_alpha = {"items": [1, 2]}
    sessions = {
        # followed from the second constrained slate: 0/2, 2/2, 2/2 -> 4/6
        1: [not_alpha]
        + [steered([1, 2], [False, False], sat=0.5)]
        + [steered([0, 3], [True, True], sat=0.8)] * 2,
        # ignored, user leaves at the second constrained slate
        2: [not_alpha]
        + [steered([1, 2], [False, False], sat=0.4)]
        + [steered([4, 6], [False, True], sat=0.2, left=True)],
        3: [not_alpha, not_alpha],  # never steered
    }
    interactions, turns = log(sessions)
    events = steering_events(interactions, turns, catalog, window=5)
    assert events["session_id"].tolist() == [1, 2]
    assert events["onset"].tolist() == [2, 2]
    assert events["compliance"].tolist() == pytest.approx([4 / 6, 1 / 4])
    assert events["compliance_before"].tolist() == [0.0, 0.0]
    assert events["base_rate"].tolist() == pytest.approx([20 / 60] * 2)
    assert events["turns_to_comply"].tolist() == [2.0, 2.0]  # 1 of 2 is the threshold
    assert events["followed"].tolist() == [True, False]
    assert events["anticipated"].tolist() == [False, False]
    assert events["constraint"].tolist() == [STEER, STEER]
    m = steerability_metrics(interactions, turns, window=5, catalog=catalog)
    assert m["satisfaction_followed"] == 0.8 and m["satisfaction_ignored"] == 0.2
    assert m["churn_followed"] == 0.0 and m["churn_ignored"] == 1.0
    assert m["requests"] == 2 and m["followed"] == 0.5
    assert m["listening"] == pytest.approx(((4 / 6 - 1 / 3) + (1 / 4 - 1 / 3)) / 2)


def test_complying_before_the_request_earns_no_listening_and_no_followed_request():
    catalog = small_catalog()
    alpha = {"items": [0, 3]}
    # a policy that showed the requested kind all along: compliance 1 after, and before
    always = {1: [alpha, alpha] + [steered([0, 3], [True, True], sat=0.9)] * 3}
    events = steering_events(*log(always), catalog, window=5)
    assert events["compliance"].tolist() == [1.0]
    assert events["compliance_before"].tolist() == [1.0]
    assert events["anticipated"].tolist() == [True]
    assert events["followed"].tolist() == [False]
    assert events["turns_to_comply"].tolist() == [6.0]  # no credit: it did not respond
    m = steerability_metrics(*log(always), window=5, catalog=catalog)
    assert m["listening"] == 0.0 and m["followed"] == 0.0 and m["anticipated"] == 1.0
    assert math.isnan(m["satisfaction_followed"]) and math.isnan(m["churn_followed"])
    # a policy whose compliance after only reaches the base rate did not listen either
    chance = {1: [{"items": [1, 2]}] + [steered([0, 1, 2], [True, False, False])] * 3}
    m = steerability_metrics(*log(chance), window=5, catalog=catalog)
    assert m["listening"] == pytest.approx(0.0, abs=1e-12)


def test_the_window_before_a_request_stops_at_the_previous_one():
    catalog = small_catalog()
    other = {"field": "category", "op": "==", "value": "beta"}
    sessions = {
        1: [{"items": [1, 4]}]  # before the first request (beta, beta): not alpha
        + [{"items": [0, 3], "steer": other, "ok": [False, False]}]  # before the second
        + [steered([0, 3], [True, True])] * 2
    }
    events = steering_events(*log(sessions), catalog, window=5)
    assert events["onset"].tolist() == [2, 3]
    assert events["compliance_before"].tolist() == [1.0, 1.0]  # beta then; alpha then
    assert events["anticipated"].tolist() == [True, True]


def test_time_to_comply_counts_from_the_slate_compliance_starts_and_lasts():
    catalog = small_catalog()
    lucky = {1: [{"items": [1, 2]}] + [steered([0, 3], [True, True])]
             + [steered([1, 2], [False, False])] * 2}  # fmt: skip
    assert steering_events(*log(lucky), catalog, window=5)["turns_to_comply"].tolist() == [6.0]
    late = {1: [{"items": [1, 2]}] + [steered([1, 2], [False, False])] * 2
            + [steered([0, 3], [True, True])] * 2}  # fmt: skip
    assert steering_events(*log(late), catalog, window=5)["turns_to_comply"].tolist() == [3.0]


def test_steering_window_limits_what_is_scored():
    catalog = small_catalog()
    sessions = {
        1: [{"items": [1, 2]}]
        + [steered([1, 2], [False, False])] * 2
        + [steered([0, 3], [True, True])] * 3
    }
    interactions, turns = log(sessions)
    short = steerability_metrics(interactions, turns, window=2, catalog=catalog)
    assert short["compliance"] == 0.0 and short["turns_to_comply"] == 3.0  # censored
    full = steerability_metrics(interactions, turns, window=5, catalog=catalog)
    assert full["compliance"] == 0.6


def test_no_steering_gives_nan_not_zero():
    interactions, turns = log({1: [{"items": [0, 1], "click": 0}]})
    m = steerability_metrics(interactions, turns, catalog=small_catalog())
    assert math.isnan(m["compliance"]) and math.isnan(m["listening"]) and m["requests"] == 0


def test_drift_metrics_compare_ctr_before_and_after_the_shift():
    clicked, missed = {"items": [0, 1], "click": 0}, {"items": [0, 1]}
    interactions, turns = log({1: [clicked] * 4 + [missed] * 2 + [clicked, missed] * 2})
    m = drift_metrics(interactions, turns, at_turn=4, window=4, lag=2)
    assert m == {"ctr_before": 1.0, "ctr_dip": 0.0, "ctr_after": 0.5, "recovery": -0.5}


def test_drift_adaptation_scores_the_worse_side_against_the_oracle():
    oracle = {"ctr_before": 0.8, "ctr_after": 0.6}
    adapts = drift_adaptation({"ctr_before": 0.6, "ctr_after": 0.45}, oracle)
    assert adapts == pytest.approx(
        {"relative_before": 0.75, "relative_after": 0.75, "adaptation": 0.75}
    )
    # poor all along "recovers" perfectly against its own level, not against the oracle
    poor = drift_adaptation({"ctr_before": 0.2, "ctr_after": 0.2}, oracle)
    assert poor["adaptation"] == pytest.approx(0.25)
    # showing the new tastes from the start: good after, poor before
    early = drift_adaptation({"ctr_before": 0.2, "ctr_after": 0.6}, oracle)
    assert early["relative_after"] == 1.0 and early["adaptation"] == pytest.approx(0.25)
    assert math.isnan(drift_adaptation(oracle, {"ctr_before": 0.0, "ctr_after": 0.6})["adaptation"])


@pytest.mark.parametrize(
    ("metric", "better"),
    [("return", 1), ("ctr_at_7", 1), ("purchase_rate_at_2", 1), ("churn", -1),
     ("repetition", -1), ("turns_to_comply", -1), ("base_rate", 0), ("listening", 1),
     ("adaptation", 1), ("made_up", 0)],
)  # fmt: skip
def test_every_metric_says_which_way_is_better(metric, better):
    assert direction(metric) == better


def test_interval_is_student_t_and_ignores_nan():
    iv = interval([1.0, 2.0, 3.0, math.nan])
    assert iv.n == 3 and iv.mean == 2.0
    assert iv.high - iv.mean == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    assert interval([5.0]).low == -math.inf
    assert math.isnan(interval([]).mean)
    assert t_quantile_975(1000) == pytest.approx(1.962, abs=1e-3)
    assert t_quantile_975(31) == pytest.approx(2.040, abs=2e-3)


def test_hallucination_rate_is_the_share_of_slots_that_named_no_item():
    interactions, _ = log(
        {
            1: [{"items": [0, -1, 2], "made_up": [1]}, {"items": [-1, -1, 5], "made_up": [0, 1]}],
            2: [{"items": [3, 3, -1]}],  # a duplicate's empty slot is not a hallucination
        }
    )
    assert hallucination_rate(interactions) == pytest.approx(3 / 9)
    assert hallucination_rate(interactions.drop(columns="hallucinated")) == 0.0  # older logs
    assert math.isnan(hallucination_rate(interactions.iloc[:0]))


def test_request_curves_align_slates_on_the_request_and_score_before_it_too():
    other = {"field": "category", "op": "==", "value": "beta"}  # alpha: items 0, 3, 6 ...
    sessions = {
        # asked in the reply to slate 2; already half-complying before, fully after
        1: [{"items": [0, 1], "click": 0, "sat": 0.6}] * 2
        + [{"items": [0, 3], "steer": STEER, "click": 1, "sat": 0.9}] * 3,
        # ignored; the user leaves at the second slate after asking
        2: [{"items": [1, 2], "sat": 0.5}] * 2
        + [{"items": [1, -1], "steer": STEER, "sat": 0.3}]
        + [{"items": [2, 4], "steer": STEER, "sat": 0.1, "left": True}],
        # a second request (after slate 3) ends the first one's window
        3: [{"items": [3, 4], "sat": 0.5}]
        + [{"items": [3, 6], "steer": STEER, "sat": 0.7}] * 2
        + [{"items": [1, 4], "steer": other, "sat": 0.8}] * 2,
    }
    interactions, turns = log(sessions)
    curves = request_curves(interactions, turns, small_catalog(), before=3, after=3)
    assert curves.index.tolist() == [-2, -1, 0, 1, 2, 3]
    # session 3's first request reaches offsets 0..2 (its second one starts at slate 4);
    # its second request (turn 3) looks back to slate 1 (offset -2)
    assert curves["requests"].tolist() == [1, 3, 4, 4, 4, 1]
    # offset 1: [0,3] all alpha; [1,-1] none (the empty slot is not scored); [3,6] all
    # alpha; [1,4] all beta, the second request
    assert curves.loc[1, "compliance"] == pytest.approx(3 / 4)
    assert curves.loc[-1, "compliance"] == pytest.approx((0.5 + 0.0 + 0.0) / 3)
    assert curves.loc[0, "compliance"] == pytest.approx((0.5 + 0.0 + 0.5 + 0.0) / 4)
    assert curves.loc[1, "ctr"] == 0.25 and curves.loc[3, "ctr"] == 1.0
    assert curves.loc[2, "satisfaction"] == pytest.approx((0.9 + 0.1 + 0.7 + 0.8) / 4)


def test_request_curves_without_requests_are_empty_not_zero():
    interactions, turns = log({1: [{"items": [0, 1], "click": 0}] * 3})
    curves = request_curves(interactions, turns, small_catalog(), before=2, after=2)
    assert curves["requests"].tolist() == [0, 0, 0, 0]
    assert curves[["compliance", "ctr", "satisfaction"]].isna().all().all()
