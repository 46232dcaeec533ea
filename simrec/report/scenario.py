"""The scenario report: what a ``simrec scenario run`` result JSON shows, as one page.

Everything is read from the result JSON generically: every behaviour, metric and
per-turn curve column the file holds is drawn, so a metric added to the runner appears
in reports without a change here. Sections: the assertions (pass/fail and margin), the
visit turn by turn (survival, CTR, purchases, satisfaction... with 95% bands over
seeds), the slates around each steering request, CTR around the drift, and every metric
as bars with 95% whiskers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simrec.errors import ReportError
from simrec.report import bars, plots
from simrec.report.page import Section, definition_table, escape, legend, page, table
from simrec.report.values import as_json, number_lists, optional_number
from simrec.validation import Fields

CURVES: dict[str, tuple[str, str, bool, str]] = {
    "survival": (
        "Users still here",
        "share of users shown the slate",
        True,
        "Share of each seed's visits that reached this turn (the rest left or ended).",
    ),
    "ctr": (
        "CTR by turn",
        "slates with a click",
        True,
        "Share of the turn's slates that got a click.",
    ),
    "purchase_rate": (
        "Purchase rate by turn",
        "slates with a purchase",
        True,
        "Share of the turn's slates that led to a purchase.",
    ),
    "satisfaction": (
        "Satisfaction by turn",
        "mean satisfaction",
        False,
        "Users' satisfaction after the turn, among those shown it.",
    ),
    "sessions": (
        "Visits remaining",
        "visits per seed",
        False,
        "Visits of a seed still going at this turn.",
    ),
    "dismissal_rate": (
        "Dismissals by turn",
        "dismissed items",
        True,
        "Share of shown items the user dismissed.",
    ),
    "left": (
        "Leaving by turn",
        "users who left",
        True,
        "Share of the turn's users who left after it.",
    ),
}
"""Known per-turn columns: title, y label, whether it is a share, how to read it.
Any other column of ``turn_intervals`` is drawn too, titled by its name."""

REQUEST_CURVES: dict[str, tuple[str, str, bool]] = {
    "compliance": ("Compliance around the request", "items satisfying the request", True),
    "satisfaction": ("Satisfaction around the request", "mean satisfaction", False),
    "ctr": ("CTR around the request", "slates with a click", True),
}

BAND_NOTE = "Lines: mean over seeds; shaded: 95% interval."
_THRESHOLD = re.compile(r"^\s*([\w-]+)\.([a-z_]+)\.([a-z_0-9]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Curves:
    """Per policy, an index (turn or offset) and per column mean / low / high / n arrays."""

    index: dict[str, np.ndarray]
    columns: dict[str, dict[str, dict[str, np.ndarray]]]  # policy -> column -> stat -> values


def render_scenario(data: Any, source: str) -> str:
    """The HTML page for one scenario result (the parsed JSON of ``<name>.json``).

    Raises:
        ReportError: a field of the file is missing or malformed (named with the file).
    """
    doc = Fields(data, ReportError, source=source)
    name = doc.string("scenario")
    policies = _policies(doc)
    colors = plots.colors_for(list(policies))
    labels = {p: p + (" (cheats)" if spec == "oracle" else "") for p, spec in policies.items()}
    cheats = {p for p, spec in policies.items() if spec == "oracle"}
    style = _Style(colors, labels, cheats, _gauntlet(doc))
    assertions = _assertions(doc)
    results = _results(doc, list(policies))
    sections = [
        _assertions_section(assertions),
        _visit_section(doc, style),
        _request_section(doc, style),
        _drift_section(doc, style),
        *_metric_sections(results, style, assertions),
        _setup_section(doc),
    ]
    seeds = doc.items_of("seeds")
    lead = [
        doc.string("description", default="", nonempty=False).strip(),
        f"{len(policies)} policies × {len(seeds)} seeds × {doc.integer('episodes', low=1)} "
        f"visits per seed · from {doc.string('source', default='?')}",
    ]
    failed = sum(not a["passed"] for a in assertions)
    gamed = sum(bool(a["gamed_by"]) for a in assertions)
    if assertions:
        text = f"{len(assertions) - failed} of {len(assertions)} assertions passed"
        text += f"; {gamed} gamed by a degenerate policy" if gamed else ""
        kind = "fail" if failed or gamed else "pass"
        verdict = f'<div class="verdict {kind}">{text}</div>'
    else:
        verdict = '<div class="verdict pass">no assertions</div>'
    return page(f"Scenario: {name}", lead, sections, header_html=verdict)


@dataclass(frozen=True)
class _Style:
    """How each policy is drawn: its colour and label, dashed if it cheats, faint if it
    is one of the gauntlet's degenerate policies (there to be beaten, not compared)."""

    colors: dict[str, str]
    labels: dict[str, str]
    cheats: set[str]
    faint: set[str] = field(default_factory=set)


