"""MovieLens folders in GroupLens' three layouts, with malformed rows reported, not lost."""

from __future__ import annotations

import pytest

from simrec.errors import GroundingError
from simrec.grounding.movielens import read_movielens
from tests.grounding_logs import make_log, write_latest, write_ml1m, write_ml100k


@pytest.mark.parametrize(
    ("writer", "bad", "reason", "where"),
    [
        (write_ml100k, ["1\t2\tfive\t880000000", "3\t4\t5"], "rating is not a number", "u.data:"),
        (write_latest, ["1,2,x,880000000", "1,2,3"], "rating is not a number", "ratings.csv:"),
        (write_ml1m, ["1::2::4::yesterday-ish", "1::2"], "timestamp is not a time", "ratings.dat:"),
    ],
)
def test_every_layout_reads_and_reports_bad_rows_with_file_and_line(
    tmp_path, writer, bad, reason, where
):
    log = make_log()
    folder = writer(log, tmp_path / "ml", bad_rows=bad)
    read = read_movielens(folder)
    n = len(log.events)
    assert len(read.interactions) == n
    assert read.report.read["interactions"] == n + 2
    assert read.report.total == 2
    reasons = dict(read.report.counts)
    assert any(reason in r for r in reasons) and any("wrong number of fields" in r for r in reasons)
    examples = [e for shown in read.report.examples.values() for e in shown]
    bad_line = n + 1 + (writer is write_latest)  # the CSV header is line 1
    assert any(e.startswith(f"{where}{bad_line}") for e in examples), examples
    assert len(read.items) == len(log.items)
    first = list(read.items.ids).index("1")
    assert read.items.years[first] == 1950 and "Action" in read.items.genres[first]


def test_ml100k_and_ml1m_users_give_ages_and_occupations(tmp_path):
    log = make_log()
    assert read_movielens(write_ml100k(log, tmp_path / "a")).users.occupations["1"] == "writer"
    ml1m = read_movielens(write_ml1m(log, tmp_path / "b")).users
    assert ml1m.ages["1"] == 30 and ml1m.occupations["1"] == "programmer"


def test_a_folder_that_is_not_movielens_says_what_it_expected(tmp_path):
    with pytest.raises(GroundingError, match="not a MovieLens folder .*u.data"):
        read_movielens(tmp_path)
    folder = write_ml100k(make_log(), tmp_path / "ml")
    (folder / "u.item").unlink()
    with pytest.raises(GroundingError, match=r"u.item: file not found"):
        read_movielens(folder)
