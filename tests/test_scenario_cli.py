"""``simrec scenario run``: tables, JSON and CSV results, exit status naming failed checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from simrec.cli import main
from tests.test_scenario import TINY

FAILING = "  - random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5\n"


def test_run_prints_tables_writes_json_and_csv_and_exits_zero(tmp_path: Path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert main(["scenario", "run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "cold_start (mean ± 95% CI half-width over seeds)" in out
    assert "oracle (cheats)" in out and "PASSED: oracle.cold_start.ctr_at_5" in out
    assert "1 of 1 assertions passed" in out
    assert "ctr by turn (mean over seeds;" in out
    data = json.loads((tmp_path / "out" / "tiny.json").read_text())
    figure = data["results"]["oracle"]["cold_start"]["ctr_at_5"]
    assert len(figure["per_seed"]) == 5 and figure["ci_low"] <= figure["mean"] <= figure["ci_high"]
    assert data["passed"] is True and data["assertions"][0]["margin"] > 0
    assert data["curves"]["random"][0]["turn"] == 1
    table = pd.read_csv(tmp_path / "out" / "tiny.csv")
    assert list(table.columns) == [
        "policy",
        "behaviour",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    assert set(table["behaviour"]) == {"cold_start", "novelty", "steerability"}


def test_a_failing_assertion_exits_one_and_says_which_and_by_how_much(tmp_path: Path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY + FAILING)
    assert main(["scenario", "run", str(scenario), "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "FAILED: random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5" in captured.out
    assert "short by" in captured.out and "1 of 2 assertions passed" in captured.out
    assert captured.err.splitlines() == [
        "1 assertion(s) failed:",
        "  tiny: random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5",
    ]
    data = json.loads((tmp_path / "tiny.json").read_text())
    assert [a["passed"] for a in data["assertions"]] == [True, False]


def test_a_malformed_scenario_is_one_line_on_stderr_with_status_two(tmp_path: Path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(TINY.replace("seeds: 5", "seeds: two"))
    result = subprocess.run(
        [sys.executable, "-m", "simrec.cli", "scenario", "run", str(scenario)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"simrec: error: {scenario}:6: field 'seeds': expected a count or a list of integers, got 'two'"
    ]
    assert not (tmp_path / "results").exists()


def test_validate_checks_without_running(tmp_path: Path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert main(["scenario", "validate", str(scenario)]) == 0
    assert "ok (2 policies, 1 assertions)" in capsys.readouterr().out


def test_run_writes_the_html_report_beside_the_results_unless_told_not_to(tmp_path: Path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert main(["scenario", "run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    page = tmp_path / "out" / "tiny.html"
    assert f"report: {page}" in capsys.readouterr().out
    assert "<h1>Scenario: tiny</h1>" in page.read_text()
    assert (
        main(["scenario", "run", str(scenario), "--out", str(tmp_path / "bare"), "--no-report"])
        == 0
    )
    assert "report:" not in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "bare").iterdir()) == ["tiny.csv", "tiny.json"]


def test_run_without_matplotlib_still_writes_results_and_says_why_there_is_no_report(
    tmp_path: Path,
):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    code = (
        "import sys; sys.modules['matplotlib'] = None; from simrec.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "scenario", "run", str(scenario), "--out", "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert "report: skipped, it needs matplotlib: pip install 'simrec[report]'" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny.csv", "tiny.json"]


def _without_assertions() -> str:
    return TINY.split("assertions:")[0]


def test_a_scenario_without_assertions_warns_and_strict_refuses_it(tmp_path: Path, capsys):
    scenario = tmp_path / "bare.yaml"
    scenario.write_text(_without_assertions())
    out = tmp_path / "results"
    argv = ["scenario", "run", str(scenario), "--out", str(out), "--no-progress"]
    assert main([*argv, "--strict"]) == 2
    err = capsys.readouterr().err
    assert f"simrec: error: {scenario}: no assertions; the run measures but checks nothing" in err
    assert not out.exists()  # refused before running anything
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"simrec: warning: {scenario}: no assertions" in err and "--strict" in err
    assert (out / "tiny.json").exists()


def test_scenario_run_shows_progress_on_a_terminal(tmp_path: Path, capsys, monkeypatch):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["scenario", "run", str(scenario), "--out", str(tmp_path / "r")]) == 0
    err = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", capsys.readouterr().err)  # colours, cursor
    assert "tiny" in err
    assert "10/10 batches" in err  # 2 policies x 5 seeds, all done
    assert (
        main(["scenario", "run", str(scenario), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    )
    assert "batches" not in capsys.readouterr().err


def test_the_report_explains_empty_rows_and_where_the_ctr_table_stops(tmp_path: Path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY.replace("  oracle: oracle\n", "  popularity: popularity\n").replace(
        "oracle.cold_start", "popularity.cold_start"))  # fmt: skip
    main(["scenario", "run", str(scenario), "--out", str(tmp_path / "r"), "--no-progress"])
    out = capsys.readouterr().out
    # no oracle: normalized_return is n/a for every policy, and the row says why
    assert "normalized_return (n/a: needs an oracle policy" in out
    # the per-turn table has a row of visits reaching each turn (8 sessions x 5 seeds = 40)
    visits = [line for line in out.splitlines() if "visits " in line and "│" in line]
    assert len(visits) == 2 and visits[0].split("│")[2].strip() == "40"
    assert "ends at turn 5: turn 5 is the horizon" in out
