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
            cells = [str(summary[p][behaviour][metric]) for p in summary]
            name = metric
            if all(cell == "n/a" for cell in cells):
                name = f"{metric} (n/a: {NOT_MEASURED.get(metric, _NOT_MEASURED_DEFAULT)})"
            table.add_row(name, *cells)
        console.print(table)
    if "cold_start" in scenario.report:
        console.print(_curve_table(result, "ctr", turns=12))
    if scenario.gauntlet:
        console.print(_gauntlet_table(result))
    usage = llm_usage_report(result)
    if usage:
        console.print(usage, highlight=False)
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


def llm_usage_report(result: ScenarioResult) -> str:
    """The run's LLM usage: a block for the simulated users, one per LLM policy label
    (their calls and dollars apart); empty when nothing called an LLM."""
    from simrec.llm.accounting import format_summary

    blocks = []
    if result.users_usage is not None and result.users_usage.roles:
        blocks.append(format_summary(result.users_usage.summary("user"), "simulated-user"))
    for label, ledger in result.policy_usage.items():
        if ledger.roles:
            blocks.append(format_summary(ledger.summary("policy"), f"policy {label!r}"))
    return "\n".join(blocks)


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


NOT_MEASURED = {
    "turns_to_click": "no session had a click",
    "turns_to_purchase": "no session had a purchase",
    "normalized_return": "needs an oracle policy with a non-zero return",
    "compliance": "no steering request was made within the horizon",
    "turns_to_comply": "no request was complied with",
    "followed": "no steering request was made within the horizon",
    "satisfaction_followed": "no request was followed",
    "satisfaction_ignored": "no request was ignored",
    "churn_followed": "no request was followed",
    "churn_ignored": "no request was ignored",
    "ctr_decay": "sessions too short to compare early and late turns",
    "satisfaction_slope": "sessions too short for a slope",
    "ctr_before": "no turn before the drift",
    "ctr_dip": "no session reached the drift",
    "ctr_after": "no session lasted past the drift",
    "recovery": "no session lasted past the drift",
}
"""Why a metric can be n/a for every policy: printed beside an all-n/a row."""
_NOT_MEASURED_DEFAULT = "no session produced this figure"


def _curve_table(result: ScenarioResult, column: str, turns: int) -> Table:
    """Per-turn ``column`` (mean over seeds) of every policy for the first ``turns`` turns,
    each with a row of how many visits reached the turn, and a caption saying why it ends."""
    scenario = result.scenario
    horizon = scenario.env_kwargs.get("max_turns", 20)
    visits = scenario.episodes * len(scenario.seeds)
    longest = max((int(c.index.max()) for c in result.curves.values() if len(c)), default=1)
    last = min(turns, longest)
    if longest > turns:
        why = f"the first {turns} of {longest} turns are shown"
    elif longest >= horizon:
        why = f"turn {longest} is the horizon"
    else:
        why = f"no visit lasted past turn {longest} (the horizon is {horizon}): users left"
    table = Table(
        title=f"{column} by turn (mean over seeds; 'visits': how many of the {visits} visits "
        f"per policy reached the turn)",
        caption=f"ends at turn {last}: {why}",
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("policy", style="bold")
    shown = range(1, last + 1)
    for turn in shown:
        table.add_column(str(turn), justify="right")
    for policy in scenario.own_policies:
        values = result.curves[policy][column].reindex(shown)
        table.add_row(policy, *("" if math.isnan(v) else f"{v:.2f}" for v in values))
        reached = _visits_reaching(result, policy, shown)
        table.add_row("  visits", *(str(n) for n in reached), style="dim")
    return table


def _visits_reaching(result: ScenarioResult, policy: str, shown: range) -> list[int]:
    """Visits (summed over seeds) of ``policy`` still going at each turn in ``shown``."""
    totals = [0] * len(shown)
    for curve in result.seed_curves[policy]:
        sessions = curve["sessions"].reindex(shown).fillna(0).to_numpy()
        totals = [t + int(n) for t, n in zip(totals, sessions, strict=True)]
    return totals


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
                "wrapper": s.wrapper,
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
        "llm_usage": result.llm_usage(),
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