def _policies(doc: Fields) -> dict[str, str]:
    """Policy label -> built-in policy name, in the file's order."""
    table_ = doc.child("policies")
    out = {}
    for label in table_:
        out[label] = table_.child(label).string("policy")
    if not out:
        table_.fail_here("expected at least one policy")
    return out


def _gauntlet(doc: Fields) -> set[str]:
    """Labels of the degenerate policies ``gauntlet: true`` added (drawn faint)."""
    table_ = doc.child("policies")
    return {label for label in table_ if table_.child(label).boolean("gauntlet", False)}


def _assertions(doc: Fields) -> list[dict[str, Any]]:
    out = []
    for i, value in doc.items_of("assertions", []):
        entry = doc.element("assertions", i, value)
        out.append(
            {
                "check": entry.string("check"),
                "passed": entry.boolean("passed"),
                "margin": optional_number(entry, "margin"),
                "message": entry.string("message", default="", nonempty=False),
                "gamed_by": _gamed_by(entry),
            }
        )
    return out


def _gamed_by(entry: Fields) -> list[str]:
    """One line per gauntlet policy that passed the assertion in an endorsed one's place."""
    out = []
    for i, value in entry.items_of("gamed_by", []):
        gamed = entry.element("gamed_by", i, value)
        margin = optional_number(gamed, "margin")
        out.append(
            f"gamed: {gamed.string('policy')} in place of {gamed.string('in_place_of')} "
            f"also passes (margin {margin:+.4g})"
        )
    return out


def _results(doc: Fields, policies: list[str]) -> dict[str, dict[str, dict[str, bars.Estimate]]]:
    """behaviour -> metric -> policy -> estimate (behaviours and metrics in file order)."""
    results = doc.child("results")
    out: dict[str, dict[str, dict[str, bars.Estimate]]] = {}
    for policy in results:
        if policy not in policies:
            results.fail(policy, f"a policy not in 'policies' ({', '.join(policies)})")
        behaviours = results.child(policy)
        for behaviour in behaviours:
            metrics = behaviours.child(behaviour)
            for metric in metrics:
                figure = metrics.child(metric)
                estimate = bars.Estimate(
                    policy,
                    optional_number(figure, "mean"),
                    optional_number(figure, "ci_low"),
                    optional_number(figure, "ci_high"),
                )
                out.setdefault(behaviour, {}).setdefault(metric, {})[policy] = estimate
    return out


# -- sections -----------------------------------------------------------------------------
def _assertions_section(assertions: list[dict[str, Any]]) -> Section:
    section = Section("assertions", "Assertions")
    if not assertions:
        return section.note("This scenario has no assertions.")
    section.text(
        "Each assertion must hold on the 95% intervals over seeds, not only on the means. "
        "The margin is the gap between the bounds compared: positive when it holds, and "
        "how far short it fell when it fails."
    )
    rows = []
    for a in assertions:
        badge = f'<span class="badge {"pass" if a["passed"] else "fail"}">'
        badge += ("PASS" if a["passed"] else "FAIL") + "</span>"
        if a["gamed_by"]:
            badge += ' <span class="badge gamed">GAMED</span>'
        margin = "n/a" if math.isnan(a["margin"]) else f"{a['margin']:+.4g}"
        lines = [*a["message"].splitlines()[1:], *a["gamed_by"]]
        detail = "<br>".join(escape(line.strip()) for line in lines)
        rows.append([badge, f"<code>{escape(a['check'])}</code>", escape(margin), detail])
    return section.html(
        table(
            ["result", "assertion", "margin", "figures"],
            rows,
            [False, False, True, False],
            raw=True,
        )
    )


