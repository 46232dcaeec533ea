"""Showing and saving scenario results: a table per behaviour, JSON and CSV files."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from simrec.scenario_robustness import RobustnessReport
from simrec.scenario_run import ScenarioResult, result_rows
from simrec.stats import finite_or_none


def report_console() -> Console:
    """A console for reports: logs and CI have no terminal width, so give tables room."""
    return Console(width=None if sys.stdout.isatty() else 200)


def print_report(result: ScenarioResult, console: Console | None = None) -> None:
    """A table per behaviour (rows: policies; cells: mean ± 95% half-width), then assertions."""
    console = console or report_console()
    scenario = result.scenario
    extra = f" (+ {len(scenario.gauntlet)} gauntlet)" if scenario.gauntlet else ""
    console.print(
        f"[bold]{scenario.name}[/bold]: {len(scenario.own_policies)} policies{extra} x "
        f"{len(scenario.seeds)} seeds x {scenario.episodes} sessions "
        f"({scenario.source})"
    )
    full = result.summary()
    summary = {p: full[p] for p in scenario.own_policies}
    for behaviour, metrics in scenario.metric_names().items():
        measured = [m for m in metrics if m != "requests"]
        empty = all(math.isnan(summary[p][behaviour][m].mean) for p in summary for m in measured)
        if behaviour not in scenario.report or empty:
            continue
        table = Table(
            title=f"{behaviour} (mean ± 95% CI half-width over seeds)", title_justify="left"
        )
        table.add_column("metric", style="bold")
        for policy in summary:
            cheats = scenario.policies[policy].policy == "oracle"
            table.add_column(policy + (" (cheats)" if cheats else ""), justify="right")
        for metric in metrics:
            table.add_row(metric, *(str(summary[p][behaviour][metric]) for p in summary))
        console.print(table)
    if "cold_start" in scenario.report:
        console.print(_curve_table(result, "ctr", turns=12))
    if scenario.gauntlet:
        console.print(_gauntlet_table(result))
    for outcome in result.outcomes:
        style = "green" if outcome.passed else "red"
        console.print(outcome.message, style=style, highlight=False)
    for substitution in result.gamed:
        console.print(f"GAMED: {substitution.describe()}", style="red", highlight=False)
    if result.outcomes:
        failed = len(result.failures)
        console.print(
            f"{len(result.outcomes) - failed} of {len(result.outcomes)} assertions passed",
            style="green" if not failed else "red bold",
        )
    if scenario.gauntlet:
        gamed = len(result.gamed)
        console.print(
            f"gauntlet: {gamed} of {len(result.substitutions)} substitutions passed an assertion",
            style="green" if not gamed else "red bold",
        )


def _gauntlet_table(result: ScenarioResult) -> Table:
    """The gauntlet's figures on the metrics the assertions use (rows: gauntlet policies)."""
    scenario = result.scenario
    refs = [a.left for a in scenario.assertions] + [
        a.right for a in scenario.assertions if not isinstance(a.right, (int, float))
    ]
    metrics = list(dict.fromkeys((r.behaviour, r.metric) for r in refs))
    table = Table(
        title="gauntlet (mean ± 95% CI half-width)",
        title_justify="left",
    )
    table.add_column("policy", style="bold")
    for behaviour, metric in metrics:
        table.add_column(f"{behaviour}.{metric}", justify="right")
    summary = result.summary()
    for label in scenario.gauntlet:
        table.add_row(label, *(str(summary[label][b][m]) for b, m in metrics))
    return table


def _curve_table(result: ScenarioResult, column: str, turns: int) -> Table:
    """Per-turn ``column`` (mean over seeds) of every policy for the first ``turns`` turns."""
    table = Table(title=f"{column} by turn (mean over seeds)", title_justify="left")
    table.add_column("policy", style="bold")
    longest = max((int(c.index.max()) for c in result.curves.values() if len(c)), default=1)
    shown = range(1, min(turns, longest) + 1)
    for turn in shown:
        table.add_column(str(turn), justify="right")
    for policy in result.scenario.own_policies:
        curve = result.curves[policy]
        values = curve[column].reindex(shown)
        table.add_row(policy, *("" if math.isnan(v) else f"{v:.2f}" for v in values))
    return table


