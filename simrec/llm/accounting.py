"""What LLM-played users cost: calls, tokens, cache hits, latency, invalid answers, dollars.

Every call an LLM brain makes (or replays from the response cache) is one
:class:`CallRecord` in a :class:`UsageLedger`; every step whose answer failed validation
is counted with the fallback that handled it. :meth:`UsageLedger.summary` is what run
reports print. Token counts come from the API's ``usage`` block: ``input_tokens``
excludes the prompt-cache reads and writes, which are billed at their own rates.

Prices are estimates in USD per million tokens (``DEFAULT_PRICES``, checked against the
public price pages in November 2026); pass ``prices={...}`` to override or add models.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from simrec.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model (prompts under the long-context threshold)."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
    ) -> float:
        """The dollar cost of the given token counts."""
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read * self.cache_read
            + cache_write * self.cache_write
        ) / 1e6


DEFAULT_PRICES: dict[str, Price] = {
    "claude-haiku-5-5": Price(0.10, 0.50, 0.01, 0.125),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10, 1.25),
    "claude-sonnet-5-5": Price(2.00, 10.00, 0.20, 2.50),
    "claude-opus-5-5": Price(4.00, 20.00, 0.40, 5.00),
}
"""Estimated list prices (5-minute cache writes). Override with ``prices=``."""

BATCH_DISCOUNT = 0.5
"""Message Batches bill half the Messages API price."""


def resolve_prices(overrides: Mapping[str, Any] | None = None) -> dict[str, Price]:
    """:data:`DEFAULT_PRICES` updated with ``overrides`` (``{model: Price | {input: ..., ...}}``).

    Raises:
        ConfigError: naming the model and the field that is missing or not a number.
    """
    prices = dict(DEFAULT_PRICES)
    for model, value in (overrides or {}).items():
        if isinstance(value, Price):
            prices[model] = value
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"prices.{model}: expected {{input, output, cache_read, cache_write}}, "
                f"got {value!r}"
            )
        base = asdict(prices.get(model, Price(0.0, 0.0, 0.0, 0.0)))
        for key, number in value.items():
            if key not in base:
                raise ConfigError(
                    f"prices.{model}.{key}: unknown; expected one of {', '.join(base)}"
                )
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
                or number < 0
            ):
                raise ConfigError(
                    f"prices.{model}.{key}: expected a non-negative number, got {number!r}"
                )
            base[key] = float(number)
        if model not in DEFAULT_PRICES and set(value) != set(base):
            missing = sorted(set(base) - set(value))
            raise ConfigError(
                f"prices.{model}: a new model needs every rate; missing {', '.join(missing)}"
            )
        prices[model] = Price(**base)
    return prices


@dataclass(frozen=True)
class CallRecord:
    """One Messages API call, live or replayed.

    Attributes:
        model: the model id.
        source: ``api`` (sent now), ``batch`` (answered in a Message Batch, billed at
            :data:`BATCH_DISCOUNT`) or ``cache`` (replayed from the response cache).
        latency_ms: wall time of the call (of the original call when replayed; 0 for
            batch answers, which arrive together when their batch ends).
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens: the ``usage`` block.
        error: the failure kind (``rate_limit``, ``timeout`` …) or ``None`` for a response.
        retries: extra HTTP attempts the SDK made (429 / 529 / 5xx / timeouts); failed
            attempts are not billed, so they cost latency, not tokens.
    """

    model: str
    source: str
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    error: str | None = None
    retries: int = 0


@dataclass
class UsageSummary:
    """Totals of a :class:`UsageLedger` (plain values; ``to_dict`` for JSON reports)."""

    api_calls: int = 0
    retries: int = 0
    cache_hits: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    replayed_input_tokens: int = 0
    replayed_output_tokens: int = 0
    latency_ms_p50: float = 0.0
    latency_ms_p90: float = 0.0
    latency_ms_p99: float = 0.0
    latency_ms_max: float = 0.0
    steps: int = 0
    repaired: int = 0
    invalid_responses: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    cost_saved_usd: float = 0.0
    unpriced_models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values."""
        return asdict(self)