def _visit_section(doc: Fields, style: _Style) -> Section:
    section = Section("visit", "Over the visit")
    curves = _curves(doc, "turn_intervals", "turn")
    if curves is None:
        return section.note(
            "This result file has no per-turn intervals (turn_intervals); re-run the "
            "scenario with this simrec version to get the per-turn charts."
        )
    section.text(f"Per turn of the visit, per policy. {BAND_NOTE}", "muted")
    _shared_legend(section, style)
    ordered = [c for c in CURVES if _any_column(curves, c)]
    ordered += sorted(c for c in _all_columns(curves) if c not in CURVES)
    charts = []
    for column in ordered:
        title, ylabel, share, caption = CURVES.get(
            column, (column.replace("_", " ").capitalize() + " by turn", column, False, "")
        )
        axes = plots.Axes("turn (slate shown)", ylabel, share=share, from_zero=column == "sessions")
        charts.append(
            plots.line_chart(title, _series(curves, column, style), axes, caption=caption)
        )
    return section.charts(charts)


def _request_section(doc: Fields, style: _Style) -> Section:
    section = Section("steering", "After a request")
    curves = _curves(doc, "request_intervals", "offset")
    if curves is None or not _any_positive(curves, "requests"):
        return section
    window = Fields(doc.raw("settings", {}), ReportError, doc.source, path=("settings",))
    section.text(
        "Slates aligned on each steering request: offset 0 is the slate the user answered "
        "with the request, 1 the first slate after it. Slates before it are scored against "
        "the same request, so a policy that showed such items all along is flat, and one "
        f"that listens jumps after 0. {BAND_NOTE}",
        "muted",
    )
    if "steer_window" in window:
        section.text(f"steer_window: {window.integer('steer_window')} slates.", "muted")
    _shared_legend(section, style)
    marks = [plots.Mark(0.5, "request")]
    charts = []
    for column, (title, ylabel, share) in REQUEST_CURVES.items():
        if _any_column(curves, column):
            axes = plots.Axes("slates since the request turn", ylabel, share=share)
            charts.append(
                plots.line_chart(title, _series(curves, column, style), axes, marks=marks)
            )
    return section.charts(charts)


def _drift_section(doc: Fields, style: _Style) -> Section:
    section = Section("drift", "Around the drift")
    drift = doc.integer("drift_turn", default=None, low=0)
    curves = _curves(doc, "turn_intervals", "turn")
    if drift is None or curves is None:
        return section
    settings = Fields(doc.raw("settings", {}), ReportError, doc.source, path=("settings",))
    window = settings.integer("drift_window", default=4, low=1)
    lag = settings.integer("drift_lag", default=2, low=0)
    low, high = max(1, drift - window - 1), drift + lag + window + 1
    spans = [
        plots.Span(drift - window + 0.5, drift + 0.5, "before", "#9ecae1"),
        plots.Span(drift + 0.5, drift + lag + 0.5, "dip", "#fdae6b"),
        plots.Span(drift + lag + 0.5, drift + lag + window + 0.5, "after", "#a1d99b"),
    ]
    marks = [plots.Mark(drift + 0.5, "tastes change")]
    cut = [_cut(s, low, high) for s in _series(curves, "ctr", style)]
    axes = plots.Axes("turn (slate shown)", "slates with a click", share=True)
    section.text(
        f"Users' tastes change after slate {drift}. Shaded: the windows the drift metrics "
        f"average over: drift_window = {window} slates before, drift_lag = {lag} right "
        f"after, drift_window after those. {BAND_NOTE}",
        "muted",
    )
    _shared_legend(section, style)
    chart = plots.line_chart("CTR around the drift", cut, axes, marks=marks, spans=spans, wide=True)
    return section.charts([chart], wide=True)


