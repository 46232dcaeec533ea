"""Claude plays the user: every reaction is one forced tool call, validated, cached and counted.

One step of one session::

    build the request (persona card as cached system prompt, memory, slate as data)
      -> response cache (record / replay)   -> or the Messages API (SDK retries 429/529/5xx,
                                               timeouts and connection errors, honouring
                                               retry-after)
      -> validate against the slate          -> invalid: one repair call showing the model
                                               its errors -> still invalid or the API gave
                                               up: the declared fallback
      -> Reaction (tokens, latency, invalid_response) and a ledger entry

The fallback (``on_invalid``) is one of:

* ``raise``: :class:`~simrec.errors.LLMResponseError` naming the persona, turn and problem;
* ``utility`` (default): the offline :class:`~simrec.brains.utility.UtilityBrain` reacts
  instead, with the session's own generator; the reaction's ``brain`` is
  ``anthropic->utility``;
* ``skip``: the user does nothing this turn (no click, no dismissal, stays, satisfaction
  unchanged, empty reply), ``brain`` ``anthropic->skip``.

Either way the reaction has ``invalid_response=True`` and the ledger counts it, so an
answer is never silently coerced to "no click". Configuration errors (no key, key
rejected, unknown model, malformed request: HTTP 400/401/403/404) always raise
:class:`~simrec.errors.LLMConfigError`: falling back on every step would hide them.

A batch (many sessions) is processed by a thread pool of ``concurrency`` workers sharing
one SDK client, so the vector env and data generation keep that many calls in flight.
Results, fallbacks and generator draws are applied in batch order, so runs are
reproducible in replay mode whatever the completion order.

Data generation can instead send each step of many sessions as one Message Batches
request (``simrec generate --batch``, :mod:`simrec.datagen.batches`): the brain builds the
same requests, skips those its cache answers, and validates, repairs, caches and counts
the batch's answers like live ones, at the batch price.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from simrec.brains.utility import UtilityBrain
from simrec.errors import CacheMissError, ConfigError, LLMConfigError, LLMResponseError
from simrec.llm.accounting import CallRecord, UsageLedger
from simrec.llm.cache import MODES, CachedCall, ResponseCache, request_key
from simrec.llm.prompts import build_repair, build_request, load_template, slate_ids
from simrec.llm.validation import InvalidAnswer, ParsedReaction, parse_reaction
from simrec.reaction import Reaction
from simrec.session import Session

log = logging.getLogger("simrec.llm")

DEFAULT_MODEL = "claude-haiku-5-5"
"""Inexpensive and current; not in the SDK's ``_data/deprecated_models.py`` retirement list."""

FALLBACKS = ("raise", "utility", "skip")
API_KEY_ENV = "ANTHROPIC_API_KEY"
MISSING_KEY = (
    f"{API_KEY_ENV} is not set: export {API_KEY_ENV}=<your key> (from console.anthropic.com), "
    "or pass api_key=..., or replay a recorded run with cache='replay' "
    "(--cache replay --cache-path FILE)"
)
_FATAL_STATUS = frozenset({400, 401, 403, 404, 413, 422})


@dataclass(frozen=True)
class LLMConfig:
    """How an LLM brain calls the model. Every field is also a ``brain_kwargs`` key.

    Attributes:
        model: model id for every persona without an entry in ``persona_models``.
        persona_models: ``{persona_id: model}``, to give some personas another model.
        cache: ``off``, ``record`` (read-write) or ``replay`` (read-only; a miss is an error).
        cache_path: the sqlite cache file (required unless ``cache='off'``).
        concurrency: calls in flight at once when a batch of sessions is stepped.
        on_invalid: fallback after the repair attempt or the retry budget: ``raise``,
            ``utility`` or ``skip`` (see the module docstring).
        max_retries: SDK retries of 429 / 529 / 5xx / timeouts / connection errors.
        timeout: seconds per attempt.
        max_tokens: output budget per call (a reaction needs well under 300).
        recent_turns: turns kept verbatim in the prompt; older ones are summarised.
        prompt: template name in ``simrec/llm/templates``.
        base_url: API base URL (``None``: the SDK default or ``ANTHROPIC_BASE_URL``).
        unreachable_after: consecutive calls that end in a connection error or timeout
            (after the SDK's retries) before the run stops with ``LLMConfigError``: a run
            whose API is down would otherwise be played entirely by the fallback.
            ``0`` never stops.
    """

    model: str = DEFAULT_MODEL
    persona_models: Mapping[str, str] = field(default_factory=dict)
    cache: str = "off"
    cache_path: str | None = None
    concurrency: int = 8
    on_invalid: str = "utility"
    max_retries: int = 4
    timeout: float = 60.0
    max_tokens: int = 512
    recent_turns: int = 3
    prompt: str = "persona-reaction"
    base_url: str | None = None
    unreachable_after: int = 10

    def __post_init__(self) -> None:
        if self.cache not in MODES:
            raise ConfigError(f"cache: expected one of {', '.join(MODES)}, got {self.cache!r}")
        if self.on_invalid not in FALLBACKS:
            raise ConfigError(
                f"on_invalid: expected one of {', '.join(FALLBACKS)}, got {self.on_invalid!r}"
            )
        for name, low in (
            ("concurrency", 1),
            ("max_retries", 0),
            ("max_tokens", 1),
            ("recent_turns", 0),
            ("unreachable_after", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}: expected an integer >= {low}, got {value!r}")
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or self.timeout <= 0
        ):
            raise ConfigError(
                f"timeout: expected a positive number of seconds, got {self.timeout!r}"
            )


