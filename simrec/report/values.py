"""Reading numbers out of result JSON with errors that name the file and the field.

Result files write a figure that could not be measured as ``null``; a report draws it
as a gap (NaN), never as zero. Anything else that is not a number is an error naming
the field, e.g. ``results/x.json: field 'results.mmr.novelty.ild.mean': expected a
number or null, got 'high'``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simrec.validation import Fields, describe


def _number(fields: Fields, path: tuple[str | int, ...], value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fields.fail_at(path, f"expected a number or null, got {describe(value)}")
    return float(value)


def optional_number(fields: Fields, key: str) -> float:
    """The number at ``key``; NaN when it is null or absent."""
    return _number(fields, (key,), fields.raw(key, None))


def number_lists(
    fields: Fields, keys: Sequence[str], length: int | None = None
) -> dict[str, np.ndarray]:
    """The lists of numbers (or nulls) at ``keys`` as float arrays of one length."""
    out = {}
    for key in keys:
        values = fields.raw(key)
        if not isinstance(values, list):
            fields.fail(key, f"expected a list of numbers, got {describe(values)}")
        if length is not None and len(values) != length:
            fields.fail(key, f"expected {length} values (one per row), got {len(values)}")
        out[key] = np.array([_number(fields, (key, i), v) for i, v in enumerate(values)], float)
    return out


def as_json(value: Any) -> str:
    """A compact, stable rendering of a setting or parameter value."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)
