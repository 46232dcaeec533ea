"""An LLM plays the user: every reaction is one validated call through the LLM client layer.

One step of one session::

    build the request (instructions and persona card as cached system blocks, memory,
    slate as data, the reaction schema; sample = (session, turn))
      -> LLMClient: response cache (record / replay) or the API (retries honouring
         retry-after), the answer validated against the slate, one repair call showing
         the model its errors
      -> a valid reaction, or the declared fallback -> Reaction (tokens, latency, cost,
         invalid_response) and a ledger entry (role "user")

The fallback (``on_invalid``) is one of:

* ``raise``: :class:`~simrec.errors.LLMResponseError` naming the persona, session, turn and
  problem;
* ``utility`` (default): the offline :class:`~simrec.brains.utility.UtilityBrain` reacts
  instead, with the session's own generator; the reaction's ``brain`` is
  ``<name>->utility``;
* ``skip``: the user does nothing this turn (no click, no dismissal, stays, satisfaction
  unchanged, empty reply), ``brain`` ``<name>->skip``.

Either way the reaction has ``invalid_response=True`` and the ledger counts it, so an
answer is never silently coerced to "no click". Configuration errors (no key, key
rejected, unknown model, malformed request) always raise
:class:`~simrec.errors.LLMConfigError`: falling back on every step would hide them.

A batch (many sessions) is answered by the client's pool of ``concurrency`` workers, so the
vector env and data generation keep that many calls in flight. Results, fallbacks and
generator draws are applied in batch order, and every request's cache key comes from its
session and turn, so replays are identical whatever the completion order or the process
layout. :class:`~simrec.brains.anthropic.AnthropicBrain` (Claude) and
:class:`~simrec.brains.openai.OpenAIBrain` (any OpenAI-compatible server: vLLM, Ollama,
llama.cpp, LiteLLM) are this brain on their backends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from simrec.brains.utility import UtilityBrain
from simrec.errors import ConfigError, LLMResponseError
from simrec.llm.accounting import UsageLedger
from simrec.llm.cache import MODES
from simrec.llm.client import LLMClient
from simrec.llm.prompts import build_request, load_template, slate_ids, where
from simrec.llm.request import LLMRequest, LLMResult
from simrec.llm.validation import parse_reaction
from simrec.reaction import Reaction
from simrec.session import Session

log = logging.getLogger("simrec.llm")

FALLBACKS = ("raise", "utility", "skip")
FEELING_RATE = 0.5
"""How far one slate's felt score moves the session's satisfaction toward it.

