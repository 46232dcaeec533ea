"""``simrec calibrate compare | fit`` on the committed recording (replayed: no key, no call),
and the params file in ``simrec run --brain-params`` and a scenario's ``brain_kwargs``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simrec.calibration.params import load_brain_params
from simrec.cli import main
from simrec.scenario import parse_scenario

pytest.importorskip("anthropic")
ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "examples" / "llm_check" / "llm_check.yaml"


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("SIMREC_CACHE_MODE", raising=False)


def test_compare_replays_the_recording_and_matches_the_documented_table(tmp_path, capsys):
    assert main(["calibrate", "compare", str(CHECK), "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "0 sent (0 retried attempts)" in out and "replayed from cache" in out
    data = json.loads((tmp_path / "llm_check-brains.json").read_text())
    assert [b["label"] for b in data["brains"]] == ["utility", "anthropic"]
    # docs/claude.md shows this command's table: every row shown there is real output
    doc = (ROOT / "docs" / "claude.md").read_text(encoding="utf-8")
    block = re.search(
        r"simrec calibrate compare examples/llm_check/llm_check.yaml`.*?```text\n(.*?)```",
        doc,
        re.S,
    )
    assert block is not None
    for line in block.group(1).splitlines():
        if line.strip() and line.strip() != "...":  # the table is abridged
            assert line.rstrip() in out, f"documented line not in the real output: {line!r}"


def test_fit_writes_a_params_file_that_runs_and_scenarios_read(tmp_path, capsys):
    out = tmp_path / "fitted.yaml"
    args = ["calibrate", "fit", str(CHECK), "--fit", "outside_utility,leave_base",
            "--out", str(out), "--no-standard-errors", "--quiet"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "utility brain fitted to" in printed and "curve gaps" in printed
    params = load_brain_params(out)
    assert set(params.brain_kwargs) == {"outside_utility", "leave_base"}
    assert params.fit["brain"] == "anthropic" and params.fit["model"] == "claude-haiku-5-5"
    gaps = params.fit["curve_gaps"]
    assert gaps["fitted"]["CTR by turn"] < gaps["defaults"]["CTR by turn"]
    assert main(args) == 2  # never over an existing file without --overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(["run", "golf", "--brain-params", str(out), "--episodes", "1", "--quiet"]) == 0
    assert "mean return" in capsys.readouterr().out
    assert main(["run", "golf", "--brain", "anthropic", "--brain-params", str(out)]) == 2
    assert "applies to the utility brain" in capsys.readouterr().err
    scenario = parse_scenario(
        f"env: golf\nbrain_kwargs: {out}\ndynamics: {{item_decay: 0.5}}\nepisodes: 1\n"
        "policies: {random: random}\n"
    )
    assert scenario.env_kwargs["brain_kwargs"] == dict(params.brain_kwargs)
    assert scenario.env_kwargs["dynamics"].item_decay == 0.5


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert main(["calibrate", "fit", str(CHECK), "--fit", "nope", "--quiet"]) == 2
    assert "unknown field 'nope'" in capsys.readouterr().err
    assert main(["calibrate", "compare", str(CHECK), "--brains", "utility,claude"]) == 2
    assert "unknown brain 'claude'" in capsys.readouterr().err
    assert main(["calibrate", "compare", str(CHECK), "--policy", "nobody", "--quiet"]) == 2
    assert "--policy: 'nobody' is not a policy" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("brain_kwargs:\n  leave_threshold: 7\n")
    assert main(["run", "golf", "--brain-params", str(bad)]) == 2
    assert "bad.yaml:2: field 'brain_kwargs.leave_threshold'" in capsys.readouterr().err
