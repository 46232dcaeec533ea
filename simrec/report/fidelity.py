"""The fidelity report: how close simulated users are to real ones, from ``fidelity.json``.

``simrec fidelity`` writes its protocol's figures (``accuracy_1_1``,
``accuracy_1_1_popular_negatives``, ``f1_1_9``, ``auc``, ``ndcg_10``, ``genre_tv``,
``kendall_tau`` ...), baselines and the simulated-vs-real distributions. The page reads
the file by shape, so a figure or table added to it appears without a change here:

* top-level numbers: the headline table;
* a mapping of rows to mappings of numbers (``{"random": {"auc": 0.5, ...}, ...}``) or a
  list of records (``[{"policy": "mf", "ndcg_10": 0.2}, ...]``): a table;
* a mapping with ``real`` and ``simulated`` entries: a chart comparing them, bars when
  they map categories to shares (genres), lines when they are lists of numbers (a
  popularity distribution, over a sibling ``bins``, ``x`` or ``percentiles`` list when
  there is one);
* another mapping: walked into (``policy_ranking.policies`` is a table, ``protocol.seed``
  a setting);
* anything else (settings, the data set's name): the run's settings table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simrec.errors import ReportError
from simrec.report import plots
from simrec.report.page import Section, definition_table, escape, page, table
from simrec.report.values import as_json
from simrec.validation import describe

REAL, SIMULATED = "real", "simulated"
AXES = ("bins", "x", "percentiles", "percentile", "edges")
TOP_CATEGORIES = 20
COLORS = {REAL: "#555555", SIMULATED: "#0072B2"}


def render_fidelity(data: Any, source: str) -> str:
    """The HTML page of one ``fidelity.json`` (parsed).

    Raises:
        ReportError: the file is not a JSON object.
    """
    if not isinstance(data, Mapping):
        raise ReportError(f"{source}: expected a JSON object of fidelity figures")
    parts = _Parts()
    for key, value in data.items():
        _sort(key, value, source, parts, depth=0)
    own = str(data.get("brain") or "simulated users")
    settings = Section("settings", "Settings")
    if parts.settings:
        settings.html(definition_table(parts.settings))
    sections = [
        _headline(parts.headline),
        _tables(parts.tables, dict(parts.headline), own),
        Section("distributions", "Simulated vs real").charts(parts.charts),
        settings,
    ]
    about = data.get("data")
    name = data.get("dataset") or (about.get("source") if isinstance(about, Mapping) else None)
    lead = [
        "How closely the simulated users' choices match real users' held-out choices, "
        "with the baselines on the same split.",
        f"From {source}",
    ]
    title = "Fidelity" + (f": {name}" if isinstance(name, str) and name else "")
    return page(title, lead, sections)


@dataclass
class _Parts:
    """What the page shows, sorted by shape (see the module docstring)."""

    headline: list[tuple[str, Any]] = field(default_factory=list)
    tables: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    charts: list[plots.Chart] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)


def _sort(key: str, value: Any, source: str, parts: _Parts, depth: int) -> None:
    """Put ``value`` (at dotted ``key``) where its shape belongs; mappings are walked into
    (two levels), so ``policy_ranking.policies`` is a table and ``protocol.seed`` a setting."""
    rows = _rows_of_numbers(value)
    if _is_number(value) and depth == 0:
        parts.headline.append((key, value))
    elif _is_comparison(value):
        parts.charts.append(_comparison(key, value, _Where(source, key)))
    elif rows is not None:
        parts.tables.append((key, rows))
    elif isinstance(value, Mapping) and value and depth < 2:
        for k, v in value.items():
            _sort(f"{key}.{k}", v, source, parts, depth + 1)
    else:
        parts.settings.append((key, as_json(value)))


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _is_comparison(value: Any) -> bool:
    return isinstance(value, Mapping) and REAL in value and SIMULATED in value


def _rows_of_numbers(value: Any) -> list[dict[str, Any]] | None:
    """``value`` as table rows, when it is a mapping or list of records of mostly numbers."""
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        rows = [{"": k, **v} for k, v in value.items()]
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        rows = [dict(v) for v in value]
    else:
        return None
    cells = [c for row in rows for c in row.values()]
    numbers = sum(_is_number(c) for c in cells)
    return rows if numbers * 2 >= len(cells) else None


def _headline(figures: list[tuple[str, Any]]) -> Section:
    section = Section("figures", "Figures")
    if not figures:
        return section
    rows = [[key, _format(value)] for key, value in figures]
    return section.html(table(["figure", "value"], rows, [False, True]))


def _tables(
    tables: list[tuple[str, list[dict[str, Any]]]], headline: dict[str, Any], own: str
) -> Section:
    """One table per block; a table of the headline's figures (the baselines) gets the
    simulated users' own row first, so the brain and its baselines read as one table."""
    section = Section("tables", "Protocol tables")
    for name, rows in tables:
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        figures = [c for c in columns if c != ""]
        shared = [c for c in figures if c in headline]
        if "" in columns and shared and 2 * len(shared) >= len(figures):
            rows = [{"": own, **{c: headline.get(c) for c in figures}}, *rows]
        header = list(columns)
        body = [[_format(row.get(c)) for c in header] for row in rows]
        numeric = [all(_is_number(row.get(c)) for row in rows) for c in header]
        section.html(f"<h3>{escape(name.replace('_', ' '))}</h3>")
        section.html(table(header, body, numeric))
    return section