class UsageLedger:
    """Thread-safe running totals of LLM usage (one per brain; shareable between brains).

    Totals are updated as calls arrive and only live-call latencies are kept (8 bytes
    each, for percentiles), so a data-generation run of millions of calls stays small.

    Args:
        prices: per-model prices; ``None`` uses :data:`DEFAULT_PRICES`.
    """

    def __init__(self, prices: Mapping[str, Any] | None = None) -> None:
        self.prices = resolve_prices(prices)
        self._lock = threading.Lock()
        self._totals = UsageSummary()
        self._latencies = array("d")
        self._errors: Counter[str] = Counter()
        self._fallbacks: Counter[str] = Counter()
        self._unpriced: set[str] = set()

    def add_call(self, record: CallRecord) -> None:
        """Count one call (live or replayed)."""
        cost = self.cost_of(record)
        with self._lock:
            t = self._totals
            if cost is None:
                self._unpriced.add(record.model)
            if record.error is not None:
                self._errors[record.error] += 1
            if record.source == "cache":
                t.cache_hits += 1
                t.replayed_input_tokens += record.input_tokens
                t.replayed_output_tokens += record.output_tokens
                t.cost_saved_usd += cost or 0.0
                return
            t.api_calls += 1
            t.retries += record.retries
            t.input_tokens += record.input_tokens
            t.output_tokens += record.output_tokens
            t.cache_read_tokens += record.cache_read_tokens
            t.cache_write_tokens += record.cache_write_tokens
            t.cost_usd += cost or 0.0
            if record.source != "batch":
                self._latencies.append(record.latency_ms)

    def add_step(self, *, repaired: bool = False, fallback: str | None = None) -> None:
        """Count one reaction: repaired after an invalid first answer, or made by ``fallback``."""
        with self._lock:
            self._totals.steps += 1
            self._totals.repaired += int(repaired)
            if fallback is not None:
                self._fallbacks[fallback] += 1

    def cost_of(self, record: CallRecord) -> float | None:
        """The dollar cost of ``record`` at list price (batch answers at the batch discount),
        or ``None`` when its model has no price. Replayed calls are priced too: what the
        cache saved."""
        price = self.prices.get(record.model)
        if price is None:
            return None
        dollars = price.cost(
            record.input_tokens,
            record.output_tokens,
            record.cache_read_tokens,
            record.cache_write_tokens,
        )
        return dollars * BATCH_DISCOUNT if record.source == "batch" else dollars

    def summary(self) -> UsageSummary:
        """Totals, latency percentiles (live calls), invalid answers and estimated cost."""
        with self._lock:
            out = replace(self._totals)
            latencies = np.frombuffer(self._latencies, dtype=np.float64).copy()
            out.errors = dict(sorted(self._errors.items()))
            out.fallbacks = dict(sorted(self._fallbacks.items()))
            out.unpriced_models = sorted(self._unpriced)
        out.invalid_responses = sum(out.fallbacks.values())
        if len(latencies):
            p50, p90, p99 = np.percentile(latencies, [50, 90, 99]).tolist()
            out.latency_ms_p50, out.latency_ms_p90, out.latency_ms_p99 = p50, p90, p99
            out.latency_ms_max = float(latencies.max())
        return out


def format_summary(summary: UsageSummary) -> str:
    """A short multi-line report for the end of a run."""
    s = summary
    lines = [
        f"LLM calls: {s.api_calls} sent ({s.retries} retried attempts), "
        f"{s.cache_hits} replayed from cache"
        + (f", failures: {', '.join(f'{k} {v}' for k, v in s.errors.items())}" if s.errors else ""),
        f"tokens: input {s.input_tokens:,}, output {s.output_tokens:,}, "
        f"cache read {s.cache_read_tokens:,}, cache write {s.cache_write_tokens:,}",
        f"latency ms: p50 {s.latency_ms_p50:.0f}, p90 {s.latency_ms_p90:.0f}, "
        f"p99 {s.latency_ms_p99:.0f}, max {s.latency_ms_max:.0f}",
        f"steps: {s.steps}, repaired {s.repaired}, invalid responses {s.invalid_responses}"
        + (f" ({', '.join(f'{k} {v}' for k, v in s.fallbacks.items())})" if s.fallbacks else ""),
        f"estimated cost: ${s.cost_usd:.4f}"
        + (f" (cache saved ${s.cost_saved_usd:.4f})" if s.cache_hits else ""),
    ]
    if s.unpriced_models:
        lines.append(f"no price for: {', '.join(s.unpriced_models)} (pass prices= to include them)")
    return "\n".join(lines)
