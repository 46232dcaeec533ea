"""``simrec ground`` on small generated logs in every format, and its errors."""

from __future__ import annotations

import json

import pytest

from simrec.cli import main
from simrec.persona import load_personas
from tests.grounding_logs import (
    make_log,
    write_latest,
    write_ml1m,
    write_ml100k,
    write_recbole,
    write_table,
)


@pytest.mark.parametrize("writer", [write_ml100k, write_latest, write_ml1m, write_recbole])
def test_ground_writes_a_preset_from_every_folder_format(tmp_path, capsys, writer):
    folder = writer(
        make_log(), tmp_path / "log", bad_rows=["1\t2"] if writer is write_recbole else []
    )
    out = tmp_path / "preset"
    assert main(["ground", str(folder), "--out", str(out), "--dim", "8"]) == 0
    printed = capsys.readouterr().out
    assert "40 personas, 48 items" in printed and "simrec run" in printed
    info = json.loads((out / "grounding.json").read_text())
    assert info["users"] == 40 and info["rows_read"]["interactions"] >= 600
    assert len(load_personas(out / "personas.parquet")) == 40
    assert (
        main(["run", str(out / "preset.yaml"), "--episodes", "1", "--quiet", "--policy", "ease"])
        == 0
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_ground_reads_a_generic_table_with_named_columns(tmp_path, capsys, suffix):
    log = make_log()
    log.events = log.events.rename(columns={"user": "who"})
    events, items = write_table(log, tmp_path / "t", suffix)
    out = tmp_path / "preset"
    args = ["ground", str(events), "--items", str(items), "--out", str(out), "--user-column", "who"]
    assert main([*args, "--year-column", "year", "--dim", "8", "--domain", "films"]) == 0
    assert "40 personas" in capsys.readouterr().out
    assert load_personas(out / "personas.parquet")[0].domain == "films"


def test_ground_reports_dropped_rows_with_file_and_line(tmp_path, capsys):
    folder = write_ml100k(make_log(), tmp_path / "log", bad_rows=["1\t2\toops\t880000000"])
    assert main(["ground", str(folder), "--out", str(tmp_path / "p"), "--dim", "4"]) == 0
    printed = capsys.readouterr().out
    assert "1 rows dropped: interactions: rating is not a number" in printed
    assert "u.data:601: field 'rating': 'oops'" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "nowhere: not found"),
        (["{events}"], "needs its items table: --items FILE"),
        (
            ["{events}", "--items", "{items}", "--rating-column", "stars"],
            "no column 'stars' for the rating",
        ),
    ],
)
def test_ground_errors_are_one_line_naming_the_problem(tmp_path, capsys, args, message):
    events, items = write_table(make_log(), tmp_path / "t")
    args = [a.format(events=events, items=items) for a in args]
    assert main(["ground", *args, "--out", str(tmp_path / "p")]) == 2
    assert message in capsys.readouterr().err
