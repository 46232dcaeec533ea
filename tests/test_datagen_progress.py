"""The live bar of ``simrec generate``: sessions done, rows/s, ETA, tokens and dollars."""

from __future__ import annotations

import functools
import importlib
import io
from dataclasses import replace

from rich.console import Console

from simrec.brains import UtilityBrain, register_brain
from simrec.datagen import TokenPrices, generate
from simrec.datagen.progress import Progress


def drawn(llm: bool, done: int = 0) -> str:
    """The bar's last frame after 10 sessions in 20 fake seconds (2 sessions every 4 s)."""
    now = [100.0]
    screen = io.StringIO()
    console = Console(file=screen, width=160, color_system=None)
    bar = Progress(40, done, show=True, llm=llm, console=console, clock=lambda: now[0])
    for _ in range(5):
        now[0] += 4.0
        bar.add(2, 300, 12_345, 0.25)
    bar.close()
    return screen.getvalue()


def test_the_bar_shows_sessions_done_rows_per_second_and_the_eta():
    text = drawn(llm=False)
    assert "10/40" in text
    assert "75 rows/s" in text  # 1,500 rows in 20 s
    assert "ETA 0:01:00" in text  # 30 sessions left at 0.5 sessions/s
    assert "tokens" not in text and "$" not in text


def test_an_llm_run_also_shows_tokens_and_dollars():
    assert "61,725 tokens $1.25" in drawn(llm=True)


def test_a_resumed_run_counts_the_sessions_already_done():
    text = drawn(llm=False, done=20)
    assert "30/40" in text and "ETA 0:00:20" in text


def test_the_counts_are_kept_without_drawing():
    bar = Progress(40)
    bar.add(2, 300, 12_345, 0.125)
    bar.add(3, 200, 5, 0.5)
    assert (bar.sessions, bar.rows, bar.tokens, bar.dollars) == (5, 500, 12_350, 0.625)
    bar.close()


class _PricedBrain(UtilityBrain):
    """The utility brain reporting an LLM's tokens: 1,000 in and 100 out per reaction."""

    name = "priced-progress-test"
    model = "fake-model-1"
    prompt_version = "persona-reaction@3"

    def react(self, sessions, slates, messages, rngs):
        return [
            replace(r, input_tokens=1000, output_tokens=100)
            for r in super().react(sessions, slates, messages, rngs)
        ]


register_brain("priced-progress-test", _PricedBrain)


def test_generate_feeds_the_bar_its_sessions_tokens_and_dollars(monkeypatch):
    screen = io.StringIO()
    console = Console(file=screen, width=160, color_system=None)
    module = importlib.import_module("simrec.datagen.generate")
    monkeypatch.setattr(module, "Progress", functools.partial(Progress, console=console))
    prices = TokenPrices(input=2.0, output=10.0)
    ds = generate(
        "golf", "random", 8, brain="priced-progress-test", cost=prices, progress=True, max_turns=4
    )
    text = screen.getvalue()
    tokens, dollars = 1100 * len(ds.turns), ds.manifest["usage"]["cost_usd"]
    assert dollars > 0
    assert "8/8" in text and "rows/s" in text and "ETA" in text
    assert f"{tokens:,} tokens ${dollars:,.2f}" in text, text
