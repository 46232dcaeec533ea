"""What LLM calls cost: calls, tokens, cache hits, latency, invalid answers, dollars, per role.

Every call the client layer makes (or replays from the response cache) is one
:class:`CallRecord` in a :class:`UsageLedger`; every step whose answer failed validation
is counted with the fallback that handled it. Calls are accounted apart by ``role``: the
simulated ``user`` (an LLM brain) and the recommender ``policy`` (an LLM reranker) get
their own totals and their own lines in the report. Token counts come from the API's
``usage`` block: ``input_tokens`` excludes the prompt-cache reads and writes, which are
billed at their own rates.

Prices are estimates in USD per million tokens (:data:`DEFAULT_PRICES`: the Claude list
prices of :mod:`simrec.llm.backends.claude_models`); pass ``prices={...}`` to override or
add models (an OpenAI-compatible local model has no price unless you give one).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from simrec.errors import ConfigError
from simrec.llm.backends.claude_models import claude_prices


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


DEFAULT_PRICES: dict[str, Price] = {m: Price(*p) for m, p in claude_prices().items()}
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
    """One API call, live or replayed.

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
        role: ``user``, ``policy`` or ``authoring``: who made the call.
        attempt: 0 for a request's first call, 1 for its repair.
        cost_usd: what the call cost now (0 when replayed).
        recorded_cost_usd: what it cost when it was made (live calls: ``cost_usd``).
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
    role: str = "user"
    attempt: int = 0
    cost_usd: float = 0.0
    recorded_cost_usd: float = 0.0


