"""Cleaning (unknown items, repeats, users with few events) and the per-user split, in time
(the default) or at random."""

from __future__ import annotations

import numpy as np
import pytest

from simrec.errors import GroundingError
from simrec.grounding.movielens import read_movielens
from simrec.grounding.split import TEST, TRAIN, VALIDATION, split_log
from tests.grounding_logs import make_log, write_ml100k


def _log(tmp_path, **kwargs):
    return read_movielens(
        write_ml100k(make_log(**kwargs), tmp_path / "ml", bad_rows=kwargs.pop("bad", []))
    )


def test_each_users_last_fifth_is_held_out_and_the_fifth_before_is_validation(tmp_path):
    split = split_log(_log(tmp_path))
    for u in range(split.n_users):
        mine = split.user == u
        parts, times = split.part[mine], split.timestamp[mine]
        assert np.all(np.diff(times) >= 0)
        assert parts.tolist() == [TRAIN] * 10 + [VALIDATION] * 2 + [TEST] * 3  # 15 events
        assert times[parts == TEST].min() >= times[parts != TEST].max()
    assert split.settings == {"method": "temporal", "seed": None, "test_share": 0.2}


def _parts_per_user(split):
    return [np.bincount(split.part[split.user == u], minlength=3).tolist() for u in range(40)]


def test_a_random_split_holds_out_as_many_events_drawn_at_random_in_time_order(tmp_path):
    log = _log(tmp_path)
    temporal = split_log(log)
    shuffled = split_log(log, method="random", seed=3)
    for name in ("user", "item", "timestamp", "value"):  # the same events, oldest first
        assert np.array_equal(getattr(shuffled, name), getattr(temporal, name))
    assert _parts_per_user(shuffled) == _parts_per_user(temporal) == [[10, 2, 3]] * 40
    assert shuffled.settings == {"method": "random", "seed": 3, "test_share": 0.2}
    # held-out events come from anywhere in a user's history, not only the end
    last = np.r_[shuffled.user[1:] != shuffled.user[:-1], True]
    assert (shuffled.part[last] != TEST).sum() >= 5
    assert (shuffled.part != temporal.part).mean() > 0.2
    for u in range(shuffled.n_users):  # each part of a user stays oldest first
        mine = shuffled.user == u
        for part in (TRAIN, VALIDATION, TEST):
            assert np.all(np.diff(shuffled.timestamp[mine & (shuffled.part == part)]) >= 0)


def test_the_random_split_is_seeded(tmp_path):
    log = _log(tmp_path)
    first = split_log(log, method="random", seed=3).part
    assert np.array_equal(split_log(log, method="random", seed=3).part, first)
    assert not np.array_equal(split_log(log, method="random", seed=4).part, first)
    unseeded = split_log(log, method="random").part  # seed 0 by default
    assert np.array_equal(unseeded, split_log(log, method="random", seed=0).part)


@pytest.mark.parametrize(
    ("method", "seed", "message"),
    [
        ("time", None, "--split: expected one of temporal, random, got 'time'"),
        ("temporal", 3, "--split-seed: only the random split is seeded"),
        ("random", -1, "--split-seed: expected"),
    ],
)
def test_a_bad_split_is_an_error_naming_the_option(tmp_path, method, seed, message):
    with pytest.raises(GroundingError, match=message):
        split_log(_log(tmp_path), method=method, seed=seed)


def test_unknown_items_repeats_and_sparse_users_are_dropped_and_reported(tmp_path):
    bad = ["1\t999\t4\t880000001", "1\t1\t4\t990000000", "77\t1\t4\t880000000"]
    log = make_log()
    log.events.loc[0, "item"] = log.events.loc[1, "item"]  # user 1's second event repeats the first
    read = read_movielens(write_ml100k(log, tmp_path / "ml", bad_rows=bad))
    split = split_log(read, min_events=5)
    counts = read.report.counts
    assert counts["interactions: item not in the items table"] == 1
    assert counts["interactions: repeat of an earlier event of the same user and item"] >= 2
    assert counts["interactions: user has fewer than 5 events"] == 1
    assert read.report.examples["interactions: item not in the items table"] == [
        f"u.data:{len(log.events) + 1}: item '999'"
    ]
    assert "77" not in split.user_ids
    kept = len(split.user)
    assert kept + read.report.total == read.report.read["interactions"]  # nothing lost silently


def test_no_usable_user_is_an_error(tmp_path):
    with pytest.raises(GroundingError, match="no user has 50 or more usable events"):
        split_log(_log(tmp_path), min_events=50)
