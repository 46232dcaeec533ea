"""The fidelity report: headline figures, the baselines beside the brain, and the
simulated-vs-real distributions, read from ``fidelity.json`` by shape."""

from __future__ import annotations

import re

import pytest

from simrec.errors import ReportError
from simrec.report.fidelity import render_fidelity
from tests.report_support import fidelity_result, real_fidelity

DOCUMENTED = ("accuracy_1_1", "accuracy_1_1_popular_negatives", "f1_1_9", "auc", "ndcg_10",
              "genre_tv", "kendall_tau")  # fmt: skip
"""The fields ``simrec fidelity`` documents as always present."""


def assert_documented_figures(html: str, data: dict) -> None:
    for key in DOCUMENTED:
        assert f'<td>{key}</td><td class="num">{data[key]:.4g}</td>' in html


def test_headline_figures_baselines_and_distributions_are_shown():
    data = fidelity_result()
    html = render_fidelity(data, "out/fidelity.json")
    assert_documented_figures(html, data)
    # the brain's own row heads the baselines table, with the same columns
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td>", html)
    assert ("utility", "0.812") in rows and ("random", "0.5") in rows
    assert "<td>genre_match</td>" not in html and "<td>mf</td>" in html
    titles = re.findall(r"<figcaption><h3>([^<]*)</h3>", html)
    assert titles == ["Genre distribution", "Popularity distribution"]
    assert "Total variation distance 0.070" in html  # (0.02 + 0.05 + 0.07) / 2
    assert "Fidelity: ml-100k" in html


def test_a_new_figure_or_table_appears_without_code_changes():
    data = fidelity_result()
    data["hit_rate_10"] = 0.33
    data["per_genre"] = {"Drama": {"auc": 0.9}, "Comedy": {"auc": 0.8}}
    html = render_fidelity(data, "fidelity.json")
    assert "<td>hit_rate_10</td>" in html and "<h3>per genre</h3>" in html


def test_mismatched_distributions_are_an_error_naming_the_field():
    data = fidelity_result()
    data["popularity_distribution"]["simulated"] = [0.1, 0.2]
    with pytest.raises(ReportError) as info:
        render_fidelity(data, "fidelity.json")
    assert str(info.value).startswith(
        "fidelity.json: field 'popularity_distribution': 'real' (4), 'simulated' (2)"
    )
    data["genre_distribution"]["real"]["Drama"] = "lots"
    with pytest.raises(ReportError, match="field 'genre_distribution.real': expected numbers"):
        render_fidelity(data, "fidelity.json")


def test_the_fidelity_commands_own_result_renders_every_part():
    data = real_fidelity()
    html = render_fidelity(data, "out/fidelity.json")
    assert_documented_figures(html, data)
    assert "<h3>baselines</h3>" in html and "<h3>policy ranking.policies</h3>" in html
    for row in data["policy_ranking"]["policies"]:
        assert f"<td>{row['policy']}</td>" in html
    titles = re.findall(r"<figcaption><h3>([^<]*)</h3>", html)
    assert titles == ["Genre distribution", "Popularity distribution"]
    assert "0%–10%" in html  # the popularity deciles as bins
    tv = data["genre_tv"]
    assert f"Total variation distance {tv:.3f}" in html  # the chart agrees with the figure
    assert "<th>protocol.seed</th>" in html and "<th>data.users</th>" in html
