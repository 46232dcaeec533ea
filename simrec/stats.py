"""Means with 95% intervals over seeds: how every scenario figure is reported.

A scenario runs each policy on several seeds (each seed a batch of sessions) and
summarises each metric by its mean over seeds and a Student-t 95% confidence interval,
so that an assertion such as "MMR earns more than greedy" can be required to hold for
the whole interval, not just the means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Two-sided 95% Student-t quantiles t(0.975, df) for df = 1..30 (beyond: 1.96 + small term).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (``df >= 1``)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; error < 1e-3 for df > 30.
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Interval:
    """Mean and 95% interval of a metric over ``n`` seeds (NaN seeds are left out).

    With fewer than two seeds the interval is unbounded (``-inf, inf``): nothing can be
    claimed about the spread, so no interval-based assertion can pass on it.
    """

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width (``inf`` when unbounded)."""
        return (self.high - self.low) / 2.0

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-friendly form (NaN and infinities become ``None``)."""
        return {
            "mean": finite_or_none(self.mean),
            "ci_low": finite_or_none(self.low),
            "ci_high": finite_or_none(self.high),
            "n": self.n,
        }

    def __str__(self) -> str:
        if math.isnan(self.mean):
            return "n/a"
        mean = _denoised(self.mean, 1.0)
        if not math.isfinite(self.half_width):
            return f"{mean:.3g} (n={self.n})"
        return f"{mean:.3g} ± {_denoised(self.half_width, max(1.0, abs(self.mean))):.2g}"


def _denoised(value: float, scale: float) -> float:
    """``value``, or 0 when it is floating-point noise at ``scale`` (seeds that agree exactly
    give a half-width of 1e-16, not a spread anyone should read)."""
    return 0.0 if abs(value) < 1e-9 * scale else value


def interval(values: Iterable[float]) -> Interval:
    """Mean and Student-t 95% interval of ``values`` (one per seed; NaNs ignored)."""
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        return Interval(math.nan, -math.inf, math.inf, 0)
    mean = float(arr.mean())
    if n == 1:
        return Interval(mean, -math.inf, math.inf, 1)
    half = t_quantile_975(n - 1) * float(arr.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def finite_or_none(x: float | None) -> float | None:
    """``x`` as a float, or ``None`` for NaN, infinities and ``None`` (JSON has no NaN)."""
    return float(x) if x is not None and math.isfinite(x) else None