@dataclass
class UsageSummary:
    """Totals of a :class:`UsageLedger` (plain values; ``to_dict`` for JSON reports).

    Token fields count live calls; ``replayed_*`` fields count calls replayed from the
    response cache (what the recording used). ``cost_usd`` is what this run spent;
    ``cost_saved_usd`` what its replayed calls cost when they were recorded.
    """

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
    replayed_cache_read_tokens: int = 0
    replayed_cache_write_tokens: int = 0
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
    visit_cost_usd: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (derived figures included)."""
        return {
            **asdict(self),
            "prompt_tokens_per_step": self.prompt_tokens_per_step,
            "cache_read_share": self.cache_read_share,
        }

    @property
    def prompt_tokens_per_step(self) -> float:
        """Input tokens per step, however billed (fresh + cache reads + cache writes),
        live and replayed calls together."""
        total = (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.replayed_input_tokens
            + self.replayed_cache_read_tokens
            + self.replayed_cache_write_tokens
        )
        return total / self.steps if self.steps else 0.0

    @property
    def cache_read_share(self) -> float:
        """The share of all input tokens read from the prompt cache (live and replayed)."""
        read = self.cache_read_tokens + self.replayed_cache_read_tokens
        total = self.prompt_tokens_per_step * self.steps
        return read / total if total else 0.0


VISIT_TURNS = 10
"""The visit length :attr:`UsageSummary.visit_cost_usd` is quoted for."""


class _RoleTotals:
    """Running totals of one role (guarded by the ledger's lock)."""

    def __init__(self) -> None:
        self.totals = UsageSummary()
        self.latencies = array("d")
        self.errors: Counter[str] = Counter()
        self.fallbacks: Counter[str] = Counter()
        self.unpriced: set[str] = set()
        self.model_cost: Counter[str] = Counter()
        self.model_steps: Counter[str] = Counter()


class UsageLedger:
    """Thread-safe running totals of LLM usage, per role (share one between clients to
    total a whole run: users and policy stay apart inside it).

    Totals are updated as calls arrive and only live-call latencies are kept (8 bytes
    each, for percentiles), so a data-generation run of millions of calls stays small.

    Args:
        prices: per-model prices; ``None`` uses :data:`DEFAULT_PRICES`.
    """

    def __init__(self, prices: Mapping[str, Any] | None = None) -> None:
        self.prices = resolve_prices(prices)
        self._lock = threading.Lock()
        self._roles: dict[str, _RoleTotals] = {}

    def _role(self, role: str) -> _RoleTotals:
        totals = self._roles.get(role)
        if totals is None:
            totals = self._roles[role] = _RoleTotals()
        return totals

    @property
    def roles(self) -> list[str]:
        """The roles with calls or steps so far (``user`` first)."""
        with self._lock:
            return sorted(self._roles, key=lambda r: (r != "user", r))

    def priced(self, record: CallRecord) -> CallRecord:
        """``record`` with its ``cost_usd`` and ``recorded_cost_usd`` filled in."""
        dollars = self.cost_of(record)
        if dollars is None:
            return record
        live = 0.0 if record.source == "cache" else dollars
        return replace(record, cost_usd=live, recorded_cost_usd=dollars)

    def add_call(self, record: CallRecord) -> None:
        """Count one call (live or replayed)."""
        cost = self.cost_of(record)
        with self._lock:
            r = self._role(record.role)
            t = r.totals
            if cost is None:
                r.unpriced.add(record.model)
            else:
                r.model_cost[record.model] += cost
            if record.attempt == 0:
                r.model_steps[record.model] += 1
            if record.error is not None:
                r.errors[record.error] += 1
            if record.source == "cache":
                t.cache_hits += 1
                t.replayed_input_tokens += record.input_tokens
                t.replayed_output_tokens += record.output_tokens
                t.replayed_cache_read_tokens += record.cache_read_tokens
                t.replayed_cache_write_tokens += record.cache_write_tokens
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
                r.latencies.append(record.latency_ms)

    def add_step(
        self, *, repaired: bool = False, fallback: str | None = None, role: str = "user"
    ) -> None:
        """Count one step (a reaction, a ranking): repaired after an invalid first answer,
        or made by ``fallback``."""
        with self._lock:
            r = self._role(role)
            r.totals.steps += 1
            r.totals.repaired += int(repaired)
            if fallback is not None:
                r.fallbacks[fallback] += 1

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

    def summary(self, role: str | None = None) -> UsageSummary:
        """Totals of ``role`` (``None``: every role together): latency percentiles (live
        calls), invalid answers, cost, and the cost of a 10-turn visit per priced model."""
        with self._lock:
            parts = (
                [self._roles[role]]
                if role is not None and role in self._roles
                else ([] if role is not None else list(self._roles.values()))
            )
            out = UsageSummary()
            latencies = np.concatenate(
                [np.frombuffer(p.latencies, dtype=np.float64) for p in parts] or [np.zeros(0)]
            )
            errors: Counter[str] = Counter()
            fallbacks: Counter[str] = Counter()
            unpriced: set[str] = set()
            model_cost: Counter[str] = Counter()
            model_steps: Counter[str] = Counter()
            for p in parts:
                for f in fields(UsageSummary):
                    value = getattr(p.totals, f.name)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        setattr(out, f.name, getattr(out, f.name) + value)
                errors.update(p.errors)
                fallbacks.update(p.fallbacks)
                unpriced |= p.unpriced
                model_cost.update(p.model_cost)
                model_steps.update(p.model_steps)
        out.errors = dict(sorted(errors.items()))
        out.fallbacks = dict(sorted(fallbacks.items()))
        out.unpriced_models = sorted(unpriced)
        out.invalid_responses = sum(out.fallbacks.values())
        out.visit_cost_usd = {
            m: VISIT_TURNS * model_cost[m] / model_steps[m]
            for m in sorted(model_cost)
            if model_steps[m]
        }
        if len(latencies):
            p50, p90, p99 = np.percentile(latencies, [50, 90, 99]).tolist()
            out.latency_ms_p50, out.latency_ms_p90, out.latency_ms_p99 = p50, p90, p99
            out.latency_ms_max = float(latencies.max())
        return out


def format_summary(summary: UsageSummary, who: str = "") -> str:
    """A short multi-line report for the end of a run (``who``: a role label prefix)."""
    s = summary
    head = f"{who} LLM calls" if who else "LLM calls"
    lines = [
        f"{head}: {s.api_calls} sent ({s.retries} retried attempts), "
        f"{s.cache_hits} replayed from cache"
        + (f", failures: {', '.join(f'{k} {v}' for k, v in s.errors.items())}" if s.errors else ""),
        f"tokens: input {s.input_tokens:,}, output {s.output_tokens:,}, "
        f"cache read {s.cache_read_tokens:,}, cache write {s.cache_write_tokens:,}"
        + (
            f" (replayed: input {s.replayed_input_tokens:,}, output "
            f"{s.replayed_output_tokens:,}, cache read {s.replayed_cache_read_tokens:,})"
            if s.cache_hits
            else ""
        ),
        f"per step: {s.prompt_tokens_per_step:,.0f} input tokens, "
        f"{s.cache_read_share:.0%} read from the prompt cache",
        f"latency ms: p50 {s.latency_ms_p50:.0f}, p90 {s.latency_ms_p90:.0f}, "
        f"p99 {s.latency_ms_p99:.0f}, max {s.latency_ms_max:.0f}",
        f"steps: {s.steps}, repaired {s.repaired}, invalid responses {s.invalid_responses}"
        + (f" ({', '.join(f'{k} {v}' for k, v in s.fallbacks.items())})" if s.fallbacks else ""),
        f"estimated cost: spent ${s.cost_usd:.4f}"
        + (
            f"; the {s.cache_hits} replayed calls cost ${s.cost_saved_usd:.4f} when recorded"
            if s.cache_hits
            else ""
        ),
    ]
    if s.visit_cost_usd:
        lines.append(
            f"cost per {VISIT_TURNS}-turn visit: "
            + ", ".join(f"{m} ${c:.4f}" for m, c in s.visit_cost_usd.items())
        )
    if s.unpriced_models:
        lines.append(f"no price for: {', '.join(s.unpriced_models)} (pass prices= to include them)")
    return "\n".join(lines)


def format_ledger(ledger: UsageLedger) -> str:
    """The report of every role in ``ledger``: one block per role when there are several."""
    roles = ledger.roles
    labels = {"user": "simulated-user", "policy": "policy", "authoring": "persona-authoring"}
    if roles == ["policy"]:  # an LLM policy with offline users: say whose calls these are
        return format_summary(ledger.summary("policy"), "policy")
    if len(roles) <= 1:
        return format_summary(ledger.summary())
    return "\n".join(format_summary(ledger.summary(r), labels.get(r, r)) for r in roles)
