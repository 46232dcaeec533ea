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

from simrec.scenario_run import ScenarioResult, result_rows


def report_console() -> Console:
    """A console for reports: logs and CI have no terminal width, so give tables room."""
    return Console(width=None if sys.stdout.isatty() else 200)


def print_report(result: ScenarioResult, console: Console | None = None) -> None:
    """A table per behaviour (rows: policies; cells: mean ± 95% half-width), then assertions."""
    console = console or report_console()
    scenario = result.scenario
    console.print(
        f"[bold]{scenario.name}[/bold]: {len(scenario.policies)} policies x "
        f"{len(scenario.seeds)} seeds x {scenario.episodes} sessions "
        f"({scenario.source})"
    )
    summary = result.summary()
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
    for outcome in result.outcomes:
        style = "green" if outcome.passed else "red"
        console.print(outcome.message, style=style, highlight=False)
    if result.outcomes:
        failed = len(result.failures)
        console.print(
            f"{len(result.outcomes) - failed} of {len(result.outcomes)} assertions passed",
            style="green" if not failed else "red bold",
        )


def _curve_table(result: ScenarioResult, column: str, turns: int) -> Table:
    """Per-turn ``column`` (mean over seeds) of every policy for the first ``turns`` turns."""
    table = Table(title=f"{column} by turn (mean over seeds)", title_justify="left")
    table.add_column("policy", style="bold")
    longest = max((int(c.index.max()) for c in result.curves.values() if len(c)), default=1)
    shown = range(1, min(turns, longest) + 1)
    for turn in shown:
        table.add_column(str(turn), justify="right")
    for policy, curve in result.curves.items():
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
            label: {"policy": s.policy, "params": s.params, "load": s.load}
            for label, s in scenario.policies.items()
        },
        "results": {
            policy: {
                behaviour: {
                    metric: {
                        **figure.to_dict(),
                        "per_seed": [
                            _finite(v) for v in result.per_seed[policy][behaviour][metric]
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
                "margin": _finite(o.margin),
                "message": o.message,
            }
            for o in result.outcomes
        ],
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


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