def _metric_sections(
    results: dict[str, dict[str, dict[str, bars.Estimate]]],
    style: _Style,
    assertions: list[dict[str, Any]],
) -> list[Section]:
    thresholds: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for a in assertions:
        match = _THRESHOLD.match(a["check"])
        if match:
            _, behaviour, metric, op, value = match.groups()
            thresholds.setdefault((behaviour, metric), []).append((float(value), f"{op} {value}"))
    sections = []
    for behaviour, metrics in results.items():
        section = Section(f"metrics-{behaviour}", f"Metrics: {behaviour.replace('_', ' ')}")
        panels, empty = [], []
        for metric, by_policy in metrics.items():
            estimates = [
                bars.Estimate(style.labels[p], e.mean, e.low, e.high, style.colors[p])
                for p, e in by_policy.items()
            ]
            if all(math.isnan(e.mean) for e in estimates):
                empty.append(metric)
                continue
            panels.append(bars.Panel(metric, estimates, thresholds.get((behaviour, metric), ())))
        if panels:
            section.text(
                "Bars: mean over seeds; whiskers and brackets: 95% interval over seeds; "
                "dashed lines: assertion thresholds.",
                "muted",
            )
            section.html(bars.panels(panels))
        if empty:
            section.note(f"Nothing to measure in this scenario: {', '.join(empty)}.")
        sections.append(section)
    return sections


def _setup_section(doc: Fields) -> Section:
    section = Section("setup", "Policies and settings")
    policies = doc.child("policies")
    rows = []
    for label in policies:
        spec = policies.child(label)
        params = spec.raw("params", {})
        load = spec.raw("load", None)
        rows.append([label, spec.string("policy"), as_json(params) if params else "", load or ""])
    section.html(table(["label", "policy", "parameters", "loaded from"], rows))
    settings = doc.raw("settings", {})
    seeds = [v for _, v in doc.items_of("seeds")]
    facts = [
        ("seeds", ", ".join(str(s) for s in seeds)),
        ("visits per seed", str(doc.raw("episodes"))),
    ]
    if isinstance(settings, dict):
        facts += [(k, as_json(v)) for k, v in settings.items()]
    return section.html(definition_table(facts))


def _shared_legend(section: Section, style: _Style) -> None:
    """One legend above a section's charts when there are too many policies for each
    chart to carry its own."""
    if len(style.colors) > plots.MAX_LEGEND:
        section.html(
            legend(
                [
                    (style.labels[p], c, p in style.cheats, p in style.faint)
                    for p, c in style.colors.items()
                ]
            )
        )


# -- curves -------------------------------------------------------------------------------
def _curves(doc: Fields, key: str, index_name: str) -> Curves | None:
    """Read ``turn_intervals`` / ``request_intervals``: per policy, index and columns."""
    if key not in doc or doc.raw(key, None) is None:
        return None
    block = doc.child(key)
    index, columns = {}, {}
    for policy in block:
        entry = block.child(policy)
        idx = number_lists(entry, [index_name])[index_name]
        index[policy] = idx
        columns[policy] = {}
        for column in entry:
            if column == index_name:
                continue
            stats = entry.child(column)
            values = number_lists(stats, ["mean", "ci_low", "ci_high"], length=len(idx))
            columns[policy][column] = values
    return Curves(index, columns)


def _all_columns(curves: Curves) -> list[str]:
    seen: dict[str, None] = {}
    for by_column in curves.columns.values():
        seen.update(dict.fromkeys(by_column))
    return list(seen)


def _any_column(curves: Curves, column: str) -> bool:
    return any(
        column in c and np.isfinite(c[column]["mean"]).any() for c in curves.columns.values()
    )


def _any_positive(curves: Curves, column: str) -> bool:
    return any(
        column in c and (np.nan_to_num(c[column]["mean"]) > 0).any()
        for c in curves.columns.values()
    )


def _series(curves: Curves, column: str, style: _Style) -> list[plots.Series]:
    out = []
    for policy, by_column in curves.columns.items():
        if column not in by_column:
            continue
        stats = by_column[column]
        out.append(
            plots.Series(
                style.labels.get(policy, policy),
                curves.index[policy],
                stats["mean"],
                stats["ci_low"],
                stats["ci_high"],
                color=style.colors.get(policy, plots.PALETTE[0]),
                dashed=policy in style.cheats,
                faint=policy in style.faint,
            )
        )
    return out


def _cut(series: plots.Series, low: float, high: float) -> plots.Series:
    keep = (series.x >= low) & (series.x <= high)
    return plots.Series(
        series.label,
        series.x[keep],
        series.y[keep],
        None if series.low is None else series.low[keep],
        None if series.high is None else series.high[keep],
        series.color,
        series.dashed,
        series.faint,
    )
