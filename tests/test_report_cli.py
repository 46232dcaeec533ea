"""``simrec report PATH``: which reports a path asks for, where they go, and one-line errors
for everything a user can get wrong (including a missing plotting extra)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simrec.cli import main
from tests.report_support import fidelity_result, write_dataset, write_scenario_result

NO_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None; from simrec.cli import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def simrec(*args: str, cwd: Path, without_matplotlib: bool = False) -> subprocess.CompletedProcess:
    code = (
        NO_MATPLOTLIB
        if without_matplotlib
        else "from simrec.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd
    )


def test_a_folder_of_results_gets_a_page_per_result_and_names_what_it_skipped(tmp_path, capsys):
    results = tmp_path / "results"
    write_scenario_result(results)
    (results / "fidelity.json").write_text(json.dumps(fidelity_result()))
    (results / "notes.json").write_text('{"todo": 1}')
    assert main(["report", str(results)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"skipped {results / 'notes.json'} (not a scenario or fidelity result)",
        f"report: {results / 'fidelity.html'}",
        f"report: {results / 'tiny_report.html'}",
    ]
    assert "<h1>Scenario: tiny_report</h1>" in (results / "tiny_report.html").read_text()
    assert "<h1>Fidelity: ml-100k</h1>" in (results / "fidelity.html").read_text()


def test_a_dataset_folder_gets_report_html_inside_and_out_moves_it(tmp_path, capsys):
    dataset = write_dataset(tmp_path / "golf-run")
    assert main(["report", str(dataset)]) == 0
    assert capsys.readouterr().out == f"report: {dataset / 'report.html'}\n"
    assert main(["report", str(dataset), "--out", str(tmp_path / "pages" / "golf.html")]) == 0
    assert (tmp_path / "pages" / "golf.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing", "{d}/missing: no such file or directory"),
        (lambda d: (d / "a.json").write_text('{"x": ') and d / "a.json",
         "{d}/a.json:1: not valid JSON: Expecting value (column 7)"),
        (lambda d: (d / "b.json").write_text("[1, 2]") and d / "b.json",
         "{d}/b.json: not a simrec result: expected a scenario result (fields 'scenario' and "
         "'results', from `simrec scenario run`) or a fidelity result (field 'accuracy_1_1', "
         "from `simrec fidelity`)"),
        (lambda d: (d / "empty").mkdir() or d / "empty",
         "{d}/empty: nothing to report: no scenario result (<name>.json from `simrec scenario "
         "run`), fidelity result (fidelity.json) or dataset (manifest.json) here"),
        (lambda d: (d / "_progress.json").write_text("{}") and d,
         "{d}: the run has not finished (no manifest.json); complete it with `simrec generate "
         "... --resume` using the same options"),
    ],
)  # fmt: skip
def test_bad_paths_are_one_line_errors_with_status_two(tmp_path, setup, message):
    path = setup(tmp_path)
    result = simrec("report", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["simrec: error: " + message.format(d=tmp_path)]


def test_out_with_several_reports_is_refused(tmp_path):
    write_scenario_result(tmp_path)
    (tmp_path / "fidelity.json").write_text(json.dumps(fidelity_result()))
    result = simrec("report", str(tmp_path), "--out", "x.html", cwd=tmp_path)
    assert (
        result.returncode == 2 and "--out names one file, but there are 2 reports" in result.stderr
    )
    assert not (tmp_path / "x.html").exists()


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path):
    path = write_scenario_result(tmp_path)
    result = simrec("report", str(path), cwd=tmp_path, without_matplotlib=True)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "simrec: error: reports need matplotlib: pip install 'simrec[report]'"
    ]
    assert not path.with_suffix(".html").exists()
