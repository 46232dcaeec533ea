"""The live progress bar of ``simrec generate`` (rich): sessions, rows/s, ETA, tokens, dollars."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class Progress:
    """Counts generation progress and, when ``show`` is on, draws it on stderr.

    Args:
        total: sessions in the whole run.
        done: sessions already complete (resumed run).
        show: draw a live bar (``rich``); off in notebooks and tests.
        llm: show tokens and dollars (for LLM brains).
        console: the ``rich`` console to draw on (default: stderr); tests pass one that
            writes to a string.
        clock: seconds, for rows/s and the ETA (tests pass a fake one).
    """

    def __init__(
        self,
        total: int,
        done: int = 0,
        show: bool = False,
        llm: bool = False,
        console: Console | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = total
        self.sessions = done
        self.rows = 0
        self.tokens = 0
        self.dollars = 0.0
        self._clock = clock
        self.start = clock()
        self._drawn = 0.0
        self._bar: Any = None
        self._task: Any = None
        if show:
            self._open(done, llm, console)

    def _open(self, done: int, llm: bool, console: Console | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [
            TextColumn("sessions"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        if llm:
            columns.append(TextColumn("{task.fields[tokens]} tokens ${task.fields[dollars]}"))
        self._bar = RichProgress(*columns, console=console, transient=False, get_time=self._clock)
        self._bar.start()
        self._task = self._bar.add_task(
            "generate", total=self.total, completed=done, rate="0", tokens="0", dollars="0.00"
        )

    def add(self, sessions: int, rows: int, tokens: int, dollars: float) -> None:
        """Count finished sessions and written rows, tokens and dollars since the last call."""
        self.sessions += sessions
        self.rows += rows
        self.tokens += tokens
        self.dollars += dollars
        now = self._clock()
        if self._bar is not None and (now - self._drawn > 0.1 or self.sessions >= self.total):
            self._drawn = now
            self._bar.update(
                self._task,
                completed=self.sessions,
                rate=f"{self.rate:,.0f}",
                tokens=f"{self.tokens:,}",
                dollars=f"{self.dollars:,.2f}",
            )

    @property
    def rate(self) -> float:
        """Rows per second since this run (or resume) started."""
        return self.rows / max(self._clock() - self.start, 1e-9)

    def close(self) -> None:
        """Stop drawing (the last state stays on screen)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
