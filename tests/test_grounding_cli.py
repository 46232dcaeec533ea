"""``simrec ground`` on small generated logs in every format, and its errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
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


def test_ground_split_random_holds_out_a_seeded_random_fifth_and_records_it(tmp_path, capsys):
    folder = write_ml100k(make_log(), tmp_path / "log")
    out = tmp_path / "preset"
    args = ["ground", str(folder), "--out", str(out), "--dim", "4"]
    assert main([*args, "--split", "random", "--split-seed", "5"]) == 0
    assert "random split, seed 5" in capsys.readouterr().out
    info = json.loads((out / "grounding.json").read_text())
    assert info["split"] == {"method": "random", "seed": 5, "test_share": 0.2}
    events = pd.read_parquet(out / "events.parquet")
    counts = pd.crosstab(events.persona_id, events.split)[["train", "validation", "test"]]
    assert (counts.to_numpy() == [10, 2, 3]).all()  # every user: as many as the temporal split
    # the held-out events are not each user's last ones, and histories stay in time order
    last = events.groupby("persona_id").tail(1)
    assert (last["split"] != "test").sum() >= 5
    for persona in load_personas(out / "personas.parquet"):
        mine = events[(events.persona_id == persona.persona_id) & (events.split != "test")]
        assert (
            list(persona.history) == mine.sort_values("timestamp", kind="stable").item_id.tolist()
        )
        assert np.all(np.diff(mine.timestamp) >= 0)
    default = tmp_path / "default"
    assert main(["ground", str(folder), "--out", str(default), "--dim", "4"]) == 0
    assert json.loads((default / "grounding.json").read_text())["split"]["method"] == "temporal"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "time"], "--split: expected one of temporal, random, got 'time'"),
        (["--split-seed", "3"], "--split-seed: only the random split is seeded"),
    ],
)
def test_a_bad_split_option_is_named_before_the_log_is_read(tmp_path, capsys, args, message):
    assert main(["ground", "nowhere", "--out", str(tmp_path / "p"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "not found" not in err


def test_ground_help_documents_the_split(capsys):
    with pytest.raises(SystemExit):
        main(["ground", "--help"])
    printed = " ".join(capsys.readouterr().out.split())
    assert "--split {temporal,random}" in printed and "--split-seed" in printed
    assert "Agent4Rec" in printed
