"""The one LLM client layer: cache, calls, validation with one repair, accounting, concurrency.

Everything in simrec that asks a model something (LLM-played users, LLM policies) goes
through an :class:`LLMClient`::

    client = LLMClient("anthropic", cache="record", cache_path="run.sqlite", concurrency=16)
    results = client.complete_many(requests, validators)     # concurrently, in order
    for r in results:
        r.value if r.ok else r.problem                        # validated value, or why not

One request::

    response cache (key: wire body + prompt version + sample) --hit--> the recorded answer
        | miss (record / off)                                     (replay: miss = CacheMissError)
    backend.send (SDK: retries 429/529/5xx/timeouts honouring retry-after)
        | answer read by the backend (tool input, JSON output, JSON in text)
    validate(data) -- InvalidAnswer --> one repair call showing the model its problems
        |
    LLMResult(value | problem, calls with tokens, latency, cost), counted in the ledger by role

What a step does with a result that has no value (``problem``) is the caller's declared
policy; the client never coerces an answer. Configuration errors (bad key, unknown model,
malformed request) raise :class:`~simrec.errors.LLMConfigError`, a replay miss raises
:class:`~simrec.errors.CacheMissError`, and an API that stopped answering altogether
(``unreachable_after`` calls in a row) raises ``LLMConfigError`` rather than letting a
fallback play the whole run.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simrec.errors import CacheMissError, ConfigError, LLMConfigError
from simrec.llm.accounting import CallRecord, UsageLedger
from simrec.llm.backends import Backend, make_backend
from simrec.llm.backends.base import Failure
from simrec.llm.cache import MODES, CachedCall, ResponseCache, canonical_json, request_key
from simrec.llm.request import InvalidAnswer, LLMRequest, LLMResult, Validator
from simrec.validation import checked_arguments

log = logging.getLogger("simrec.llm")

_RETRYABLE = frozenset({"rate_limit", "overloaded", "timeout", "connection"})
PROBE_PROMPT = "structured-output-probe@1"
"""The prompt tag of a backend's capability probes (part of their cache keys)."""