def _format(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return as_json(value)
    if isinstance(value, int):
        return f"{value:,}"
    return "n/a" if math.isnan(value) else f"{value:.4g}"


@dataclass(frozen=True)
class _Where:
    """A field of the file, for error messages: ``fidelity.json: field 'a.b'``."""

    source: str
    key: str

    def __call__(self, part: str = "") -> str:
        return f"{self.source}: field '{self.key}{'.' + part if part else ''}'"


def _comparison(name: str, value: Mapping[str, Any], where: _Where) -> plots.Chart:
    """A chart of ``value``'s real and simulated entries; ``where`` names it in errors."""
    real, simulated = value[REAL], value[SIMULATED]
    title = name.replace("_", " ").capitalize()
    if isinstance(real, Mapping) and isinstance(simulated, Mapping):
        return _category_bars(title, real, simulated, where)
    if isinstance(real, list) and isinstance(simulated, list):
        x_key = next((k for k in AXES if isinstance(value.get(k), list)), None)
        return _distribution_lines(title, real, simulated, value.get(x_key), x_key, where)
    raise ReportError(
        f"{where()}: expected 'real' and 'simulated' both mappings of category -> share or both "
        "lists of numbers"
    )


def _edge(value: float, percent: bool) -> str:
    return f"{100 * value:.0f}%" if percent else f"{value:.3g}"


def _numbers(values: Any, where: str) -> np.ndarray:
    """Floats of a list (null: NaN), or an error naming ``where``."""
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        raise ReportError(f"{where}: expected numbers, got {describe(values)}") from None


def _category_bars(
    title: str, real: Mapping[str, Any], simulated: Mapping[str, Any], where: _Where
) -> plots.Chart:
    categories = list(dict.fromkeys([*real, *simulated]))
    r = _numbers([real.get(c, 0.0) for c in categories], where(REAL))
    s = _numbers([simulated.get(c, 0.0) for c in categories], where(SIMULATED))
    order = np.argsort(-np.nan_to_num(r), kind="stable")[:TOP_CATEGORIES]
    shown = [categories[i] for i in order]
    tv = 0.5 * float(np.nansum(np.abs(r - s)))
    caption = f"Share per category, largest real first. Total variation distance {tv:.3f}."
    if len(categories) > TOP_CATEGORIES:
        caption += f" The top {TOP_CATEGORIES} of {len(categories)} categories are shown."
    share = bool(np.nansum(r) <= 1.0 + 1e-6 and np.nanmin(np.r_[r, s, 0.0]) >= 0)
    return plots.bar_chart(
        title,
        shown,
        [
            plots.Bars(REAL, r[order], COLORS[REAL]),
            plots.Bars(SIMULATED, s[order], COLORS[SIMULATED]),
        ],
        plots.Axes("", "share" if share else "value", share=share),
        caption=caption,
        rotate=len(shown) > 6,
    )


def _distribution_lines(
    title: str,
    real: list[Any],
    simulated: list[Any],
    x: Any,
    x_key: str | None,
    where: _Where,
) -> plots.Chart:
    r = _numbers(real, where(REAL))
    s = _numbers(simulated, where(SIMULATED))
    xs = _numbers(x, where(str(x_key))) if x is not None else np.arange(1, len(r) + 1.0)
    if len(xs) == len(r) + 1 and len(r) == len(s):  # bin edges: a histogram of both
        percent = bool(xs.min() >= 0 and xs.max() <= 1)
        labels = [
            f"{_edge(a, percent)}–{_edge(b, percent)}" for a, b in zip(xs[:-1], xs[1:], strict=True)
        ]
        return plots.bar_chart(
            title,
            labels,
            [plots.Bars(REAL, r, COLORS[REAL]), plots.Bars(SIMULATED, s, COLORS[SIMULATED])],
            plots.Axes(str(x_key), "share", share=bool(np.nansum(r) <= 1.0 + 1e-6)),
            caption="Share per bin, real and simulated.",
            rotate=len(labels) > 6,
        )
    if len(xs) != len(r) or len(r) != len(s):
        raise ReportError(
            f"{where()}: 'real' ({len(r)}), 'simulated' ({len(s)}) and "
            f"'{x_key or 'x'}' ({len(xs)}) must have one value per point"
        )
    return plots.line_chart(
        title,
        [
            plots.Series(REAL, xs, r, color=COLORS[REAL]),
            plots.Series(SIMULATED, xs, s, color=COLORS[SIMULATED], dashed=True),
        ],
        plots.Axes(x_key or "point", "value", integer_x=False),
        caption="Real (solid) and simulated (dashed) distributions on the same points.",
    )
