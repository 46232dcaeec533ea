"""The scenario report: every assertion, metric and curve of a result file is on the page,
new metrics appear without code changes, and a malformed file names its field."""

from __future__ import annotations

import re

import pytest

from simrec.errors import ReportError
from simrec.report.scenario import render_scenario
from tests.report_support import scenario_result


def chart_titles(html: str) -> list[str]:
    return re.findall(r"<figure[^>]*><figcaption><h3>([^<]*)</h3>", html)


def test_every_assertion_is_listed_with_its_verdict_and_margin():
    data = scenario_result()
    html = render_scenario(data, "results/tiny_report.json")
    assert "1 of 2 assertions passed" in html
    assert html.count('class="badge pass"') == 1 and html.count('class="badge fail"') == 1
    for assertion in data["assertions"]:
        assert assertion["check"].replace(">", "&gt;") in html
        assert f"{assertion['margin']:+.4g}" in html
    assert "short by" in html  # the failing one says by how much


def test_per_turn_curves_request_and_drift_charts_are_drawn_with_bands():
    html = render_scenario(scenario_result(), "results/tiny_report.json")
    titles = chart_titles(html)
    for title in (
        "Users still here",
        "CTR by turn",
        "Purchase rate by turn",
        "Satisfaction by turn",
        "Visits remaining",
        "Compliance around the request",
        "Satisfaction around the request",
        "CTR around the drift",
    ):
        assert title in titles
    # every policy is in every legend; the oracle is marked as cheating
    assert html.count("oracle (cheats)") >= len(titles)
    assert "tastes change after slate 3" in html
    assert "fill-opacity: 0.15" in html  # the 95% bands


def test_every_metric_of_every_behaviour_gets_bars_with_whiskers():
    data = scenario_result()
    html = render_scenario(data, "results/tiny_report.json")
    for behaviour, metrics in data["results"]["random"].items():
        assert f'id="metrics-{behaviour}"' in html
        for metric, figure in metrics.items():
            if figure["mean"] is not None:
                assert f"<h3>{metric}" in html
    n_panels = html.count('class="panel plot"')
    assert html.count('class="whisker"') >= n_panels  # at least one interval per panel


def test_a_new_metric_and_a_new_curve_column_appear_without_code_changes():
    data = scenario_result()
    for policy, behaviours in data["results"].items():
        behaviours["llm"] = {
            "hallucination_rate": {"mean": 0.25, "ci_low": 0.2, "ci_high": 0.3, "n": 3}
        }
        curves = data["turn_intervals"][policy]
        n = len(curves["turn"])
        curves["hallucinations"] = {
            "mean": [0.1] * n,
            "ci_low": [0.0] * n,
            "ci_high": [0.2] * n,
            "n": [3] * n,
        }
    html = render_scenario(data, "results/tiny_report.json")
    assert 'id="metrics-llm"' in html and "<h3>hallucination_rate" in html
    assert "Hallucinations by turn" in chart_titles(html)


def test_a_result_without_requests_or_drift_has_no_empty_sections():
    data = scenario_result()
    data["drift_turn"] = None
    for curves in data["request_intervals"].values():
        curves["requests"]["mean"] = [0.0] * len(curves["offset"])
    html = render_scenario(data, "results/tiny_report.json")
    assert 'id="steering"' not in html and 'id="drift"' not in html


def test_an_older_result_without_intervals_still_renders_and_says_what_is_missing():
    data = scenario_result()
    del data["turn_intervals"], data["request_intervals"], data["drift_turn"]
    html = render_scenario(data, "results/old.json")
    assert "has no per-turn intervals" in html and 'id="assertions"' in html


def test_the_page_is_self_contained_and_deterministic():
    data = scenario_result()
    html = render_scenario(data, "results/tiny_report.json")
    assert html == render_scenario(data, "results/tiny_report.json")
    assert "<script" not in html and "<link" not in html and "@import" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # chart ids never collide


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["results"]["random"]["cold_start"]["return"].update(mean="high"),
            "x.json: field 'results.random.cold_start.return.mean': expected a number or null, got 'high'",
        ),
        (
            lambda d: d["turn_intervals"]["oracle"]["ctr"].update(mean=[0.5]),
            "x.json: field 'turn_intervals.oracle.ctr.mean': expected 6 values (one per row), got 1",
        ),
        (lambda d: d.pop("policies"), "x.json: field 'policies': required field is missing"),
        (
            lambda d: d["assertions"][1].update(passed="no"),
            "x.json: field 'assertions[1].passed': expected true or false, got 'no'",
        ),
    ],
)
def test_a_malformed_result_names_the_file_and_field(edit, message):
    data = scenario_result()
    edit(data)
    with pytest.raises(ReportError) as info:
        render_scenario(data, "x.json")
    assert str(info.value) == message


def test_many_policies_share_one_legend_per_section_instead_of_one_per_chart():
    data = scenario_result()
    for k in range(7):  # ten policies in all
        label = f"copy_{k}"
        data["policies"][label] = data["policies"]["random"]
        for key in ("results", "turn_intervals", "request_intervals"):
            data[key][label] = data[key]["random"]
    html = render_scenario(data, "results/tiny_report.json")
    sections = re.findall(r'<section id="([^"]+)">(.*?)</section>', html, flags=re.S)
    legends = {anchor: body.count('<div class="legend">') for anchor, body in sections}
    assert legends["visit"] == legends["steering"] == legends["drift"] == 1
    assert all(f">copy_{k}<" in html for k in range(7))
    # no chart draws its own legend: the labels are in the shared legends only
    svgs = re.findall(r"<svg role=\"img\".*?</svg>", html, flags=re.S)
    assert svgs and not any(">copy_0<" in svg for svg in svgs)


def test_gauntlet_policies_are_drawn_faint_and_a_gamed_assertion_is_flagged():
    data = scenario_result()
    data["policies"]["random"]["gauntlet"] = True
    data["assertions"][0]["gamed_by"] = [
        {"policy": "random", "in_place_of": "oracle", "margin": 0.5}
    ]
    html = render_scenario(data, "results/tiny_report.json")
    assert '<span class="badge gamed">GAMED</span>' in html
    assert "gamed: random in place of oracle also passes (margin +0.5)" in html
    assert "1 gamed by a degenerate policy" in html and 'class="verdict fail"' in html
    # the gauntlet's line is thin and light, and has no band of its own
    plain = render_scenario(scenario_result(), "results/tiny_report.json")
    assert html.count("stroke-opacity: 0.55") > plain.count("stroke-opacity: 0.55")
    assert html.count("fill-opacity: 0.15") < plain.count("fill-opacity: 0.15")
