"""Intervals over seeds, as the report prints them."""

from __future__ import annotations

import math

from simrec.stats import Interval, interval


def test_floating_point_noise_prints_as_zero():
    # three seeds that agree up to rounding: the interval is 0 wide, not "± 1.1e-16"
    same = interval([0.1 + 0.2, 0.3, 0.3])
    assert str(same) == "0.3 ± 0"
    assert str(Interval(1e-17, -1e-16, 1e-16, 3)) == "0 ± 0"
    assert str(interval([0.25, 0.75])).startswith("0.5 ± ")  # a real spread is kept
    assert str(interval([0.25, 0.75])) != "0.5 ± 0"


def test_no_values_and_one_value_say_so():
    assert str(interval([])) == "n/a"
    assert str(interval([math.nan, 0.5])) == "0.5 (n=1)"
