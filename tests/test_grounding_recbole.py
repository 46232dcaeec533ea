"""RecBole atomic files: typed headers, columns found by name, bad rows reported."""

from __future__ import annotations

import pytest

from simrec.errors import GroundingError
from simrec.grounding.recbole import read_recbole
from tests.grounding_logs import make_log, write_recbole


def test_inter_and_item_files_are_read_with_their_typed_headers(tmp_path):
    log = make_log()
    folder = write_recbole(log, tmp_path / "rb", bad_rows=["1\t2\tgood\t880000000"])
    read = read_recbole(folder)
    assert len(read.interactions) == len(log.events) and read.interactions.rated
    assert read.report.counts["interactions: rating is not a number"] == 1
    assert read.report.examples["interactions: rating is not a number"][0].startswith(
        f"synth.inter:{len(log.events) + 2}: field 'rating'"
    )
    first = list(read.items.ids).index("1")
    assert read.items.genres[first] == ("Action", "Comedy") and read.items.years[first] == 1950
    assert read_recbole(folder / "synth.inter").source == read.source


def test_a_bad_header_or_a_missing_item_file_is_an_error_naming_it(tmp_path):
    folder = write_recbole(make_log(), tmp_path / "rb")
    text = (folder / "synth.inter").read_text().replace("rating:float", "rating:number", 1)
    (folder / "synth.inter").write_text(text)
    with pytest.raises(GroundingError, match=r"synth.inter:1: column 3 header 'rating:number'"):
        read_recbole(folder)
    (folder / "synth.item").unlink()
    with pytest.raises(GroundingError, match=r"synth.item: file not found"):
        read_recbole(folder)


def test_a_label_column_makes_a_click_log_whose_zeros_are_reported(tmp_path):
    folder = tmp_path / "rb"
    folder.mkdir()
    (folder / "c.inter").write_text("user_id:token\titem_id:token\tlabel:float\n1\t1\t1\n1\t2\t0\n")
    (folder / "c.item").write_text(
        "item_id:token\ttitle:token_seq\tgenre:token_seq\n1\tA\tx\n2\tB\ty\n"
    )
    read = read_recbole(folder)
    assert not read.interactions.rated and len(read.interactions) == 1
    assert read.report.counts["interactions: click is 0 (an impression, not an interaction)"] == 1
