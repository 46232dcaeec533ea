"""Documented figures come from one command (``benchmarks/figures.py``) and match the code.

The documents must be exactly what ``docs/figures.json`` renders (no figure typed or
edited by hand); ``tests/test_scenarios_shipped.py`` checks that the scenario figures in
that file are what the scenarios give today, and the robustness figures here must have
been measured on those same figures and assertions.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_figures_module():
    spec = importlib.util.spec_from_file_location("figures", ROOT / "benchmarks" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = load_figures_module()

FAKE = {
    "demo": {
        "policies": ["slow", "fast", "oracle"],
        "cheats": ["oracle"],
        "figures": {
            "slow.cold_start.ctr_at_5": {"mean": 0.41234, "ci_low": 0.4, "ci_high": 0.42468, "n": 8},
            "fast.cold_start.ctr_at_5": {"mean": 0.6271, "ci_low": 0.597, "ci_high": 0.657, "n": 8},
            "oracle.cold_start.ctr_at_5": {"mean": 0.9, "ci_low": 0.89, "ci_high": 0.91, "n": 8},
            "slow.novelty.churn": {"mean": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 8},
            "fast.novelty.churn": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 8},
            "oracle.novelty.churn": {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0, "n": 8},
            "fast.steerability.listening": {"mean": None, "ci_low": None, "ci_high": None, "n": 0},
        },
        "gauntlet": {"substitutions": 63, "gamed": 0},
    },
    "robustness": {
        "demo": {
            "blocks": 25,
            "perturbations": ["leave_base x0.75", "leave_base x1.25"],
            "assertions": [
                {"check": "fast.cold_start.ctr_at_5 > slow.cold_start.ctr_at_5",
                 "blocks_passed": 25, "worst_margin": 0.0312, "flips": []},
                {"check": "slow.novelty.churn < fast.novelty.churn", "blocks_passed": 24,
                 "worst_margin": -0.01, "flips": [{"change": "leave_base x0.75", "margin": -0.1}]},
            ],
        }
    },
}  # fmt: skip


def block(template: str, body: str = "stale\n") -> str:
    return f"intro\n<!-- figures\n{template}\n-->\n{body}<!-- /figures -->\noutro\n"


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{demo:fast.cold_start.ctr_at_5}", "0.627 ± 0.03"),
        ("{demo:fast.cold_start.ctr_at_5|mean}", "0.627"),
        ("{demo:fast.cold_start.ctr_at_5|mean:.2f}", "0.63"),
        ("{demo:fast.cold_start.ctr_at_5|ci:.3f}", "0.627 ± 0.030"),
        ("{demo:fast.cold_start.ctr_at_5|pct}", "63%"),
        ("{demo:slow.cold_start.ctr_at_5|low}", "0.4"),
        ("{demo:fast.steerability.listening}", "–"),
        ("{demo:gauntlet.substitutions} tried, {demo:gauntlet.gamed} passed", "63 tried, 0 passed"),
    ],
)
def test_placeholders_render_figures(template, rendered):
    out = figures.render_text(block(f"x {template} y"), FAKE)
    assert out == block(f"x {template} y", f"x {rendered} y\n")
    assert figures.render_text(out, FAKE) == out  # rendering is idempotent


def test_a_table_has_the_policies_as_columns_and_bolds_the_best_honest_figure():
    out = figures.render_text(block("{table demo cold_start.ctr_at_5 novelty.churn}"), FAKE)
    assert out.splitlines()[4:8] == [
        "| | slow | fast | oracle (cheats) |",
        "| --- | --- | --- | --- |",
        "| `ctr_at_5` | 0.412 ± 0.012 | **0.627 ± 0.03** | 0.9 ± 0.01 |",
        "| `churn` | **0.2 ± 0.1** | 0.5 ± 0.1 | 0 |",  # less churn is better
    ]


def test_the_robustness_table_lists_pass_rates_and_flips():
    out = figures.render_text(block("{robustness-table demo}"), FAKE)
    assert (
        "| `fast.cold_start.ctr_at_5 > slow.cold_start.ctr_at_5` | 25/25 | 0.0312 | none |" in out
    )
    assert (
        "| `slow.novelty.churn < fast.novelty.churn` | 24/25 | -0.01 | `leave_base x0.75` |" in out
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{nope:fast.return}", "doc.md:2: no figures for 'nope'; known: demo, robustness"),
        (
            "{demo:fast.novelty.ild}",
            "doc.md:2: {demo:fast.novelty.ild}: demo has no 'fast.novelty.ild'",
        ),
        ("{demo:fast.cold_start.ctr_at_5|median}", "unknown format 'median'"),
        ("{table demo novelty.ild}", "{table demo ...}: demo has no figure 'slow.novelty.ild'"),
    ],
)
def test_a_template_naming_a_missing_figure_is_an_error_with_its_location(template, message):
    with pytest.raises(figures.FigureError) as info:
        figures.render_text(block(template), FAKE, "doc.md")
    assert message in str(info.value)


def test_the_documents_are_what_the_figures_file_renders():
    stale = figures.stale_documents(figures.load_figures())
    assert not stale, f"run `python benchmarks/figures.py --render`: stale figures in {stale}"


def test_check_mode_reports_a_hand_edited_figure(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "README.md"
    doc.write_text(figures.render_text(block("{demo:fast.cold_start.ctr_at_5}"), FAKE))
    monkeypatch.setattr(figures, "documents", lambda: [doc])
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "load_figures", lambda path=None: FAKE)
    assert figures.main(["--check"]) == 0
    doc.write_text(doc.read_text().replace("0.627", "0.7"))
    assert figures.main(["--check"]) == 1
    assert "README.md: figures differ from docs/figures.json" in capsys.readouterr().out
    assert figures.main(["--render"]) == 0 and "0.627 ± 0.03" in doc.read_text()


def test_the_robustness_figures_were_measured_on_todays_scenario_figures():
    data = figures.load_figures()
    from simrec.scenario import load_scenario

    for name, report in data.get("robustness", {}).items():
        assert report["digest"] == data[name]["digest"], (
            f"the robustness figures of {name} were measured on other scenario figures; "
            "run `python benchmarks/figures.py --only robustness`"
        )
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        assert [a["check"] for a in report["assertions"]] == [a.text for a in scenario.assertions]


def test_without_perturbations_the_table_says_flips_were_not_measured():
    unperturbed = {**FAKE, "robustness": {"demo": {**FAKE["robustness"]["demo"]}}}
    unperturbed["robustness"]["demo"]["perturbations"] = []
    unperturbed["robustness"]["demo"]["assertions"] = [
        {**a, "flips": []} for a in FAKE["robustness"]["demo"]["assertions"]
    ]
    out = figures.render_text(block("{robustness-table demo}"), unperturbed)
    assert "| 24/25 | -0.01 | not measured |" in out


def test_the_figures_file_keeps_only_what_the_documents_quote(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(block("{demo:fast.cold_start.ctr_at_5}\n{table demo novelty.churn}"))
    kept = figures.quoted(FAKE, [doc])["demo"]["figures"]
    assert sorted(kept) == [
        "fast.cold_start.ctr_at_5", "fast.novelty.churn", "oracle.novelty.churn",
        "slow.novelty.churn",
    ]  # fmt: skip
    text = figures.dump(figures.quoted(FAKE, [doc]))
    assert json.loads(text)["demo"]["figures"] == kept  # the same data, one line a figure
    assert '"fast.novelty.churn": {"ci_high": 0.6, "ci_low": 0.4, "mean": 0.5, "n": 8}' in text


def test_robustness_figures_of_one_scenario_keep_the_others():
    old = {"demo": {"seeds": 4}, "robustness": {"a": {"blocks": 25}, "b": {"blocks": 25}}}
    new = {"demo": {"seeds": 6}, "robustness": {"b": {"blocks": 5}}}
    assert figures.merged(old, new) == {
        "demo": {"seeds": 6},
        "robustness": {"a": {"blocks": 25}, "b": {"blocks": 5}},
    }