The model reports how each slate felt (``satisfaction`` in the answer: this slate only);
the session's satisfaction integrates those reports, ``s + FEELING_RATE * (felt - s)``,
and is shown back to the model only in words ("you are unimpressed so far"). A model fed
its own last number anchors on it; a running mood it did not write does not."""


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
        max_tokens: output budget per answer (a reaction needs well under 300; models that
            think get an allowance on top).
        recent_turns: ``None`` (default): every past slate verbatim, one line each, read
            from the prompt cache after the turn it was new; a number: only the last ones
            verbatim, older ones summarised in one line (shorter, but the summary changes
            every turn, so it is not cached).
        prompt: template name in ``simrec/llm/templates``.
        base_url: API base URL (``None``: the backend's default).
        unreachable_after: consecutive calls that end in a connection error or timeout
            (after the SDK's retries) before the run stops with ``LLMConfigError``: a run
            whose API is down would otherwise be played entirely by the fallback.
            ``0`` never stops.
        senders: processes that post the calls through their own SDK clients (the SDK's
            CPU work then runs beside the simulation's; see
            :mod:`simrec.llm.backends.senders`); ``0``: none; ``None`` (default): none up
            to 16 calls in flight, else one per core beyond two.
    """

    model: str = ""
    persona_models: Mapping[str, str] = field(default_factory=dict)
    cache: str = "off"
    cache_path: str | None = None
    concurrency: int = 8
    on_invalid: str = "utility"
    max_retries: int = 4
    timeout: float = 60.0
    max_tokens: int = 512
    recent_turns: int | None = None
    prompt: str = "persona-reaction"
    base_url: str | None = None
    unreachable_after: int = 10
    senders: int | None = None

    def __post_init__(self) -> None:
        if self.cache not in MODES:
            raise ConfigError(f"cache: expected one of {', '.join(MODES)}, got {self.cache!r}")
        if self.on_invalid not in FALLBACKS:
            raise ConfigError(
                f"on_invalid: expected one of {', '.join(FALLBACKS)}, got {self.on_invalid!r}"
            )
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError(f"model: expected a model id, got {self.model!r}")
        for name, low in (
            ("concurrency", 1),
            ("max_retries", 0),
            ("max_tokens", 1),
            ("unreachable_after", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}: expected an integer >= {low}, got {value!r}")
        for name in ("recent_turns", "senders"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ConfigError(f"{name}: expected an integer >= 0 or None, got {value!r}")
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not self.timeout > 0
            or self.timeout == float("inf")
        ):
            raise ConfigError(
                f"timeout: expected a positive number of seconds, got {self.timeout!r}"
            )

    def backend_options(self) -> dict[str, Any]:
        """Options the backend takes from this config (beyond key, URL and HTTP client)."""
        return {}


class LLMBrain:
    """A brain whose users are played by an LLM through :class:`~simrec.llm.client.LLMClient`.

    Subclasses name the backend (:attr:`backend`) and the config class.

    Args:
        config: a config; ``None`` uses the defaults.
        api_key: the key (default: the backend's environment variable); never stored
            outside the SDK client.
        http_client: an ``httpx2.Client`` for the SDK (tests pass a mock transport).
        ledger: a :class:`~simrec.llm.accounting.UsageLedger` to add to (share one with an
            LLM policy to total a run; roles stay apart); default a new one.
        prices: per-model price overrides for a new ledger.
        **overrides: config fields (``model="..."``, ``cache="replay"`` …).

    Raises:
        LLMConfigError: no API key (outside replay mode) or SDK not installed.
        ConfigError: an invalid option or cache file.
    """

    name: ClassVar[str] = "llm"
    backend: ClassVar[str] = ""
    config_class: ClassVar[type[LLMConfig]] = LLMConfig

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
        known = {f.name for f in fields(self.config_class)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"unknown {type(self).__name__} option(s): {', '.join(unknown)}; "
                f"expected any of: {', '.join(sorted(known))}"
            )
        self.config = (
            replace(config, **overrides) if config is not None else self.config_class(**overrides)
        )
        self.template = load_template(self.config.prompt)
        c = self.config
        self.client = LLMClient.from_config(
            self.backend,
            c,
            ledger=ledger,
            prices=prices,
            api_key=api_key,
            http_client=http_client,
        )
        self.ledger = self.client.ledger
        self.cache = self.client.cache
        self.deterministic = c.cache == "replay"
        self._utility = UtilityBrain()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"{type(self).__name__}(model={c.model!r}, cache={c.cache!r}, "
            f"concurrency={c.concurrency})"
        )

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
        lists = [list(slate) for slate in slates]
        requests = [
            self.request(s, slate, m) for s, slate, m in zip(sessions, lists, messages, strict=True)
        ]
        results = self.client.complete_many(
            requests, [self.validator(s, slate) for s, slate in zip(sessions, lists, strict=True)]
        )
        return [
            self._reaction(s, slate, rng, result)
            for s, slate, rng, result in zip(sessions, lists, rngs, results, strict=True)
        ]

    def request(self, session: Session, slate: list[int], message: str | None) -> LLMRequest:
        """The request for ``session`` reacting to ``slate`` (and the recommender's message)."""
        c = self.config
        return build_request(
            self.template,
            session,
            slate,
            message,
            model=self.model_for(session),
            max_tokens=c.max_tokens,
            recent_turns=c.recent_turns,
        )

    @staticmethod
    def validator(session: Session, slate: list[int]) -> Any:
        """The check of an answer against ``slate``'s ids (see :func:`parse_reaction`)."""
        ids = slate_ids(session.catalog, slate)
        return lambda data: parse_reaction(data, ids)

    def model_for(self, session: Session) -> str:
        """The model that plays ``session``'s persona."""
        return self.config.persona_models.get(session.persona.persona_id, self.config.model)

    # -- Message Batches (``generate(..., batch=True)``, see simrec.datagen.batches) -----------
    def batch_client(self) -> Any:
        """The SDK client (``None`` in replay mode: every step replays from the cache)."""
        return self.client.sdk_client

    def batch_request(self, session: Session, slate: Sequence[int], message: str | None) -> Any:
        """The step's request as a ``BatchJob``: no ``params`` when the cache answers it.

        Raises:
            CacheMissError: in replay mode, a step that was not recorded.
        """
        from simrec.datagen.batches import BatchJob

        request = self.request(session, list(slate), message)
        return BatchJob(self.client.batch_params(request), request)

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
        lst = list(slate)
        outcome = self.client.complete(
            job.context, self.validator(session, lst), batch_result=result
        )
        return self._reaction(session, lst, rng, outcome)

    def close(self) -> None:
        """Stop the worker threads, close the cache file and the HTTP client (idempotent)."""
        self.client.close()

    def __enter__(self) -> LLMBrain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one step --------------------------------------------------------------------------
    def _reaction(
        self, session: Session, slate: list[int], rng: np.random.Generator, outcome: LLMResult
    ) -> Reaction:
        cost = {
            "latency_ms": outcome.total("latency_ms"),
            "input_tokens": outcome.total("input_tokens"),
            "output_tokens": outcome.total("output_tokens"),
            "cache_read_tokens": outcome.total("cache_read_tokens"),
            "cache_write_tokens": outcome.total("cache_write_tokens"),
            "cost_usd": float(outcome.total("cost_usd")),
        }
        p = outcome.value
        if p is not None:
            self.ledger.add_step(repaired=outcome.repaired)
            mood = session.satisfaction + FEELING_RATE * (p.satisfaction - session.satisfaction)
            return Reaction(
                p.clicked,
                p.purchased,
                p.dismissed,
                p.left,
                mood,
                p.reply,
                self.name,
                **cost,
            )
        policy = self.config.on_invalid
        here = where(session)
        self.ledger.add_step(fallback=policy)
        if policy == "raise":
            raise LLMResponseError(
                f"{here}: {outcome.problem}. Pass on_invalid='utility' or 'skip' "
                "(--on-invalid) to continue past such steps."
            )
        log.warning(
            "%s: %s; falling back to %r (counted as invalid_response)",
            here,
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


__all__ = ["FALLBACKS", "FEELING_RATE", "LLMBrain", "LLMConfig"]