@dataclass
class _Outcome:
    """What the worker learned about one step (applied in batch order by the caller)."""

    parsed: ParsedReaction | None
    problem: str | None
    calls: list[CallRecord]
    repaired: bool = False
    fatal: BaseException | None = None


def _import_sdk() -> Any:
    try:
        import anthropic
    except ImportError:
        raise LLMConfigError(
            "the anthropic brain needs the Anthropic SDK: pip install 'simrec[llm]'"
        ) from None
    return anthropic


class AnthropicBrain:
    """A brain whose users are played by Claude through the Messages API.

    Args:
        config: an :class:`LLMConfig`; ``None`` uses the defaults.
        api_key: the key (default: ``ANTHROPIC_API_KEY``); never stored outside the SDK client.
        http_client: an ``httpx2.Client`` for the SDK (tests pass a mock transport).
        ledger: a :class:`~simrec.llm.accounting.UsageLedger` to add to (share one
            between brains to total a whole run); default a new one.
        prices: per-model price overrides for a new ledger.
        **overrides: :class:`LLMConfig` fields (``model="..."``, ``cache="replay"`` …).

    Raises:
        LLMConfigError: no API key (outside replay mode) or SDK not installed.
        ConfigError: an invalid option or cache file.

    Example::

        env = gym.make("simrec/GolfClaude-v0", brain_kwargs={
            "cache": "record", "cache_path": "golf.sqlite", "concurrency": 16})
        ...
        print(format_usage_report(env.unwrapped.brain.ledger))
    """

    name = "anthropic"

    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        api_key: str | None = None,
        http_client: Any = None,
        ledger: UsageLedger | None = None,
        prices: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> None:
        known = {f.name for f in fields(LLMConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"unknown AnthropicBrain option(s): {', '.join(unknown)}; "
                f"expected any of: {', '.join(sorted(known))}"
            )
        self.config = replace(config or LLMConfig(), **overrides)
        self.template = load_template(self.config.prompt)
        self.ledger = ledger if ledger is not None else UsageLedger(prices)
        self.deterministic = self.config.cache == "replay"
        self.cache = ResponseCache(self.config.cache_path, self.config.cache)
        self._client: Any = None
        self._sdk: Any = None
        if self.config.cache != "replay":
            self._sdk = _import_sdk()
            key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
            if not key.strip():
                self.cache.close()
                raise LLMConfigError(MISSING_KEY)
            self._client = self._sdk.Anthropic(
                api_key=key,
                base_url=self.config.base_url,
                max_retries=self.config.max_retries,
                timeout=float(self.config.timeout),
                http_client=http_client,
            )
        self._utility = UtilityBrain()
        self._samples: dict[str, int] = {}
        self._samples_lock = threading.Lock()
        self._unreachable = 0  # consecutive calls that got no answer (guarded by the lock)
        self._pool: ThreadPoolExecutor | None = None
        # Envs do not close their brains: release sockets, threads and the cache file when
        # the brain is garbage-collected (or at exit) as well as on close().
        self._resources: dict[str, Any] = {
            "cache": self.cache,
            "client": self._client,
            "pool": None,
        }
        self._finalizer = weakref.finalize(self, _release, self._resources)

    def __repr__(self) -> str:
        c = self.config
        return f"AnthropicBrain(model={c.model!r}, cache={c.cache!r}, concurrency={c.concurrency})"

    # -- the Brain protocol ------------------------------------------------------------
    def react(
        self,
        sessions: Sequence[Session],
        slates: Sequence[Sequence[int]],
        messages: Sequence[str | None],
        rngs: Sequence[np.random.Generator],
    ) -> list[Reaction]:
        """React to ``slates[i]`` in ``sessions[i]``, up to ``concurrency`` calls at once.

        Raises:
            LLMResponseError: an invalid answer or failed call with ``on_invalid='raise'``.
            CacheMissError: a request not in the recording, in replay mode.
            LLMConfigError: the API rejected the key, the model or the request.
        """
        if not len(sessions) == len(slates) == len(messages) == len(rngs):
            raise ValueError(
                f"react: got {len(sessions)} sessions, {len(slates)} slates, "
                f"{len(messages)} messages and {len(rngs)} generators; expected equal lengths"
            )
        if not self._finalizer.alive:
            raise LLMConfigError("this AnthropicBrain was closed; create a new one")
        triples = list(zip(sessions, slates, messages, strict=True))
        if len(triples) == 1:
            outcomes = [self._run(*self._job(sessions[0], list(slates[0]), messages[0]))]
        else:
            # Prompts are built here, in batch order (sample indices stay reproducible);
            # each call is submitted as soon as its prompt is ready.
            pool = self._executor()
            futures = [
                pool.submit(self._run, *self._job(s, list(slate), msg)) for s, slate, msg in triples
            ]
            outcomes = [f.result() for f in futures]
        for outcome in outcomes:
            if outcome.fatal is not None:
                raise outcome.fatal
        return [
            self._reaction(s, list(slate), rng, outcome)
            for s, slate, rng, outcome in zip(sessions, slates, rngs, outcomes, strict=True)
        ]

    # -- Message Batches (``generate(..., batch=True)``, see simrec.datagen.batches) -----------
    def batch_client(self) -> Any:
        """The SDK client (``None`` in replay mode: every step replays from the cache)."""
        return self._client

    def batch_request(self, session: Session, slate: Sequence[int], message: str | None) -> Any:
        """The step's request as a ``BatchJob``: no ``params`` when the cache answers it.

        Raises:
            CacheMissError: in replay mode, a step that was not recorded.
        """
        from simrec.datagen.batches import BatchJob

        job = self._job(session, list(slate), message)
        request, sample, _, what = job
        cached = self._cached(request_key(request, self.template.tag, sample), request, what)
        return BatchJob(None if cached is not None else request, job)

    def batch_reaction(
        self,
        session: Session,
        slate: Sequence[int],
        rng: np.random.Generator,
        job: Any,
        result: Any,
    ) -> Reaction:
        """The reaction to a batch item's ``result`` (``None``: replay the job from the cache).

        A succeeded answer is validated and repaired like a live one (the repair is a live
        call); an errored, expired or canceled item gets the declared fallback.
        """
        outcome = self._run(*job.context, batch_result=result)
        if outcome.fatal is not None:
            raise outcome.fatal
        return self._reaction(session, list(slate), rng, outcome)

    def close(self) -> None:
        """Stop the worker threads, close the cache file and the HTTP client (idempotent)."""
        self._finalizer()

    def __enter__(self) -> AnthropicBrain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one step --------------------------------------------------------------------------
    def model_for(self, session: Session) -> str:
        """The model that plays ``session``'s persona."""
        return self.config.persona_models.get(session.persona.persona_id, self.config.model)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.config.concurrency, thread_name_prefix="simrec-llm"
            )
            self._resources["pool"] = self._pool
        return self._pool

    def _job(self, session: Session, slate: list[int], message: str | None) -> tuple:
        c = self.config
        request = build_request(
            self.template,
            session,
            slate,
            message,
            model=self.model_for(session),
            max_tokens=c.max_tokens,
            recent_turns=c.recent_turns,
        )
        # The n-th identical request of this brain gets sample index n: a live model would
        # answer it afresh, so a replay must not reuse the first answer for it.
        digest = request_key(request, self.template.tag, -1)
        with self._samples_lock:
            sample = self._samples.get(digest, 0)
            self._samples[digest] = sample + 1
        what = _where(session)
        return request, sample, slate_ids(session.catalog, slate), what

    def _run(
        self,
        request: dict[str, Any],
        sample: int,
        ids: list[str | None],
        what: str,
        batch_result: Any = None,
    ) -> _Outcome:
        """The outcome of one step: its answer (a call, or ``batch_result``), validated."""
        calls: list[CallRecord] = []
        try:
            if batch_result is None:
                first = self._call(request, sample, what, calls)
            else:
                first = self._from_batch(request, sample, batch_result, calls)
            return self._settle(first, request, sample, ids, what, calls)
        except (LLMConfigError, CacheMissError) as exc:
            return _Outcome(None, str(exc), calls, fatal=exc)

    def _settle(
        self,
        first: tuple[dict[str, Any] | None, dict[str, Any] | None],
        request: dict[str, Any],
        sample: int,
        ids: list[str | None],
        what: str,
        calls: list[CallRecord],
    ) -> _Outcome:
        """Validate the first answer ``(response, error)``; repair it once if invalid."""
        tool = self.template.tool_name
        response, error = first
        if error is not None:
            retried = (
                "in its message batch, after the batch retries"
                if calls and calls[-1].source == "batch"
                else f"after {self.config.max_retries} retries"
            )
            return _Outcome(
                None,
                f"the API call failed {retried}: {error['kind']}: {error['message']}",
                calls,
            )
        try:
            return _Outcome(parse_reaction(response, tool, ids), None, calls)
        except InvalidAnswer as first_problem:
            repair = build_repair(self.template, request, response, str(first_problem), ids)
            response, error = self._call(repair, sample, what + " (repair)", calls)
            if error is not None:
                return _Outcome(
                    None,
                    f"invalid answer ({first_problem}); the repair call failed: "
                    f"{error['kind']}: {error['message']}",
                    calls,
                )
            try:
                return _Outcome(parse_reaction(response, tool, ids), None, calls, repaired=True)
            except InvalidAnswer as second:
                return _Outcome(
                    None,
                    f"invalid answer ({first_problem}); still invalid after one repair "
                    f"attempt ({second})",
                    calls,
                )

    def _call(
        self, request: dict[str, Any], sample: int, what: str, calls: list[CallRecord]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One request, from the cache or the API: ``(response, error)``, one of them None."""
        key = request_key(request, self.template.tag, sample)
        model = str(request["model"])
        cached = self._cached(key, request, what)
        if cached is not None:
            self._count(calls, model, "cache", cached)
            return cached.response, cached.error
        sdk = self._sdk
        start = time.perf_counter()
        response: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        retries = self.config.max_retries  # what a retryable failure has used up
        try:
            # The raw JSON body, not the SDK's parsed model: the cache must hold exactly what
            # the API said (even when it does not fit the SDK's types) for an exact replay.
            raw = self._client.messages.with_raw_response.create(**request)
            retries = raw.retries_taken
            response = raw.json()
            if not isinstance(response, dict):
                raise ValueError(f"expected a JSON object, got {type(response).__name__}")
        except sdk.APIStatusError as exc:
            if exc.status_code in _FATAL_STATUS:
                raise LLMConfigError(
                    f"the Messages API refused the request for {what} with HTTP "
                    f"{exc.status_code} ({_api_message(exc)}); check {API_KEY_ENV}, "
                    f"the model id {model!r} and the options"
                ) from None
            kind = {429: "rate_limit", 529: "overloaded"}.get(
                exc.status_code, f"http_{exc.status_code}"
            )
            error = {"kind": kind, "status": exc.status_code, "message": _api_message(exc)}
        except sdk.APITimeoutError:
            error = {
                "kind": "timeout",
                "status": None,
                "message": f"no answer within {self.config.timeout} s",
            }
        except sdk.APIConnectionError as exc:
            error = {
                "kind": "connection",
                "status": None,
                "message": str(exc) or type(exc).__name__,
            }
        except (sdk.APIError, ValueError) as exc:  # ValueError: a body that is not JSON
            response = None
            retries = 0
            error = {"kind": "bad_response", "status": None, "message": str(exc)[:200]}
        call = CachedCall(response, error, (time.perf_counter() - start) * 1000.0)
        self._keep(key, request, sample, call, "api", calls, retries)
        self._check_reachable(error)
        return response, error

    def _cached(self, key: str, request: dict[str, Any], what: str) -> CachedCall | None:
        """The recorded outcome to replay for ``key``, or ``None`` to call the API.

        Record mode re-sends a recorded failure; replay mode replays it, and a request
        that was never recorded is a :class:`CacheMissError` there.
        """
        cached = self.cache.get(key)
        if cached is not None and (cached.response is not None or self.cache.mode == "replay"):
            return cached
        if self.cache.mode == "replay":
            raise self.cache.miss(key, what, self.template.tag, str(request["model"]))
        return None

    def _keep(
        self,
        key: str,
        request: dict[str, Any],
        sample: int,
        call: CachedCall,
        source: str,
        calls: list[CallRecord],
        retries: int = 0,
    ) -> None:
        """Record a fresh answer (live or from a batch) in the cache and count it."""
        self.cache.put(key, request, call, prompt=self.template.tag, sample=sample)
        self._count(calls, str(request["model"]), source, call, retries)

    def _check_reachable(self, error: dict[str, Any] | None) -> None:
        """Stop the run once ``unreachable_after`` calls in a row got no answer at all."""
        no_answer = error is not None and error["kind"] in ("connection", "timeout")
        with self._samples_lock:
            self._unreachable = self._unreachable + 1 if no_answer else 0
            down = self._unreachable
        limit = self.config.unreachable_after
        if no_answer and limit and down >= limit:
            raise LLMConfigError(
                f"the Messages API has not answered {down} calls in a row (last: "
                f"{error['kind']}: {error['message']}); check the network and base_url. "
                "Steps already taken are kept (the response cache and written shards)."
            )

    def _from_batch(
        self, request: dict[str, Any], sample: int, result: Any, calls: list[CallRecord]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """A batch item's result as ``(response, error)``, cached and counted like a call."""
        if result.type == "succeeded":
            response, error = result.message.to_dict(mode="json"), None
        else:
            detail = getattr(getattr(result, "error", None), "error", None)
            response, error = (
                None,
                {
                    "kind": getattr(detail, "type", None) or result.type,
                    "status": None,
                    "message": str(getattr(detail, "message", None) or f"batch item {result.type}"),
                },
            )
        key = request_key(request, self.template.tag, sample)
        self._keep(key, request, sample, CachedCall(response, error, 0.0), "batch", calls)
        return response, error

    def _count(
        self, calls: list[CallRecord], model: str, source: str, call: CachedCall, retries: int = 0
    ) -> None:
        usage = (call.response or {}).get("usage") or {}
        record = CallRecord(
            model=model,
            source=source,
            latency_ms=call.latency_ms,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
            cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
            error=call.error["kind"] if call.error else None,
            retries=retries,
        )
        calls.append(record)
        self.ledger.add_call(record)
        log.debug(
            "%s call: model=%s latency=%.0fms input=%d output=%d cache_read=%d cache_write=%d "
            "retries=%d error=%s",
            source,
            model,
            record.latency_ms,
            record.input_tokens,
            record.output_tokens,
            record.cache_read_tokens,
            record.cache_write_tokens,
            retries,
            record.error,
        )

    def _reaction(
        self, session: Session, slate: list[int], rng: np.random.Generator, outcome: _Outcome
    ) -> Reaction:
        cost = {
            "latency_ms": sum(c.latency_ms for c in outcome.calls),
            "input_tokens": sum(c.input_tokens for c in outcome.calls),
            "output_tokens": sum(c.output_tokens for c in outcome.calls),
            "cache_read_tokens": sum(c.cache_read_tokens for c in outcome.calls),
            "cache_write_tokens": sum(c.cache_write_tokens for c in outcome.calls),
            "cost_usd": sum(
                (self.ledger.cost_of(c) or 0.0 for c in outcome.calls if c.source != "cache"),
                0.0,
            ),
        }
        p = outcome.parsed
        if p is not None:
            self.ledger.add_step(repaired=outcome.repaired)
            return Reaction(
                p.clicked,
                p.purchased,
                p.dismissed,
                p.left,
                p.satisfaction,
                p.reply,
                self.name,
                **cost,
            )
        policy = self.config.on_invalid
        where = _where(session)
        self.ledger.add_step(fallback=policy)
        if policy == "raise":
            raise LLMResponseError(
                f"{where}: {outcome.problem}. Pass on_invalid='utility' or 'skip' "
                "(--on-invalid) to continue past such steps."
            )
        log.warning(
            "%s: %s; falling back to %r (counted as invalid_response)",
            where,
            outcome.problem,
            policy,
        )
        if policy == "utility":
            base = self._utility.react_one(session, slate, rng)
            return replace(base, brain=f"{self.name}->utility", invalid_response=True, **cost)
        k = len(slate)
        return Reaction(
            [False] * k,
            [False] * k,
            [False] * k,
            False,
            session.satisfaction,
            "",
            f"{self.name}->skip",
            invalid_response=True,
            **cost,
        )


def _release(resources: dict[str, Any]) -> None:
    """Shut the worker pool, close the cache (checkpointing its WAL) and the HTTP client."""
    if resources["pool"] is not None:
        resources["pool"].shutdown(wait=True)
    resources["cache"].close()
    if resources["client"] is not None:
        resources["client"].close()


def _where(session: Session) -> str:
    """Names the step in errors and logs: persona, session and slate number."""
    return (
        f"persona {session.persona.persona_id!r} (session {session.session_id}), "
        f"slate {session.turn + 1}"
    )


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])[:200]
    return str(getattr(exc, "message", exc))[:200]


__all__ = ["DEFAULT_MODEL", "FALLBACKS", "AnthropicBrain", "LLMConfig"]
