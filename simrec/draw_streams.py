"""Many numpy generators drawn from at once, value for value as their own methods would.

A vector env's sub-sessions each own a generator (``seeding.np_random(seed + i)``, as
the single env's). A visit starts with ``integers(n_personas)`` and
``random((DRAW_BLOCK, width))``: two numpy calls per session, whose Python overhead was
most of a vector step. :class:`DrawStreams` instead fetches each generator's raw 64-bit
outputs a few visits ahead (``bit_generator.random_raw``, one call now and then) into a
pool, and reads them for all sessions together with numpy, reproducing numpy's
algorithms for the PCG64 bit generator:

- ``Generator.random()`` is ``(raw >> 11) * 2**-53`` (:func:`uniforms`), one raw output
  per double;
- ``Generator.integers(high)`` (``high < 2**32``) is Lemire's bounded method on 32-bit
  halves: a raw output gives its low half and keeps its high half for the next 32-bit
  request (PCG64's ``has_uint32`` buffer, which ``random`` neither uses nor clears).

Raw outputs fetched ahead are the generator's future stream, so reading them later gives
the values drawing then would have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_HALF = np.uint64(0xFFFFFFFF)
_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53: numpy's next_double for PCG64


def uniforms(raw: np.ndarray) -> np.ndarray:
    """The doubles ``Generator.random`` makes of PCG64 raw outputs ``raw`` (one each)."""
    return np.multiply(raw >> np.uint64(11), _DOUBLE_UNIT)  # 53-bit ints convert exactly


class DrawStreams:
    """``size`` PCG64 generators (row ``i`` = the generator assigned to it), drawn in bulk.

    Row ``i``'s unread raw outputs are ``pool[i, head[i]:fill[i]]``. Once assigned, a
    generator must be drawn from only through this object.

    Args:
        size: number of rows.
        capacity: raw outputs a row holds (the most one :meth:`claim` may take); a row
            that runs short is topped up to it in one call.
    """

    def __init__(self, size: int, capacity: int) -> None:
        self.capacity = capacity
        self.pool = np.zeros((size, capacity), dtype=np.uint64)
        self.head = np.zeros(size, dtype=np.int64)
        self.fill = np.zeros(size, dtype=np.int64)
        self.has_half = np.zeros(size, dtype=bool)
        self.half = np.zeros(size, dtype=np.uint64)
        self._fetch: list = [None] * size

    def nbytes(self) -> int:
        """Bytes of per-row state arrays."""
        arrays = (self.pool, self.head, self.fill, self.has_half, self.half)
        return sum(a.nbytes for a in arrays)

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
            self._fetch[i] = bits.random_raw
            self.has_half[i] = bool(state["has_uint32"])
            self.half[i] = state["uinteger"]
            self.head[i] = self.fill[i] = 0

    def claim(self, rows: np.ndarray, count: int) -> np.ndarray:
        """Read ``count`` raw outputs of every row; returns where they start in its pool row.

        They stay at ``pool[i, start:start + count]`` until row ``i``'s next
        :meth:`claim` or :meth:`integers`.
        """
        self.reserve(rows, count)
        start = self.head[rows]
        self.head[rows] = start + count
        return start

    def reserve(self, rows: np.ndarray, count: int) -> None:
        """Make sure every row holds ``count`` unread outputs (topping up those that do not).

        Claims top up on their own; reserving ahead lets the rows of several claims share
        one top-up (whose fixed cost is several numpy calls).
        """
        short = rows[self.fill[rows] - self.head[rows] < count]
        if len(short):
            self._top_up(short)

    def integers(self, rows: np.ndarray, high: int) -> np.ndarray:
        """``generator.integers(high)`` of every row (``1 <= high < 2**32``), as int64."""
        out = np.zeros(len(rows), dtype=np.int64)
        if high == 1:
            return out  # numpy draws nothing for a single value
        if not 1 < high < 2**32:
            raise ValueError(f"DrawStreams.integers: high must be in [1, 2**32), got {high}")
        threshold = np.uint64((2**32 - high) % high)
        todo = np.arange(len(rows))
        while len(todo):
            scaled = self._next_half(rows[todo]) * np.uint64(high)
            out[todo] = scaled >> np.uint64(32)
            todo = todo[(scaled & _HALF) < threshold]  # rejected as biased: draw again
        return out

    def _next_half(self, rows: np.ndarray) -> np.ndarray:
        """The next 32-bit output of every row (PCG64's ``next_uint32``), as uint64."""
        needs_raw = ~self.has_half[rows]
        out = self.half[rows]
        fresh = rows[needs_raw]
        raw = self.pool.reshape(-1).take(fresh * self.capacity + self.claim(fresh, 1))
        out[needs_raw] = raw & _HALF
        self.half[fresh] = raw >> np.uint64(32)
        self.has_half[rows] = needs_raw
        return out

    def _top_up(self, rows: np.ndarray) -> None:
        """Move each row's unread outputs to the front and fetch up to :attr:`capacity`.

        Row by row: each row needs its own ``random_raw`` call anyway, and a top-up serves
        only a few rows, for which slice moves cost less than one 2-d fancy-indexed move
        (several numpy calls).
        """
        pool, fetch, capacity = self.pool, self._fetch, self.capacity
        starts, ends = self.head[rows].tolist(), self.fill[rows].tolist()
        for i, start, end in zip(rows.tolist(), starts, ends, strict=True):
            row, unread = pool[i], end - start
            row[:unread] = row[start:end]
            row[unread:] = fetch[i](capacity - unread)
        self.head[rows] = 0
        self.fill[rows] = capacity
