"""Metric panels: per metric, a bar per policy with its 95% whisker and the numbers, in HTML.

A scenario reports thirty-odd metrics; drawn as matplotlib axes they would cost most of
a report's time (each axes lays out its own ticks), while these bars are a few
positioned boxes the browser draws at once. The exact figures sit beside each bar, so
nobody has to read a value off an axis. Each panel has its own scale from the lowest
to the highest bound (always including 0), so bars start at 0 and negative values
(slopes, recovery) extend to the left.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simrec.report.page import escape


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval (NaN bounds: unknown, e.g. from a single seed)."""

    label: str
    mean: float
    low: float
    high: float
    color: str = "#0072B2"


@dataclass(frozen=True)
class Panel:
    """One metric: an estimate per policy, and reference values (assertion thresholds)."""

    title: str
    estimates: Sequence[Estimate]
    references: Sequence[tuple[float, str]] = ()


def panels(items: Sequence[Panel]) -> str:
    """The panels in a responsive grid."""
    return '<div class="panels">' + "".join(panel(p) for p in items) + "</div>"


def panel(item: Panel) -> str:
    """One metric's bars as an HTML block (class ``plot`` like every chart on the page)."""
    low, high = _domain(item)

    def at(value: float) -> float:
        return (value - low) / (high - low) * 100.0

    rows = []
    for e in item.estimates:
        rows.append(
            '<div class="bar-row">'
            f'<span class="name" title="{escape(e.label)}">{escape(e.label)}</span>'
            f'<span class="track">{_marks(e, at, item.references)}</span>'
            f'<span class="value">{_figure(e)}</span></div>'
        )
    refs = ", ".join(label for _, label in item.references)
    note = f' <span class="refs">dashed: {escape(refs)}</span>' if refs else ""
    scale = (
        f'<div class="bar-row"><span></span><span class="scale">'
        f'<span style="left:0">{_number(low)}</span>'
        + (
            f'<span style="left:{at(0.0):.2f}%;transform:translateX(-50%)">0</span>'
            if 0.15 < (0.0 - low) / (high - low) < 0.85
            else ""
        )
        + f'<span style="right:0">{_number(high)}</span></span><span></span></div>'
    )
    return (
        f'<div class="panel plot"><h3>{escape(item.title)}{note}</h3>'
        + "".join(rows)
        + scale
        + "</div>"
    )


def _marks(
    e: Estimate, place: Callable[[float], float], references: Sequence[tuple[float, str]]
) -> str:
    zero = place(0.0)
    out = f'<span class="zero" style="left:{zero:.2f}%"></span>'
    if math.isnan(e.mean):
        out += '<span class="na">n/a</span>'
    else:
        end = place(e.mean)
        left, width = min(zero, end), abs(end - zero)
        out += (
            f'<span class="bar" style="left:{left:.2f}%;width:{width:.2f}%;'
            f'background:{escape(e.color)}"></span>'
        )
        if math.isfinite(e.low) and math.isfinite(e.high):
            a, b = place(e.low), place(e.high)
            out += (
                f'<span class="whisker" style="left:{a:.2f}%;width:{max(b - a, 0.0):.2f}%"></span>'
            )
    for value, _ in references:
        out += f'<span class="ref" style="left:{place(value):.2f}%"></span>'
    return out


def _domain(item: Panel) -> tuple[float, float]:
    """The panel's scale: from the lowest to the highest value or bound, always with 0,
    widened to two significant digits so its ends read as round numbers."""
    values = [0.0]
    for e in item.estimates:
        values += [v for v in (e.mean, e.low, e.high) if math.isfinite(v)]
    values += [v for v, _ in item.references if math.isfinite(v)]
    low, high = _round_out(min(values), math.floor), _round_out(max(values), math.ceil)
    if high - low <= 0:
        high = low + 1.0
    return low, high


def _round_out(value: float, direction: Callable[[float], int]) -> float:
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    return direction(value / step) * step


def _number(value: float) -> str:
    return f"{value:.3g}"  # 3 significant digits: a 95% interval over seeds is rarely finer


def _figure(e: Estimate) -> str:
    if math.isnan(e.mean):
        return "<small>nothing measured</small>"
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return f"{_number(e.mean)} <small>(one seed: no interval)</small>"
    return f"{_number(e.mean)} <small>[{_number(e.low)}, {_number(e.high)}]</small>"
