"""The fidelity measures against values computed by hand on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simrec.fidelity.metrics import (
    accuracy_f1,
    auc_per_user,
    genre_distribution,
    kendall_tau,
    mean_popularity_percentile,
    ndcg_per_user,
    popularity_histogram,
    total_variation,
)


def test_accuracy_and_f1_count_liked_calls_on_both_sides():
    # 3 positives (2 called liked), 6 negatives (1 called liked)
    acc, f1 = accuracy_f1(
        np.array([True, True, False]), np.array([True, False, False, False, False, False])
    )
    assert acc == pytest.approx(7 / 9)  # TP 2 + TN 5
    assert f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert accuracy_f1(np.array([False]), np.array([False])) == (0.5, 0.0)


def test_auc_ranks_positives_against_the_unseen_items_only():
    scores = np.array([[0.9, 0.1, 0.5, 0.3, 0.8]])
    seen = np.array([[False, False, False, False, True]])  # item 4 is history: left out
    positives = np.array([[True, False, False, True, False]])
    # positives 0.9 and 0.3 against negatives 0.1 and 0.5: pairs won 2 + 1 of 4
    assert auc_per_user(scores, seen, positives)[0] == pytest.approx(3 / 4)
    ties = np.array([[0.5, 0.5, 0.5, 0.1, 0.0]])
    # positive 0.5 ties both negatives (half a pair each), positive 0.1 loses both
    assert auc_per_user(ties, seen, positives)[0] == pytest.approx((0.5 + 0.5 + 0.0 + 0.0) / 4)
    assert math.isnan(auc_per_user(scores, seen, np.zeros_like(positives))[0])


def test_ndcg_at_k_over_the_unseen_catalog():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 1.0]])
    seen = np.array([[False, False, False, False, True]])  # the top score is history
    positives = np.array([[False, True, False, True, False]])
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_per_user(scores, seen, positives, k=10)[0] == pytest.approx(dcg / ideal)
    assert ndcg_per_user(scores, seen, positives, k=1)[0] == 0.0


def test_genre_distributions_weigh_users_equally_and_split_multi_genre_items():
    genres = [("A",), ("B",), ("A", "B"), ()]
    dist = genre_distribution([np.array([0, 1]), np.array([2]), np.array([], dtype=int)], genres)
    assert dist == pytest.approx({"A": 0.25 + 0.25, "B": 0.25 + 0.25})
    other = genre_distribution([np.array([0]), np.array([3])], genres)
    assert other == pytest.approx({"A": 0.5, "unknown": 0.5})
    assert total_variation(dist, other) == pytest.approx(0.5 * (0.0 + 0.5 + 0.5))


def test_popularity_percentile_and_kendall_tau():
    percentile = np.array([0.0, 0.5, 1.0])
    assert mean_popularity_percentile(
        [np.array([0, 2]), np.array([1])], percentile
    ) == pytest.approx(0.5)
    assert kendall_tau([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]) == 1.0
    assert kendall_tau([1, 2, 3, 4, 5], [20, 10, 30, 40, 50]) == pytest.approx(
        0.8
    )  # one swap of 10 pairs
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == -1.0


def test_popularity_histogram_shares_items_per_percentile_bin_users_weighing_the_same():
    percentile = np.array([0.0, 0.05, 0.5, 0.95, 1.0])
    # user 1: two items in the lowest decile; user 2: the middle item and the top two
    shares = popularity_histogram([np.array([0, 1]), np.array([2, 3, 4]), np.array([])], percentile)
    assert len(shares) == 10 and sum(shares) == pytest.approx(1.0)
    assert shares[0] == pytest.approx(0.5)  # all of user 1, half the weight
    assert shares[5] == pytest.approx(0.5 / 3)
    assert shares[9] == pytest.approx(0.5 * 2 / 3)  # 0.95 and 1.0 (the top edge) share a bin
