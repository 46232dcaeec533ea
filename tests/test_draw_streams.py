"""DrawStreams: bulk draws equal each generator's own ``integers`` and ``random`` calls."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils import seeding

from simrec.draw_streams import DrawStreams, uniforms


@pytest.mark.parametrize("high", [1, 2, 5, 2**31 + 1, 2**32 - 1])
def test_bulk_draws_equal_each_generators_own_calls(high):
    # 2**31 + 1 rejects about half the candidates: the rewind path runs many times.
    n = 40
    streams = DrawStreams(n)
    streams.assign(range(n), [seeding.np_random(s)[0] for s in range(n)])
    own = [seeding.np_random(s)[0] for s in range(n)]
    rows = np.arange(n)
    rng = np.random.default_rng(0)
    for step in range(12):
        chosen = rows[rng.random(n) < 0.6]
        if step % 3 == 2:
            drawn = uniforms(streams.raw(chosen, 7))
            expected = [own[i].random(7) for i in chosen]
            np.testing.assert_array_equal(drawn, np.reshape(expected, (-1, 7)))
            continue
        picks, raw = streams.integers_then_raw(chosen, high, 9)
        for j, i in enumerate(chosen.tolist()):
            assert picks[j] == own[i].integers(high)
            np.testing.assert_array_equal(uniforms(raw[j]), own[i].random(9))


def test_assigned_generators_continue_from_their_state():
    used = seeding.np_random(3)[0]
    used.integers(7)  # leaves a 32-bit half for the next integers call
    used.random(3)
    twin = seeding.np_random(3)[0]
    twin.integers(7)
    twin.random(3)
    streams = DrawStreams(1)
    streams.assign([0], [used])
    picks, raw = streams.integers_then_raw(np.array([0]), 7, 4)
    assert picks[0] == twin.integers(7)
    np.testing.assert_array_equal(uniforms(raw[0]), twin.random(4))


def test_other_bit_generators_are_refused():
    with pytest.raises(TypeError, match="PCG64"):
        DrawStreams(1).assign([0], [np.random.Generator(np.random.MT19937(0))])
    with pytest.raises(ValueError, match="high"):
        DrawStreams(1).integers_then_raw(np.array([0]), 2**32, 3)
