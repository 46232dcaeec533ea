"""DrawStreams: bulk draws equal each generator's own ``integers`` and ``random`` calls."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils import seeding

from simrec.draw_streams import DrawStreams, uniforms


def claimed(streams: DrawStreams, rows: np.ndarray, count: int) -> np.ndarray:
    start = streams.claim(rows, count)
    return streams.pool[rows[:, None], start[:, None] + np.arange(count)]


@pytest.mark.parametrize("high", [1, 2, 5, 2**31 + 1, 2**32 - 1])
def test_bulk_draws_equal_each_generators_own_calls(high):
    # 2**31 + 1 rejects about half the candidates: rows draw again, some several times.
    n = 40
    streams = DrawStreams(n, capacity=25)  # small: rows run short and are topped up often
    streams.assign(range(n), [seeding.np_random(s)[0] for s in range(n)])
    own = [seeding.np_random(s)[0] for s in range(n)]
    rows = np.arange(n)
    rng = np.random.default_rng(0)
    for _ in range(30):
        chosen = rows[rng.random(n) < 0.6]
        if rng.random() < 0.5:
            picks = streams.integers(chosen, high)
            assert picks.tolist() == [int(own[i].integers(high)) for i in chosen]
        count = int(rng.integers(1, 26))
        drawn = uniforms(claimed(streams, chosen, count))
        np.testing.assert_array_equal(
            drawn, np.reshape([own[i].random(count) for i in chosen], (-1, count))
        )


def test_assigned_generators_continue_from_their_state():
    used = seeding.np_random(3)[0]
    used.integers(7)  # leaves a 32-bit half for the next integers call
    used.random(3)
    twin = seeding.np_random(3)[0]
    twin.integers(7)
    twin.random(3)
    streams = DrawStreams(2, capacity=10)
    streams.assign([1], [used])
    rows = np.array([1])
    assert streams.integers(rows, 7)[0] == twin.integers(7)
    np.testing.assert_array_equal(uniforms(claimed(streams, rows, 4))[0], twin.random(4))


def test_other_bit_generators_are_refused():
    with pytest.raises(TypeError, match="PCG64"):
        DrawStreams(1, 8).assign([0], [np.random.Generator(np.random.MT19937(0))])
    with pytest.raises(ValueError, match="high"):
        DrawStreams(1, 8).integers(np.array([0]), 2**32)