def result_json(result: ScenarioResult) -> dict[str, Any]:
    """Everything in JSON-friendly form: settings, per-seed values, intervals, curves, checks."""
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "source": scenario.source,
        "episodes": scenario.episodes,
        "seeds": scenario.seeds,
        "settings": scenario.settings,
        "policies": {
            label: {
                "policy": s.policy,
                "params": s.params,
                "load": s.load,
                "gauntlet": label in scenario.gauntlet,
            }
            for label, s in scenario.policies.items()
        },
        "results": {
            policy: {
                behaviour: {
                    metric: {
                        **figure.to_dict(),
                        "per_seed": [
                            finite_or_none(v) for v in result.per_seed[policy][behaviour][metric]
                        ],
                    }
                    for metric, figure in metrics.items()
                }
                for behaviour, metrics in behaviours.items()
            }
            for policy, behaviours in result.summary().items()
        },
        "curves": {
            policy: json.loads(frame.reset_index().to_json(orient="records"))
            for policy, frame in result.curves.items()
        },
        "drift_turn": scenario.drift_turn,
        "turn_intervals": {
            policy: _columns(result.turn_intervals(policy)) for policy in scenario.policies
        },
        "request_intervals": {
            policy: _columns(result.request_intervals(policy)) for policy in scenario.policies
        },
        "assertions": [
            {
                "check": o.assertion.text,
                "name": o.assertion.name,
                "passed": o.passed,
                "margin": finite_or_none(o.margin),
                "message": o.message,
                "gamed_by": [
                    {
                        "policy": s.substitute,
                        "in_place_of": s.endorsed,
                        "margin": finite_or_none(s.outcome.margin),
                    }
                    for s in result.gamed
                    if s.assertion is o.assertion
                ],
            }
            for o in result.outcomes
        ],
        "gauntlet": {
            "policies": list(scenario.gauntlet),
            "substitutions": len(result.substitutions),
            "gamed": len(result.gamed),
        },
        "passed": result.passed,
    }


def _columns(frame: pd.DataFrame) -> dict[str, Any]:
    """An interval frame as columns: the index values, then per column its four lists."""
    out: dict[str, Any] = {frame.index.name: [int(i) for i in frame.index]}
    for column in frame.columns:
        cells = [cell.to_dict() for cell in frame[column]]
        out[column] = {key: [c[key] for c in cells] for key in ("mean", "ci_low", "ci_high", "n")}
    return out


def write_results(result: ScenarioResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.csv`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{result.scenario.name}.json"
    csv_path = out / f"{result.scenario.name}.csv"
    json_path.write_text(json.dumps(result_json(result), indent=2) + "\n", encoding="utf-8")
    pd.DataFrame(result_rows(result)).to_csv(csv_path, index=False)
    return json_path, csv_path


def print_robustness(report: RobustnessReport, console: Console | None = None) -> None:
    """Each assertion's pass rate over seed blocks, its worst margin, and what flips it."""
    console = console or report_console()
    scenario = report.scenario
    console.print(
        f"[bold]{scenario.name}[/bold]: {len(report.blocks)} seed blocks of "
        f"{len(scenario.seeds)} seeds x {scenario.episodes} sessions, "
        f"{len(report.perturbations)} parameter perturbations ({scenario.source})"
    )
    table = Table(title="assertions over independent seed blocks", title_justify="left")
    for column in ("assertion", "own seeds", "blocks passed", "pass rate", "worst margin"):
        table.add_column(column, justify="left" if column == "assertion" else "right")
    table.add_column("flips under ±perturbation")
    for i, assertion in enumerate(scenario.assertions):
        rate = report.pass_rate(i)
        flips = report.flips(i)
        table.add_row(
            assertion.text,
            "pass" if report.baseline.passed[i] else "FAIL",
            f"{sum(v.passed[i] for _, v in report.blocks)}/{len(report.blocks)}",
            "n/a" if math.isnan(rate) else f"{rate:.0%}",
            f"{report.worst_margin(i):.3g}",
            ", ".join(f"{change} ({margin:+.3g})" for change, margin in flips) or "none",
            style=None if math.isnan(rate) or rate >= 0.95 else "red",
        )
    console.print(table)
    if report.skipped:
        console.print("not perturbed: " + "; ".join(report.skipped), highlight=False)
