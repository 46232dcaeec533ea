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
* anything else (settings, the data set's name): the run's settings table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simrec.errors import ReportError
from simrec.report import plots
from simrec.report.page import Section, definition_table, page, table
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
    headline, tables, charts, settings = [], [], [], []
    for key, value in data.items():
        if _is_number(value):
            headline.append((key, value))
        elif _is_comparison(value):
            charts.append(_comparison(key, value, _Where(source, key)))
        elif isinstance(value, Mapping) and any(_is_comparison(v) for v in value.values()):
            charts += [
                _comparison(f"{key}: {k}", v, _Where(source, f"{key}.{k}"))
                for k, v in value.items()
                if _is_comparison(v)
            ]
            rest = {k: v for k, v in value.items() if not _is_comparison(v)}
            settings += [(f"{key}.{k}", as_json(v)) for k, v in rest.items()]
        elif _rows_of_numbers(value) is not None:
            tables.append((key, _rows_of_numbers(value)))
        else:
            settings.append((key, as_json(value)))
    own = str(data.get("brain") or "simulated users")
    sections = [
        _headline(headline),
        _tables(tables, dict(headline), own),
        Section("distributions", "Simulated vs real").charts(charts),
        Section("settings", "Settings").html(definition_table(settings))
        if settings
        else Section("settings", "Settings"),
    ]
    name = data.get("dataset") or data.get("data") or ""
    lead = [
        "How closely the simulated users' choices match real users' held-out choices, "
        "with the baselines on the same split.",
        f"From {source}",
    ]
    title = "Fidelity" + (f": {name}" if isinstance(name, str) and name else "")
    return page(title, lead, sections)


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
        if "" in columns and figures and all(c in headline for c in figures):
            rows = [{"": own, **{c: headline[c] for c in figures}}, *rows]
        header = list(columns)
        body = [[_format(row.get(c)) for c in header] for row in rows]
        numeric = [all(_is_number(row.get(c)) for row in rows) for c in header]
        section.html(f"<h3>{name.replace('_', ' ')}</h3>")
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
    if x is not None:
        xs = _numbers(x, where(str(x_key)))
        if len(xs) == len(r) + 1:  # bin edges: plot at the bins' centres
            xs = (xs[:-1] + xs[1:]) / 2
    else:
        xs = np.arange(1, len(r) + 1, dtype=float)
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
