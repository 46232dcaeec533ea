"""Cleaning (unknown items, repeats, users with few events) and the per-user time split."""

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