class LLMClient:
    """A provider backend wrapped with the response cache, validation, accounting and a pool.

    Args:
        backend: ``"anthropic"`` or a :class:`~simrec.llm.backends.Backend`.
        cache: ``off``, ``record`` (read-write) or ``replay`` (no API client; a miss is a
            :class:`~simrec.errors.CacheMissError`).
        cache_path: the sqlite cache file (required unless ``cache='off'``).
        concurrency: calls in flight at once in :meth:`complete_many`.
        ledger: a :class:`~simrec.llm.accounting.UsageLedger` to count into (share one
            between clients to total a run; roles stay apart); default a new one.
        prices: per-model price overrides for a new ledger.
        unreachable_after: consecutive calls ending in a connection error or timeout (after
            the SDK's retries) before :class:`~simrec.errors.LLMConfigError`; 0: never.
        max_retries, timeout: the SDK's retry budget and seconds per attempt.
        senders: processes posting the calls through their own SDK clients, so that the
            SDK's and HTTP's CPU work runs beside this process's (see
            :mod:`~simrec.llm.backends.senders`); 0: calls go out from this process's
            threads; ``None``: none up to 16 calls in flight, else one per core beyond two.
        **backend_options: passed to the backend (``api_key``, ``base_url``,
            ``http_client``).

    Raises:
        ConfigError: bad options or cache file.
        LLMConfigError: no SDK, or no key where one is needed (not in replay mode).
    """

    @checked_arguments
    def __init__(
        self,
        backend: str | Backend = "anthropic",
        *,
        cache: str = "off",
        cache_path: str | None = None,
        concurrency: int = 8,
        ledger: UsageLedger | None = None,
        prices: Mapping[str, Any] | None = None,
        unreachable_after: int = 10,
        max_retries: int = 4,
        timeout: float = 60.0,
        senders: int | None = None,
        **backend_options: Any,
    ) -> None:
        if cache not in MODES:
            raise ConfigError(f"cache: expected one of {', '.join(MODES)}, got {cache!r}")
        if timeout <= 0 or max_retries < 0 or unreachable_after < 1:
            raise ConfigError(
                "LLMClient: expected timeout > 0 seconds, max_retries >= 0 and unreachable_after "
                ">= 1, got "
                f"timeout={timeout!r}, max_retries={max_retries!r}, "
                f"unreachable_after={unreachable_after!r}"
            )
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency: expected an integer >= 1, got {concurrency!r}")
        if senders is not None and senders < 0:
            raise ConfigError(f"senders: expected an integer >= 0 or None, got {senders!r}")
        self.cache = ResponseCache(cache_path, cache)
        try:
            self.backend: Backend = (
                make_backend(
                    backend,
                    offline=cache == "replay",
                    max_retries=max_retries,
                    timeout=timeout,
                    connections=concurrency,
                    senders=senders,
                    **backend_options,
                )
                if isinstance(backend, str)
                else backend
            )
        except BaseException:
            self.cache.close()
            raise
        self.ledger = ledger if ledger is not None else UsageLedger(prices)
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.unreachable_after = unreachable_after
        self._lock = threading.Lock()
        self._unreachable = 0
        self._pool: ThreadPoolExecutor | None = None
        # Owners do not always close clients (envs do not close brains): release sockets,
        # threads and the cache file at garbage collection or exit as well as on close().
        self._resources: dict[str, Any] = {
            "cache": self.cache,
            "backend": self.backend,
            "pool": None,
        }
        self._finalizer = weakref.finalize(self, _release, self._resources)

    @classmethod
    def from_config(
        cls,
        backend: str,
        config: Any,
        *,
        ledger: UsageLedger | None = None,
        prices: Mapping[str, Any] | None = None,
        **secrets: Any,
    ) -> LLMClient:
        """A client from an LLM caller's config (a brain's or a policy's): its ``cache``,
        ``cache_path``, ``concurrency``, ``unreachable_after``, ``max_retries``,
        ``timeout``, ``senders``, ``base_url`` and ``backend_options()``; ``secrets`` are
        the key and HTTP client, which never live in a config."""
        c = config
        return cls(
            backend,
            cache=c.cache,
            cache_path=c.cache_path,
            concurrency=c.concurrency,
            ledger=ledger,
            prices=prices,
            unreachable_after=c.unreachable_after,
            max_retries=c.max_retries,
            timeout=c.timeout,
            senders=c.senders,
            base_url=c.base_url,
            **secrets,
            **c.backend_options(),
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return not self._finalizer.alive

    def close(self) -> None:
        """Stop the worker threads, close the cache file and the HTTP client (idempotent)."""
        self._finalizer()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls -----------------------------------------------------------------------------
    def complete(
        self, request: LLMRequest, validate: Validator | None = None, *, batch_result: Any = None
    ) -> LLMResult:
        """Answer ``request``: from the cache or the API, validated, repaired once if invalid.

        Args:
            request: the call.
            validate: ``validate(data) -> value`` raising
                :class:`~simrec.llm.request.InvalidAnswer`; ``None`` keeps the data as is.
            batch_result: a Message Batches item result standing for the first call.

        Raises:
            LLMConfigError: the API refused the request or key, or stopped answering.
            CacheMissError: replay mode found no recording of the request.
        """
        if self.closed:
            raise LLMConfigError("this LLM client was closed; create a new one")
        return self._run(request, validate, batch_result)

    def complete_many(
        self, requests: Sequence[LLMRequest], validators: Sequence[Validator | None] | None = None
    ) -> list[LLMResult]:
        """:meth:`complete` for every request, up to ``concurrency`` at once, in order.

        Every request is submitted before any result is awaited, so a step of many sessions
        takes about one call's latency. Results do not depend on completion order.

        Raises:
            LLMConfigError, CacheMissError: the first one (in request order) any call raised,
                once every call has finished.
        """
        if self.closed:
            raise LLMConfigError("this LLM client was closed; create a new one")
        checks = list(validators) if validators is not None else [None] * len(requests)
        if len(checks) != len(requests):
            raise ValueError(f"{len(requests)} requests but {len(checks)} validators")
        if len(requests) == 1:
            return [self._run(requests[0], checks[0], None)]
        pool = self._executor()
        futures = [
            pool.submit(self._run, r, v, None) for r, v in zip(requests, checks, strict=True)
        ]
        outcomes: list[LLMResult] = []
        fatal: BaseException | None = None
        for future in futures:
            try:
                outcomes.append(future.result())
            except (LLMConfigError, CacheMissError) as exc:
                fatal = fatal or exc
        if fatal is not None:
            raise fatal
        return outcomes

    def batch_params(self, request: LLMRequest) -> dict[str, Any] | None:
        """The Message Batches ``params`` of ``request``, or ``None`` when the response cache
        already answers it (a replayed re-generation submits nothing).

        Raises:
            CacheMissError: replay mode and the request was not recorded.
        """
        wire = self.backend.wire(request)
        key = request_key(wire, request.prompt, [*request.sample, 0])
        return None if self._cached(key, wire, request) is not None else wire

    @property
    def sdk_client(self) -> Any:
        """The backend's SDK client (``None`` in replay mode)."""
        return getattr(self.backend, "client", None)

    # -- one request -------------------------------------------------------------------------
    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="simrec-llm")
            self._resources["pool"] = self._pool
        return self._pool

    def _run(self, request: LLMRequest, validate: Validator | None, batch_result: Any) -> LLMResult:
        calls: list[CallRecord] = []
        self._negotiate(request)
        wire = self.backend.wire(request)
        if batch_result is not None:
            response, failure = self._from_batch(wire, request, batch_result, calls)
        else:
            response, failure = self._call(wire, request, 0, calls)
        if failure is not None:
            return LLMResult(None, self._failed(failure, calls), None, calls)
        answer = self.backend.answer(response, request)
        try:
            return LLMResult(_checked(answer, validate, request), None, answer, calls)
        except InvalidAnswer as first:
            name = request.output.name if request.output is not None else "requested"
            note = request.repair.replace("{problems}", str(first)).replace("{name}", name)
            repair = self.backend.repair(wire, response, note)
            response, failure = self._call(repair, request, 1, calls)
            if failure is not None:
                return LLMResult(
                    None,
                    f"invalid answer ({first}); the repair call failed: "
                    f"{failure['kind']}: {failure['message']}",
                    answer,
                    calls,
                )
            answer = self.backend.answer(response, request)
            try:
                return LLMResult(
                    _checked(answer, validate, request), None, answer, calls, repaired=True
                )
            except InvalidAnswer as second:
                return LLMResult(
                    None,
                    f"invalid answer ({first}); still invalid after one repair attempt ({second})",
                    answer,
                    calls,
                )

    def _negotiate(self, request: LLMRequest) -> None:
        """Let a backend that probes its server (the OpenAI-compatible one) find the
        structured-output mode for the request's model, through the cache."""
        negotiate = getattr(self.backend, "negotiate", None)
        if negotiate is None or request.output is None:
            return

        def ask(wire: dict[str, Any], mode: str) -> tuple[dict | None, Failure | None]:
            probe = LLMRequest(
                request.model,
                (),
                ({"role": "user", "content": "probe"},),
                sample=("probe", mode),
                role=request.role,
                prompt=PROBE_PROMPT,
                label=f"the {mode} structured-output probe of {request.model}",
            )
            return self._call(wire, probe, 0, [], refusal_is_failure=True)

        negotiate(request.model, ask)

    def _failed(self, failure: Failure, calls: list[CallRecord]) -> str:
        retried = (
            "in its message batch, after the batch retries"
            if calls and calls[-1].source == "batch"
            else f"after {self.max_retries} retries"
        )
        return f"the API call failed {retried}: {failure['kind']}: {failure['message']}"

    def _call(
        self,
        wire: dict[str, Any],
        request: LLMRequest,
        attempt: int,
        calls: list[CallRecord],
        *,
        refusal_is_failure: bool = False,
    ) -> tuple[dict | None, Failure | None]:
        """One call, from the cache or the API: ``(response, failure)``, one of them None.

        With ``refusal_is_failure`` (probes), an HTTP 400 / 422 is an outcome to record
        and replay (``kind`` ``refused``), not an error.
        """
        sample = [*request.sample, attempt]
        body = canonical_json(wire)  # serialised once: hashed for the key, stored and sent
        # Without a cache there is nothing to look up or store: no key to hash (this runs
        # on the GIL before the request goes out, so it delays every later call).
        key = request_key(wire, request.prompt, sample, body) if self.cache.enabled else ""
        cached = self._cached(key, wire, request)
        if cached is not None:
            self._count(calls, request, attempt, "cache", cached)
            return cached.response, cached.error
        start = time.perf_counter()
        try:
            response, failure, retries = self.backend.send(
                wire, request.label, body.encode("utf-8")
            )
        except LLMConfigError as exc:
            status = getattr(exc, "status", None)
            if not refusal_is_failure or status not in (400, 422):
                raise
            message = str(getattr(exc, "api_message", exc))
            response, failure, retries = (
                None,
                {"kind": "refused", "status": status, "message": message},
                0,
            )
        if failure is not None and failure["kind"] in _RETRYABLE:
            retries = self.max_retries
        call = CachedCall(response, failure, (time.perf_counter() - start) * 1000.0)
        self.cache.put(key, wire, call, prompt=request.prompt, sample=sample, body=body)
        self._count(calls, request, attempt, "api", call, retries)
        self._check_reachable(failure)
        return response, failure

    def _from_batch(
        self, wire: dict[str, Any], request: LLMRequest, result: Any, calls: list[CallRecord]
    ) -> tuple[dict | None, Failure | None]:
        """A Message Batches item result, cached and counted like a call."""
        response, failure = self.backend.batch_result(result)  # type: ignore[attr-defined]
        sample = [*request.sample, 0]
        call = CachedCall(response, failure, 0.0)
        key = request_key(wire, request.prompt, sample)
        self.cache.put(key, wire, call, prompt=request.prompt, sample=sample)
        self._count(calls, request, 0, "batch", call)
        return response, failure

    def _cached(self, key: str, wire: Mapping[str, Any], request: LLMRequest) -> CachedCall | None:
        """The recorded outcome to replay for ``key``, or ``None`` to call the API.

        Record mode re-sends a recorded failure; replay mode replays it, and a request
        that was never recorded is a :class:`CacheMissError` there.
        """
        cached = self.cache.get(key)
        if cached is not None and (cached.response is not None or self.cache.mode == "replay"):
            return cached
        if self.cache.mode == "replay":
            raise self.cache.miss(key, request.label, request.prompt, str(wire.get("model")))
        return None

    def _count(
        self,
        calls: list[CallRecord],
        request: LLMRequest,
        attempt: int,
        source: str,
        call: CachedCall,
        retries: int = 0,
    ) -> None:
        usage = self.backend.usage(call.response) if call.response is not None else None
        record = CallRecord(
            model=request.model,
            source=source,
            latency_ms=call.latency_ms,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cache_read_tokens=usage.cache_read_tokens if usage else 0,
            cache_write_tokens=usage.cache_write_tokens if usage else 0,
            error=call.error["kind"] if call.error else None,
            retries=retries,
            role=request.role,
            attempt=attempt,
        )
        record = self.ledger.priced(record)
        calls.append(record)
        self.ledger.add_call(record)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s call (%s, attempt %d): model=%s latency=%.0fms input=%d output=%d "
                "cache_read=%d cache_write=%d retries=%d error=%s",
                source,
                request.role,
                request.label,
                attempt,
                record.model,
                record.latency_ms,
                record.input_tokens,
                record.output_tokens,
                record.cache_read_tokens,
                record.cache_write_tokens,
                retries,
                record.error,
            )

    def _check_reachable(self, failure: Failure | None) -> None:
        """Stop the run once ``unreachable_after`` calls in a row got no answer at all."""
        no_answer = failure is not None and failure["kind"] in ("connection", "timeout")
        with self._lock:
            self._unreachable = self._unreachable + 1 if no_answer else 0
            down = self._unreachable
        limit = self.unreachable_after
        if no_answer and limit and down >= limit:
            assert failure is not None
            raise LLMConfigError(
                f"the {self.backend.name} API has not answered {down} calls in a row (last: "
                f"{failure['kind']}: {failure['message']}); check the network and base_url. "
                "Steps already taken are kept (the response cache and written shards)."
            )


def _checked(answer: Any, validate: Validator | None, request: LLMRequest) -> Any:
    """The validated value of ``answer`` (its text when no structured output was asked)."""
    if request.output is None:
        if answer.problem is not None:
            raise InvalidAnswer([answer.problem])
        return validate(answer.text) if validate is not None else answer.text
    if answer.data is None:
        raise InvalidAnswer([answer.problem or "no structured answer"])
    return validate(answer.data) if validate is not None else answer.data


def _release(resources: dict[str, Any]) -> None:
    """Shut the worker pool, close the cache (checkpointing its WAL) and the HTTP client."""
    if resources["pool"] is not None:
        resources["pool"].shutdown(wait=True)
    resources["cache"].close()
    resources["backend"].close()


__all__ = ["LLMClient"]
