"""The brains' comparison in the terminal: one table of rates and steering response, then
one per curve (by slot position, by turn, by times shown before), brains side by side."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simrec.calibration.compare import ALL, RATES, STEERING, Comparison
from simrec.stats import Interval

LABELS = {
    "ctr": "CTR (share of slates with a click)",
    "clicks_per_slate": "clicks per slate",
    "purchase_rate": "purchase rate (slates with a purchase)",
    "conversion": "purchases per click",
    "dismissal_rate": "dismissals per shown item",
    "leave_rate": "leave hazard (leaves per turn)",
    "session_length": "slates per visit",
    "final_satisfaction": "final satisfaction",
    "compliance": "request: compliance of the slates after it",
    "satisfaction_followed": "request followed: satisfaction",
    "satisfaction_ignored": "request ignored: satisfaction",
    "churn_followed": "request followed: left within the window",
    "churn_ignored": "request ignored: left within the window",
    "requests": "requests scored",
}
CURVE_TABLES = {
    "position": ("by slot position (per shown item)", ("ctr", "purchase_rate", "dismissal_rate")),
    "turn": ("by turn (per slate; left = leave hazard)", ("sessions", "ctr", "left")),
    "repeat": (
        "by times the item was shown before in the visit (repeated slates)",
        ("impressions", "ctr", "dismissal_rate"),
    ),
}


def print_comparison(
    comparison: Comparison, console: Console | None = None, group: str = ALL
) -> None:
    """The comparison's tables for ``group`` (``all`` policies pooled, or one policy)."""
    console = console or Console(width=200)
    s = comparison.scenario
    labels = comparison.labels
    where = "policies pooled" if group == ALL else f"policy {group}"
    console.print(
        f"[bold]{s.name}[/bold]: {', '.join(labels)} on {len(s.policies)} policies x "
        f"{len(s.seeds)} seeds x {s.episodes} sessions, horizon {comparison.horizon} "
        f"({where}; mean ± 95% CI half-width over seeds; * = the paired difference from "
        f"{labels[0]} excludes 0)",
        highlight=False,
    )
    table = Table(title="rates and the response to a steering request", title_justify="left")
    table.add_column("metric", style="bold")
    for label in labels:
        table.add_column(label, justify="right")
    for label in labels[1:]:
        table.add_column(f"{label} − {labels[0]}", justify="right")
    for metric in (*RATES, *STEERING):
        cells = [str(comparison.figure(metric, b, group)) for b in labels]
        diffs = [_difference(comparison.difference(metric, b, group)) for b in labels[1:]]
        table.add_row(LABELS.get(metric, metric), *cells, *diffs)
    console.print(table)
    for kind, (title, columns) in CURVE_TABLES.items():
        console.print(_curve_table(comparison, kind, title, columns, group))
    for label, usage in comparison.usage.items():
        console.print(f"[bold]{label}[/bold] LLM usage:\n{usage}", highlight=False)


def _curve_table(
    comparison: Comparison, kind: str, title: str, columns: tuple[str, ...], group: str
) -> Table:
    curves = {b: comparison.curve(kind, b, group) for b in comparison.labels}
    first = next(iter(curves.values()))
    table = Table(title=title, title_justify="left")
    table.add_column(first.index.name.replace("_", " "), justify="right", style="bold")
    for column in columns:
        for label in comparison.labels:
            table.add_column(f"{column} {label}", justify="right")
    for index in first.index:
        cells = []
        for column in columns:
            for label in comparison.labels:
                cell = curves[label].loc[index, column]
                cells.append(_count(cell) if column in ("sessions", "impressions") else str(cell))
        if any(c not in ("n/a", "0") for c in cells):
            label = f"{index}+" if kind == "repeat" and index == first.index[-1] else str(index)
            table.add_row(label, *cells)
    return table


def _count(cell: Interval) -> str:
    return "0" if math.isnan(cell.mean) else f"{cell.mean:.1f}"


def _difference(figure: Interval) -> str:
    """A signed interval, ``*`` when it excludes 0."""
    text = str(figure)
    if text == "n/a":
        return text
    sign = "" if text.startswith(("-", "0 ")) or text == "0" else "+"
    star = " *" if figure.low > 0 or figure.high < 0 else ""
    return f"{sign}{text}{star}"


def write_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Write :meth:`Comparison.to_json` to ``path`` (directories created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(comparison.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


__all__ = ["print_comparison", "write_comparison"]
