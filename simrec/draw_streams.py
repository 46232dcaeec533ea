"""Many numpy generators drawn from at once, value for value as their own methods would.

A vector env's sub-sessions each own a generator (``seeding.np_random(seed + i)``, as
the single env's). A visit starts with ``integers(n_personas)`` and
``random((DRAW_BLOCK, width))``: two numpy calls per session, whose Python overhead was
most of a vector step. :class:`DrawStreams` makes one call per session instead
(``bit_generator.random_raw``) and converts the raw 64-bit outputs with numpy for all
sessions together (uniforms only when used: :func:`uniforms`), reproducing numpy's
algorithms for the PCG64 bit generator:

- ``Generator.random()`` is ``(raw >> 11) * 2**-53``, one raw output per double;
- ``Generator.integers(high)`` (``high < 2**32``) is Lemire's bounded method on 32-bit
  halves: a raw output gives its low half and keeps its high half for the next 32-bit
  request (PCG64's ``has_uint32`` buffer, which ``random`` neither uses nor clears).
  Lemire's method rejects a candidate with probability below ``high / 2**32``; a row
  that hits a rejection is rewound and drawn by numpy itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_HALF = np.uint64(0xFFFFFFFF)
_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53: numpy's next_double for PCG64


def uniforms(raw: np.ndarray) -> np.ndarray:
    """The doubles ``Generator.random`` makes of PCG64 raw outputs ``raw`` (one each)."""
    return (raw >> np.uint64(11)).astype(np.float64) * _DOUBLE_UNIT


class DrawStreams:
    """``size`` PCG64 generators (row ``i`` = the generator assigned to it), drawn in bulk.

    The 32-bit half a generator keeps for its next ``integers`` call is tracked here:
    once assigned, a generator must be drawn from only through this object.
    """

    def __init__(self, size: int) -> None:
        self.has_half = np.zeros(size, dtype=bool)
        self.half = np.zeros(size, dtype=np.uint64)
        self._bits: list[np.random.PCG64 | None] = [None] * size
        self._fetch: list = [None] * size

    def nbytes(self) -> int:
        """Bytes of per-row state arrays."""
        return self.has_half.nbytes + self.half.nbytes

    def assign(self, rows: Sequence[int], generators: Sequence[np.random.Generator]) -> None:
        """Draw row ``rows[j]`` from ``generators[j]`` from now on (from its current state).

        Raises:
            TypeError: a generator's bit generator is not PCG64 (whose output formats
                this reproduces).
        """
        for i, generator in zip(rows, generators, strict=True):
            bits = generator.bit_generator
            if type(bits) is not np.random.PCG64:
                raise TypeError(
                    f"DrawStreams draws from PCG64 generators, got {type(bits).__name__}"
                )
            state = bits.state
            self._bits[i], self._fetch[i] = bits, bits.random_raw
            self.has_half[i] = bool(state["has_uint32"])
            self.half[i] = state["uinteger"]

    def raw(self, rows: np.ndarray, count: int) -> np.ndarray:
        """``(len(rows), count)`` raw outputs of every row (:func:`uniforms` of them are
        ``generator.random(count)``)."""
        fetch = self._fetch
        raw = np.array([fetch[i](count) for i in rows.tolist()], dtype=np.uint64)
        return raw.reshape(len(rows), count)

    def integers_then_raw(
        self, rows: np.ndarray, high: int, count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``generator.integers(high)`` (int64) of every row, then ``count`` raw outputs.

        :func:`uniforms` of the raw outputs are what ``generator.random(count)`` would
        return after the ``integers`` call.

        Raises:
            ValueError: ``high`` outside ``[1, 2**32)``.
        """
        if high == 1:  # numpy draws nothing for a single value
            return np.zeros(len(rows), dtype=np.int64), self.raw(rows, count)
        if not 1 < high < 2**32:
            raise ValueError(f"integers_then_raw: high must be in [1, 2**32), got {high}")
        has = self.has_half[rows]
        half = self.half[rows]
        lead = rows[~has]  # rows whose pick takes a fresh raw output first
        fetch = self._fetch
        fresh = np.array([fetch[i](count + 1) for i in lead.tolist()], dtype=np.uint64)
        fresh = fresh.reshape(len(lead), count + 1)
        kept = np.array([fetch[i](count) for i in rows[has].tolist()], dtype=np.uint64)
        raw = np.empty((len(rows), count), dtype=np.uint64)
        raw[~has] = fresh[:, 1:]
        raw[has] = kept.reshape(-1, count)
        candidate = half.copy()
        candidate[~has] = fresh[:, 0] & _HALF
        self.half[lead] = fresh[:, 0] >> np.uint64(32)
        self.has_half[rows] = ~has
        scaled = candidate * np.uint64(high)
        picks = (scaled >> np.uint64(32)).astype(np.int64)
        threshold = np.uint64((2**32 - high) % high)
        for j in np.flatnonzero((scaled & _HALF) < threshold).tolist():
            picks[j], raw[j] = self._redraw(int(rows[j]), bool(has[j]), half[j], high, count)
        return picks, raw

    def _redraw(
        self, row: int, had_half: bool, half: np.uint64, high: int, count: int
    ) -> tuple[int, np.ndarray]:
        """A rejected pick: rewind ``row``'s generator and let numpy draw it."""
        bits = self._bits[row]
        assert bits is not None
        bits.advance(-(count + (not had_half)))  # advance wraps modulo 2**128: a rewind
        state = bits.state
        state["has_uint32"], state["uinteger"] = int(had_half), int(half)
        bits.state = state
        generator = np.random.Generator(bits)
        pick, raw = int(generator.integers(high)), bits.random_raw(count)
        state = bits.state
        self.has_half[row], self.half[row] = bool(state["has_uint32"]), state["uinteger"]
        return pick, raw
