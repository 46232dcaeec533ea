"""The shared validation rules: one answer for a NaN, a string or 2.7 wherever a number goes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from simrec.errors import ArgumentError, ConfigError
from simrec.validation import (
    SEED_MAX,
    check_fields,
    check_seed,
    checked_arguments,
    number_expected,
)


@pytest.mark.parametrize(
    ("value", "low", "high", "integer", "expected"),
    [
        (0.5, 0, 1, False, None),
        (np.float32(0.5), 0, 1, False, None),
        (3, None, None, True, None),
        (np.int64(3), None, None, True, None),
        (math.nan, None, None, False, "a number"),
        (math.inf, 0, None, False, "a number >= 0"),
        ("3", None, None, False, "a number"),
        (True, None, None, False, "a number"),
        (2.7, 1, 10, True, "an integer in [1, 10]"),
        (7, 0.0, 1.0, False, "a number in [0, 1]"),
        (-1, 0, SEED_MAX, True, f"an integer in [0, {SEED_MAX}]"),
    ],
)
def test_number_expected(value, low, high, integer, expected):
    assert number_expected(value, low, high, integer=integer) == expected


@pytest.mark.parametrize("seed", [-1, SEED_MAX + 1, 10**30, 1.0, "1", None, True])
def test_check_seed_refuses_what_no_generator_or_table_can_hold(seed):
    with pytest.raises(ConfigError, match=r"my seed: expected an integer in \[0, 4294967295\]"):
        check_seed(seed, "my seed")


def test_check_seed_accepts_the_whole_range():
    assert check_seed(0) == 0 and check_seed(SEED_MAX) == SEED_MAX
    assert check_seed(np.int64(7)) == 7


class _Policy:
    @checked_arguments
    def __init__(
        self, env: object, seed: int | None = None, alpha: float = 1.0, memory: int = 2,
        label: str = "x", flag: bool = False, **extra: float,
    ) -> None:  # fmt: skip
        self.alpha = alpha


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": math.nan}, "argument 'alpha': expected a finite number, got nan"),
        ({"alpha": "abc"}, "argument 'alpha': expected a finite number, got 'abc'"),
        ({"alpha": True}, "argument 'alpha': expected a finite number, got True"),
        ({"memory": 2.7}, "argument 'memory': expected an integer, got 2.7"),
        ({"seed": "1"}, "argument 'seed': expected an integer or None, got '1'"),
        ({"label": 3}, "argument 'label': expected a string, got 3"),
        ({"flag": "yes"}, "argument 'flag': expected true or false, got 'yes'"),
        ({"other": math.inf}, "argument 'other': expected a finite number, got inf"),
        ({"nope": 1, "alpha": "x"}, None),
    ],
)
def test_checked_arguments_refuses_wrong_types_naming_the_argument(kwargs, message):
    with pytest.raises(ArgumentError) as info:
        _Policy(object(), **kwargs)
    if message is not None:
        assert str(info.value) == f"_Policy: {message}"
        assert info.value.argument == message.split("'")[1]


def test_checked_arguments_passes_good_values_through_unchanged():
    assert _Policy(object(), seed=None, alpha=np.float64(0.5), memory=np.int64(3)).alpha == 0.5


@dataclass(frozen=True)
class _Params:
    rate: float = 0.5
    count: int = 1
    name: str = "x"

    def __post_init__(self) -> None:
        check_fields(self, {"rate": (0.0, 1.0)})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 7}, "_Params: field 'rate': expected a number in [0, 1], got 7"),
        ({"rate": math.nan}, "_Params: field 'rate': expected a number in [0, 1], got nan"),
        ({"count": 2.5}, "_Params: field 'count': expected an integer, got 2.5"),
    ],
)
def test_check_fields_names_the_dataclass_and_field(kwargs, message):
    with pytest.raises(ArgumentError, match=None) as info:
        _Params(**kwargs)
    assert str(info.value) == message
