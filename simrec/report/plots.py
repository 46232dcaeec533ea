"""Charts for reports: matplotlib figures rendered to SVG text.

Why matplotlib and SVG: the page must open anywhere, offline, years later, and print.
Static SVG needs no JavaScript (nothing to fail at load time, no console errors), stays
sharp at any zoom, and a chart of a few policies over twenty turns is a few tens of
kilobytes. matplotlib is the best-kept plotting library in Python and is only imported
here, lazily, so the core of simrec installs and imports without it (extra ``report``).

Every chart is drawn in a fixed style (:data:`STYLE`, applied with ``rc_context`` so a
user's own matplotlib settings are neither used nor changed) and is deterministic: the
same data gives the same SVG bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simrec.errors import ReportError

INSTALL_HINT = "pip install 'simrec[report]'"

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small files, selectable, the browser's font
    "svg.hashsalt": "simrec-report",  # deterministic clip-path ids
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#999999",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.frameon": False,
    "legend.fontsize": 9.5,
    "lines.linewidth": 1.8,
    "figure.dpi": 100,
}

PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#332288", "#E69F00", "#56B4E9",
    "#882255", "#117733", "#999933", "#44AA99", "#AA4499", "#6699CC", "#DDCC77",
    "#661100", "#888888",
)  # fmt: skip
"""Okabe-Ito's colour-blind-safe colours (no yellow; neighbours far apart), then Tol's muted set."""

MAX_LEGEND = 8
"""More series than this get no in-chart legend and no point markers: the page shows one
legend for all its charts instead (drawing fifteen legends would cost a third of a
report's time and crowd each chart)."""

REFERENCE_COLOR = "#444444"
BAND_ALPHA = 0.15


def colors_for(labels: Sequence[str]) -> dict[str, str]:
    """One colour per label, in order, the same in every chart of a page."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def _matplotlib() -> Any:
    """matplotlib's ``Figure`` class (and the SVG backend), or a :class:`ReportError`."""
    try:
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportError(f"reports need matplotlib: {INSTALL_HINT}") from None
    return Figure, FigureCanvasSVG


def require() -> None:
    """Raise :class:`ReportError` (with the install command) if matplotlib is missing."""
    _matplotlib()


def available() -> bool:
    """Whether charts can be drawn (matplotlib is installed)."""
    try:
        _matplotlib()
    except ReportError:
        return False
    return True


@dataclass(frozen=True)
class Chart:
    """A rendered chart: SVG text, with what a reader (and a screen reader) needs to know."""

    title: str
    svg: str
    caption: str = ""
    alt: str = ""


@dataclass(frozen=True)
class Series:
    """One line of a line chart, with an optional 95% band (NaN where unknown)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    color: str = PALETTE[0]
    dashed: bool = False
    faint: bool = False  # thin, light and without a band: a reference, not a contender


@dataclass(frozen=True)
class Span:
    """A shaded x range with a label (e.g. the slates a drift metric averages over)."""

    start: float
    end: float
    label: str
    color: str = "#bbbbbb"


@dataclass(frozen=True)
class Mark:
    """A vertical line at ``x`` with a label (e.g. "request")."""

    x: float
    label: str


@dataclass
class Axes:
    """What the axes of a chart say."""

    xlabel: str
    ylabel: str
    share: bool = False  # y is a share: 0 .. 1 shown as 0% .. 100%
    from_zero: bool = False  # y starts at 0 (counts); shares always do
    integer_x: bool = True
    log_y: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _new(width: float, height: float) -> tuple[Any, Any]:
    figure_cls, canvas_cls = _matplotlib()
    fig = figure_cls(figsize=(width, height))
    canvas_cls(fig)
    return fig, fig.add_subplot()


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return compact(buffer.getvalue())


_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|width|height|transform|points)="([^"]*)"')
_LONG_NUMBER = re.compile(r"(-?\d+\.\d\d)\d+")


def compact(svg: str) -> str:
    """matplotlib's SVG made small for embedding: no prolog or metadata, no indentation,
    coordinates to 1/100 of a point (invisible on screen, about half the bytes)."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r">\s+<", "><", svg)
    return _GEOMETRY.sub(_round_attribute, svg)


def _round_attribute(match: re.Match[str]) -> str:
    value = _LONG_NUMBER.sub(r"\1", " ".join(match.group(2).split()))
    return f'{match.group(1)}="{value}"'


def _rc() -> Any:
    import matplotlib

    return matplotlib.rc_context(STYLE)


def _format_axes(ax: Any, axes: Axes) -> None:
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    ax.set_xlabel(axes.xlabel)
    ax.set_ylabel(axes.ylabel)
    if axes.integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    if axes.log_y:
        ax.set_yscale("log")
    if axes.share:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


WIDTH, HEIGHT = 6.4, 3.4
"""Inches: about the width a chart is shown at in a two-column page (1:1 text size)."""


def _layout(fig: Any, ax: Any, labels: Sequence[str], bottom: float = 0.55) -> None:
    """Fixed margins in inches (room for the y label) and a legend right of the plot,
    as wide as its longest label, so it never hides data."""
    width = fig.get_figwidth()
    legend = 0.0
    if labels:
        longest = max(len(label) for label in labels)
        columns = 1 if len(labels) <= 12 else 2
        legend = min(0.45 + 0.068 * longest, 2.4) * columns
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            ncol=columns,
            handlelength=1.6,
            borderaxespad=0.0,
        )
    height = fig.get_figheight()
    fig.subplots_adjust(
        left=0.8 / width,
        right=1 - (legend + 0.15) / width,
        bottom=bottom / height,
        top=1 - 0.12 / height,
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    axes: Axes,
    *,
    caption: str = "",
    marks: Sequence[Mark] = (),
    spans: Sequence[Span] = (),
    wide: bool = False,
    legend: bool | None = None,
) -> Chart:
    """Lines with shaded 95% bands, one per series, on shared axes.

    Args:
        title: the chart's heading.
        series: the lines; a NaN in ``y`` breaks the line, a NaN bound hides the band there.
        axes: axis labels and scales.
        caption: one sentence under the chart saying how to read it.
        marks: labelled vertical lines.
        spans: labelled shaded x ranges.
        wide: drawn for the full width of the page (twice as wide, same text size).
        legend: draw the legend in the chart (default: when at most :data:`MAX_LEGEND`
            series; otherwise the page shows a shared legend).
    """
    if legend is None:
        legend = len(series) <= MAX_LEGEND
    with _rc():
        fig, ax = _new(2 * WIDTH if wide else WIDTH, HEIGHT)
        for span in spans:
            ax.axvspan(span.start, span.end, color=span.color, alpha=0.18, lw=0, zorder=0)
            ax.annotate(
                span.label,
                xy=((span.start + span.end) / 2, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -2),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=8,
                color="#555555",
            )
        for mark in marks:
            ax.axvline(mark.x, color=REFERENCE_COLOR, lw=1.0, ls=(0, (4, 3)), zorder=1)
            ax.annotate(
                mark.label,
                xy=(mark.x, 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=8,
                color=REFERENCE_COLOR,
            )
        for s in series:
            if s.low is not None and s.high is not None and not s.faint:
                ax.fill_between(s.x, s.low, s.high, color=s.color, alpha=BAND_ALPHA, lw=0, zorder=2)
            ax.plot(
                s.x,
                s.y,
                color=s.color,
                ls="--" if s.dashed else "-",
                marker="o" if len(series) <= MAX_LEGEND else None,
                markersize=3,
                label=s.label,
                zorder=2.5 if s.faint else 3,
                lw=1.0 if s.faint else None,
                alpha=0.55 if s.faint else None,
            )
        _format_axes(ax, axes)
        if axes.share:  # a band over seeds can pass 100%; the share itself cannot
            ax.set_ylim(0, min(ax.get_ylim()[1], 1.05))
        elif axes.from_zero:
            ax.set_ylim(bottom=0)
        _layout(fig, ax, [s.label for s in series] if legend else [])
        svg = _svg(fig)
    return Chart(title, svg, caption, alt=f"{title}: {axes.ylabel} by {axes.xlabel}")


@dataclass(frozen=True)
class Bars:
    """One group of a bar chart (e.g. "clicks"), a value per category."""

    label: str
    values: np.ndarray
    color: str = PALETTE[0]


def bar_chart(
    title: str,
    categories: Sequence[str],
    groups: Sequence[Bars],
    axes: Axes,
    *,
    caption: str = "",
    stacked: bool = False,
    rotate: bool = False,
) -> Chart:
    """Vertical bars: one bar per category and group, side by side (or stacked); long
    category names are written at an angle (``rotate``)."""
    with _rc():
        fig, ax = _new(WIDTH, HEIGHT + (0.7 if rotate else 0.0))
        x = np.arange(len(categories))
        width = 0.8 if stacked else 0.8 / max(len(groups), 1)
        bottom = np.zeros(len(categories))
        for k, group in enumerate(groups):
            offset = 0.0 if stacked else (k - (len(groups) - 1) / 2) * width
            ax.bar(
                x + offset,
                group.values,
                width=width,
                bottom=bottom if stacked else None,
                color=group.color,
                label=group.label,
                zorder=2,
            )
            if stacked:
                bottom = bottom + group.values
        step = max(1, math.ceil(len(categories) / 12)) if not rotate else 1
        ax.set_xticks(x[::step], list(categories)[::step])
        if rotate:
            ax.tick_params(axis="x", labelrotation=40)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        ax.grid(axis="x", visible=False)
        _format_axes(ax, replace(axes, integer_x=False))
        labels = [g.label for g in groups] if len(groups) > 1 else []
        _layout(fig, ax, labels, bottom=1.25 if rotate else 0.55)
        svg = _svg(fig)
    return Chart(title, svg, caption, alt=f"{title}: {axes.ylabel} by {axes.xlabel}")


def rank_chart(
    title: str, series: Sequence[Series], axes: Axes, *, caption: str = "", log_x: bool = True
) -> Chart:
    """Values sorted from largest to smallest against their rank (a long tail), log-log."""
    with _rc():
        fig, ax = _new(WIDTH, HEIGHT)
        for s in series:
            ax.step(s.x, s.y, where="post", color=s.color, label=s.label)
        if log_x:
            ax.set_xscale("log")
        _format_axes(ax, replace(axes, integer_x=False))
        _layout(fig, ax, [s.label for s in series])
        svg = _svg(fig)
    return Chart(title, svg, caption, alt=f"{title}: {axes.ylabel} by {axes.xlabel}")
