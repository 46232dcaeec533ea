"""The shared machinery of LLM policies: one client, many visits, concurrent calls.

An LLM policy (:class:`~simrec.policies.llm_reranker.LLMRerankerPolicy`,
:class:`~simrec.policies.llm_conversational.LLMConversationalPolicy`) decides each turn
of each visit with one call through the LLM client layer (:mod:`simrec.llm`): the same
response cache (record / replay), retries, validation with one repair, accounting and
thread pool as the LLM-played users, with ``role="policy"`` so its calls and dollars are
accounted apart from the users'. One turn of one visit::

    retriever (per visit, seeded by its session id; a round's visits scored together)
      -> n candidates
    request: the visit so far and the candidates as delimited data, the answer's schema;
             sample = ("session", id, "turn", n, <policy>)
      -> LLMClient: cache or API, validated (ids among the candidates, no duplicates),
         one repair
      -> the slate (and message), or the declared fallback: the retriever's own order,
         counted in the ledger and the visit, logged, never silent

**One object, many visits.** The policy keeps one :class:`~simrec.policies.visit.Visit`
per ``info["session_id"]``, so the same object serves, concurrently:

* a single env: ``act(obs, info)`` / ``update(obs, reward, info)`` (the usual protocol);
* episodes run at once (``simrec run --concurrency``, scenarios, data generation):
  ``act_many(observations, infos)``, one concurrent round of calls for every lane (see
  :func:`simrec.policies.batching.act_together`);
* the native vector env: ``act(obs, infos)`` on the batched observation and info returns
  every sub-env's slate from one concurrent round, and ``update(obs, rewards, infos,
  terminated, truncated)`` after each step tells it which visits ended (their sub-envs
  reset on the next step, whose action is ignored: no call is made for them).

Every request's cache key holds its session and turn, never a counter, so a recording
replays identically under any of these layouts. The client is created on the first call
(building a policy to validate a scenario costs nothing) and shared between turns;
:meth:`LLMPolicy.close` releases it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from simrec.catalog import Catalog
from simrec.env import user_history
from simrec.errors import ArgumentError, ConfigError, LLMResponseError
from simrec.llm.accounting import UsageLedger, resolve_prices
from simrec.llm.cache import MODES
from simrec.llm.client import LLMClient
from simrec.llm.prompts import render_slate, user_content
from simrec.llm.request import InvalidAnswer, LLMRequest, LLMResult, SystemBlock
from simrec.llm.validation import id_list_problems
from simrec.policies.llm_prompts import (
    PolicyTemplate,
    item_ids,
    load_policy_template,
    system_text,
    visit_lines,
)
from simrec.policies.retrieval import Retriever, candidates_many, observe_many, retriever_names
from simrec.policies.visit import Said, Visit
from simrec.reaction import Reaction
from simrec.validation import check_fields

log = logging.getLogger("simrec.llm")

BACKENDS = ("anthropic", "openai")
FALLBACKS = ("retriever", "raise")
DEFAULT_MODELS = {"anthropic": "claude-haiku-5-5"}
"""The model of a backend when none is given (an OpenAI-compatible server needs one)."""


@dataclass(frozen=True)
class LLMPolicyConfig:
    """How an LLM policy calls its model and where its candidates come from.

    Every field is also a keyword argument of the policy (and a parameter in a scenario
    file). The API key is never one: it is read from the environment (``ANTHROPIC_API_KEY``,
    or the variable ``api_key_env`` names), so it never reaches a scenario, a manifest or
    a log.

    Attributes:
        backend: ``anthropic`` (Claude) or ``openai`` (any OpenAI-compatible server).
        model: the model id (default ``claude-haiku-5-5`` on ``anthropic``; required on
            ``openai``).
        base_url: the API's base URL (``None``: the SDK's default, or
            ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL``).
        api_key_env: (``openai``) the variable holding the key (default
            ``OPENAI_API_KEY``; a server on this machine needs none).
        structured_output: (``openai``) ``auto``, ``json_schema``, ``tools`` or ``text``.
        cache, cache_path: the response cache: ``off``, ``record`` or ``replay``, and its
            sqlite file (may be the users' recording: keys never collide).
        concurrency: calls in flight at once (one per visit of a round).
        max_retries, timeout, unreachable_after, senders: as for the LLM brains.
        max_tokens: the answer's output budget.
        temperature: ``None`` leaves the model's default.
        retriever, retriever_params: the candidate generator (see
            :mod:`simrec.policies.retrieval`) and its parameters.
        candidates: how many candidates the model sees each turn (at least the slate size).
        on_invalid: after an answer stays invalid through the repair, or the API keeps
            failing: ``retriever`` (show the retriever's own top items, counted as a
            fallback) or ``raise`` (:class:`~simrec.errors.LLMResponseError`).
        prices: per-model price overrides (USD per million tokens), as for the brains.
    """

    backend: str = "anthropic"
    model: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    structured_output: str = "auto"
    cache: str = "off"
    cache_path: str | None = None
    concurrency: int = 8
    max_retries: int = 4
    timeout: float = 60.0
    unreachable_after: int = 10
    senders: int | None = None
    max_tokens: int = 400
    temperature: float | None = None
    retriever: str = "hybrid"
    retriever_params: Mapping[str, Any] = field(default_factory=dict)
    candidates: int = 20
    on_invalid: str = "retriever"
    prices: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        def fail(name: str, expected: str) -> None:
            raise ArgumentError(
                f"argument '{name}': expected {expected}, got {getattr(self, name)!r}", name
            )

        for name, choices in (
            ("backend", BACKENDS),
            ("cache", MODES),
            ("on_invalid", FALLBACKS),
            ("structured_output", ("auto", "json_schema", "tools", "text")),
            ("retriever", tuple(retriever_names())),
        ):
            if getattr(self, name) not in choices:
                fail(name, f"one of {', '.join(choices)}")
        if not self.model:
            default = DEFAULT_MODELS.get(self.backend)
            if default is None:
                fail("model", f"a model id (required with backend {self.backend!r})")
            object.__setattr__(self, "model", default)
        if not isinstance(self.model, str) or not self.model.strip():
            fail("model", "a model id")
        ranges = {"concurrency": (1, None), "max_retries": (0, None), "unreachable_after": (1, None),
                  "max_tokens": (1, None), "candidates": (1, None)}  # fmt: skip
        check_fields(self, ranges)
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not 0 < self.timeout < float("inf")
        ):
            fail("timeout", "a positive number of seconds")
        if self.senders is not None and (
            isinstance(self.senders, bool) or not isinstance(self.senders, int) or self.senders < 0
        ):
            fail("senders", "an integer >= 0 or null")
        if self.temperature is not None and (
            isinstance(self.temperature, bool)
            or not isinstance(self.temperature, (int, float))
            or not 0 <= self.temperature <= 2
        ):
            fail("temperature", "a number in [0, 2] or null")
        for name in ("base_url", "cache_path", "api_key_env"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                fail(name, "a string")
        if self.cache != "off" and not self.cache_path:
            fail("cache_path", f"the .sqlite file to {self.cache} (cache is {self.cache!r})")
        if not isinstance(self.retriever_params, Mapping):
            fail("retriever_params", "a mapping of the retriever's parameters")
        if self.prices is not None:
            try:
                resolve_prices(self.prices)
            except ConfigError as exc:
                raise ArgumentError(f"argument 'prices': {exc}", "prices") from None

    def backend_options(self) -> dict[str, Any]:
        """The backend's own options (beyond key, URL and HTTP client)."""
        if self.backend != "openai":
            return {}
        options: dict[str, Any] = {"structured_output": self.structured_output}
        if self.api_key_env is not None:
            options["api_key_env"] = self.api_key_env
        return options


@dataclass(frozen=True)
class Choice:
    """What a policy decided for one turn of one visit.

    Attributes:
        slate: ``k`` item indices.
        message: what it says with the slate (``None``: nothing).
        asked: the message is a clarifying question.
    """

    slate: np.ndarray
    message: str | None = None
    asked: bool = False


class LLMPolicy:
    """Base class of the LLM policies (see the module docstring).

    Subclasses set :attr:`name` and :attr:`template_name` and implement :meth:`schema`,
    :meth:`instruction`, :meth:`parse` and (optionally) :meth:`fallback`.

    Args:
        env: a single env, or the native vector env (``gym.make_vec``).
        seed: unused (each visit's retriever is seeded with its session id, so a visit's
            candidates never depend on what else runs); accepted like every policy's.
        api_key: the key (default: the backend's environment variable). Python only:
            never put a key in a scenario or a dataset's options.
        http_client: an ``httpx`` client for the SDK (tests pass one).
        ledger: a :class:`~simrec.llm.accounting.UsageLedger` to count into; default: the
            env's LLM brain's ledger when it has one (one report, roles apart), else a new
            one (:attr:`ledger`).
        **options: :attr:`config_class` fields (:class:`LLMPolicyConfig`'s, and a
            subclass's own).

    Raises:
        ArgumentError: an unknown or invalid option (naming it).
        ConfigError: an env that is not a simrec env.
    """

    name: ClassVar[str] = "llm"
    template_name: ClassVar[str] = ""
    config_class: ClassVar[type[LLMPolicyConfig]] = LLMPolicyConfig
    observes = True

    def __init__(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        seed: int | None = None,
        *,
        api_key: str | None = None,
        http_client: Any = None,
        ledger: UsageLedger | None = None,
        **options: Any,
    ) -> None:
        known = {f.name for f in fields(self.config_class)}
        for key in options:
            if key not in known:
                raise ArgumentError(
                    f"{type(self).__name__}: unknown option '{key}'; expected any of "
                    f"{', '.join(sorted(known))}",
                    key,
                )
        try:
            self.config = self.config_class(**options)
        except ArgumentError as exc:
            raise ArgumentError(f"{type(self).__name__}: {exc}", exc.argument) from None
        base = env.unwrapped
        self.vector = isinstance(base, gym.vector.VectorEnv)
        self.single = getattr(base, "env", None) if self.vector else base
        if not hasattr(self.single, "catalog") or not hasattr(self.single, "slate_size"):
            raise ConfigError(f"{type(self).__name__}: expected a simrec env, got {env!r}")
        self.catalog: Catalog = self.single.catalog
        self.k: int = int(self.single.slate_size)
        self.max_turns: int = int(self.single.max_turns)
        self.conversational = bool(getattr(self.single, "conversational", False))
        if self.config.candidates < self.k:
            raise ArgumentError(
                f"{type(self).__name__}: argument 'candidates': expected at least the slate "
                f"size ({self.k}), got {self.config.candidates}",
                "candidates",
            )
        # A retriever that cannot be built fails now, not mid-run.
        Retriever(self.single, self.config.retriever, 0, self.config.retriever_params)
        self.template: PolicyTemplate = load_policy_template(self.template_name)
        self._system = system_text(self.template, self.catalog, self.k)
        self.ledger = ledger if ledger is not None else self._run_ledger(base)
        if self.config.prices:
            given = resolve_prices(self.config.prices)
            self.ledger.prices.update({m: given[m] for m in self.config.prices})
        self._api_key = api_key
        self._http_client = http_client
        self._client: LLMClient | None = None
        self._visits: dict[int, Visit] = {}
        n = int(getattr(base, "num_envs", 1))
        self._rows: list[int | None] = [None] * n  # vector: each sub-env's visit
        self._resetting = np.zeros(n, dtype=bool)  # vector: ends next step, no call
        self._acted: list[int] | None = None  # vector: rows acted on, until update()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"{type(self).__name__}(backend={c.backend!r}, model={c.model!r}, "
            f"retriever={c.retriever!r}, candidates={c.candidates}, cache={c.cache!r})"
        )

    @staticmethod
    def _run_ledger(base: Any) -> UsageLedger:
        brain = getattr(getattr(base, "env", base), "brain", None)
        shared = getattr(brain, "ledger", None)
        return shared if isinstance(shared, UsageLedger) else UsageLedger()

    # -- the client ------------------------------------------------------------------------
    @property
    def client(self) -> LLMClient:
        """The client (created on first use).

        Raises:
            LLMConfigError: no SDK, or no key where one is needed (not in replay mode).
            ConfigError: the cache file cannot be used.
        """
        if self._client is None:
            self._client = LLMClient.from_config(
                self.config.backend,
                self.config,
                ledger=self.ledger,
                api_key=self._api_key,
                http_client=self._http_client,
            )
        return self._client

    def close(self) -> None:
        """Release the client's threads, connections and cache file (idempotent)."""
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> LLMPolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the policy protocol ---------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Nothing to do: visits are keyed by session id and start when first seen."""

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        """The next action: of one visit (single env), or of every sub-env (vector env).

        Raises:
            ConfigError: ``info`` has no ``session_id``, or (vector env) ``update`` was not
                called after the last step.
            LLMResponseError: an answer stayed invalid and ``on_invalid`` is ``raise``.
            LLMConfigError, CacheMissError: as the client raises them.
        """
        if self.vector:
            return self._act_vector(observation, info)
        return self.act_many([observation], [info])[0]

    def act_many(self, observations: Sequence[Any], infos: Sequence[dict[str, Any]]) -> list[Any]:
        """The next action of each of several visits (single-env observations and infos),
        their calls made concurrently."""
        entries = [self._visit(o, i) for o, i in zip(observations, infos, strict=True)]
        return [self._action(c) for c in self._decide(entries)]

    def update(
        self,
        observation: Any,
        reward: Any,
        info: dict[str, Any],
        terminated: Any = None,
        truncated: Any = None,
    ) -> None:
        """Learn from the step just taken; forget a visit that ended.

        In the vector env pass ``terminated`` and ``truncated`` (the step's arrays): a
        sub-env whose visit ended resets on the next step, and no call is made for it.

        Raises:
            ConfigError: (vector env) ``terminated`` / ``truncated`` missing.
        """
        if self.vector:
            self._update_vector(observation, info, terminated, truncated)
            return
        visit = self._visits.get(int(info.get("session_id", -1)))
        if visit is None or "reaction" not in info:
            return
        if int(info["turn"]) == visit.turn + 1:
            visit.record(observation, info)
        if info["reaction"].left or int(info["turn"]) >= self.max_turns:
            self._finish(visit.session_id)

    def take_usage(self, session_id: int | None = None) -> dict[str, float]:
        """What the calls made since the last take cost, of one visit (``session_id``) or
        of every visit in flight: ``input_tokens``, ``output_tokens``,
        ``cache_read_tokens``, ``cache_write_tokens``, ``latency_ms``, ``cost_usd`` and
        ``fallbacks`` (turns the declared fallback chose).

        The runners take it right after ``act``, before the step can end the visit (a
        visit that ended is forgotten; the ledger keeps every call).
        """
        visits = (
            list(self._visits.values())
            if session_id is None
            else [v for v in [self._visits.get(int(session_id))] if v is not None]
        )
        totals = dict.fromkeys(USAGE_KEYS, 0.0)
        for visit in visits:
            for call in visit.calls:
                for key in USAGE_KEYS[:-1]:
                    totals[key] += getattr(call, key)
            totals["fallbacks"] += visit.fallbacks
            visit.calls, visit.fallbacks = [], 0
        return totals

    # -- to implement ----------------------------------------------------------------------
    def schema(self) -> Any:
        """The :class:`~simrec.llm.request.OutputSchema` of an answer."""
        raise NotImplementedError

    def instruction(self, visit: Visit) -> dict[str, Any]:
        """Extra ``str.format`` values of the template's ``user`` text for this turn."""
        return {}

    def parse(self, data: Mapping[str, Any], visit: Visit, candidates: np.ndarray) -> Choice:
        """The choice an answer makes; raise :class:`~simrec.llm.request.InvalidAnswer`
        listing every problem (the client then asks once for a repair)."""
        raise NotImplementedError

    def fallback(self, visit: Visit, candidates: np.ndarray) -> Choice:
        """The declared fallback: the retriever's own top ``k``, with nothing said."""
        return Choice(candidates[: self.k].copy())

    # -- helpers for subclasses ------------------------------------------------------------
    def ranked(self, ranking: Any, candidates: np.ndarray) -> np.ndarray:
        """The slate a ranking of candidate ids names.

        Raises:
            InvalidAnswer: not a list of strings, ids that are not candidates, repeated
                ids, or fewer than ``k`` of them.
        """
        names = item_ids(self.catalog)
        ids = [names[i] for i in np.asarray(candidates).tolist()]
        position = {item_id: n for n, item_id in enumerate(ids)}
        problems = id_list_problems("ranking", ranking, position, "the current candidates")
        if not problems or "must be a list" not in problems[0]:
            distinct = len({r for r in ranking if r in position})
            if distinct < self.k:
                problems.append(f"{distinct} different candidate ids; the slate needs {self.k}")
        if problems:
            raise InvalidAnswer(problems)
        return candidates[[position[r] for r in ranking[: self.k]]].astype(np.int64)

    # -- one round -------------------------------------------------------------------------
    def _visit(self, observation: Any, info: Mapping[str, Any]) -> tuple[Visit, Any, Mapping]:
        if "session_id" not in info:
            raise ConfigError(
                f"{type(self).__name__}: info has no 'session_id' (the visit's id, which the "
                "LLM policy's memory and cache keys need); use a simrec env"
            )
        sid, turn = int(info["session_id"]), int(info["turn"])
        visit = self._visits.get(sid)
        if visit is None:
            visit = self._visits[sid] = Visit(
                sid,
                str(info.get("reply") or "") if turn == 0 else "",
                user_history(info),
                Retriever(self.single, self.config.retriever, sid, self.config.retriever_params),
            )
        if turn == visit.turn + 1 and "reaction" in info:
            visit.record(observation, dict(info))  # the step update() was not told of
        if turn != visit.turn:
            raise ConfigError(
                f"{type(self).__name__}: session {sid} is at turn {turn}, but the policy saw "
                f"{visit.turn} of its slates; act on each step's own observation and info"
            )
        return visit, observation, info

    def _decide(self, entries: list[tuple[Visit, Any, Mapping]]) -> list[Choice]:
        candidates = candidates_many(
            [v.retriever for v, _, _ in entries],
            [o for _, o, _ in entries],
            [dict(i) for _, _, i in entries],
            self.config.candidates,
        )
        requests = [self._request(v, c) for (v, _, _), c in zip(entries, candidates, strict=True)]
        validators = [
            (lambda data, v=v, c=c: self.parse(data, v, c))
            for (v, _, _), c in zip(entries, candidates, strict=True)
        ]
        results = self.client.complete_many(requests, validators) if requests else []
        return [
            self._settle(v, c, r, q)
            for (v, _, _), c, r, q in zip(entries, candidates, results, requests, strict=True)
        ]

    def _settle(
        self, visit: Visit, candidates: np.ndarray, result: LLMResult, request: LLMRequest
    ) -> Choice:
        visit.calls.extend(result.calls)
        if result.ok:
            self.ledger.add_step(repaired=result.repaired, role="policy")
            choice = result.value
        else:
            self.ledger.add_step(fallback=self.config.on_invalid, role="policy")
            if self.config.on_invalid == "raise":
                raise LLMResponseError(
                    f"{request.label}: {result.problem}. Pass on_invalid='retriever' to show "
                    "the retriever's order on such turns instead."
                )
            log.warning(
                "%s: %s; showing the retriever's order (counted as a fallback)",
                request.label,
                result.problem,
            )
            visit.fallbacks += 1
            choice = self.fallback(visit, candidates)
        visit.said = Said(choice.message, choice.asked)
        return choice

    def _request(self, visit: Visit, candidates: np.ndarray) -> LLMRequest:
        t = self.template
        lines = visit_lines(visit, self.catalog)
        memory = [t.visit_head + "\n" + lines[0], *lines[1:]]
        turn = visit.turn + 1
        user = t.user.format(
            turn=turn,
            k=self.k,
            candidates=render_slate(self.catalog, candidates.tolist()),
            **self.instruction(visit),
        )
        names = item_ids(self.catalog)
        ids = ", ".join(names[i] for i in candidates.tolist())
        return LLMRequest(
            model=self.config.model,
            system=(SystemBlock(self._system, cache=True),),
            messages=({"role": "user", "content": user_content(memory, user, bool(visit.steps))},),
            output=self.schema(),
            max_tokens=self.config.max_tokens,
            temperature=self.config.temperature,
            sample=("session", visit.session_id, "turn", turn, self.name),
            role="policy",
            prompt=t.tag,
            label=f"policy {self.name} (session {visit.session_id}), turn {turn}",
            repair=t.repair.replace("{k}", str(self.k)).replace("{ids}", ids),
        )

    def _action(self, choice: Choice) -> Any:
        if self.conversational:
            return {"slate": choice.slate, "message": choice.message or ""}
        return choice.slate

    def _finish(self, session_id: int) -> None:
        self._visits.pop(session_id, None)

    # -- the native vector env -------------------------------------------------------------
    def _act_vector(self, observation: Mapping[str, Any], infos: Mapping[str, Any]) -> Any:
        if self._acted is not None:
            raise ConfigError(
                f"{type(self).__name__} on a vector env: call policy.update(obs, rewards, "
                "infos, terminated, truncated) after every envs.step(...), so it knows which "
                "visits ended"
            )
        n = len(self._rows)
        rows = [i for i in range(n) if not self._resetting[i]]
        entries = []
        for i in rows:
            sid = int(infos["session_id"][i])
            previous = self._rows[i]
            if previous is not None and previous != sid:
                self._visits.pop(previous, None)  # an envs.reset() cut the visit short
            self._rows[i] = sid
            obs = {key: value[i] for key, value in observation.items()}
            entries.append(self._visit(obs, _sub_info(infos, i, self._last_slate(i))))
        choices = self._decide(entries)
        slates = np.tile(np.arange(self.k, dtype=np.int64), (n, 1))  # ignored: resetting
        messages = [""] * n
        for i, choice in zip(rows, choices, strict=True):
            slates[i] = choice.slate
            messages[i] = choice.message or ""
        self._slates = slates
        self._acted = rows
        if self.conversational:
            return {"slate": slates, "message": messages}
        return slates

    def _last_slate(self, row: int) -> list[int] | None:
        slates = getattr(self, "_slates", None)
        return None if slates is None else slates[row].tolist()

    def _update_vector(
        self, observation: Mapping[str, Any], infos: Mapping[str, Any], terminated: Any,
        truncated: Any,
    ) -> None:  # fmt: skip
        if terminated is None or truncated is None:
            raise ConfigError(
                f"{type(self).__name__} on a vector env: update(obs, rewards, infos, "
                "terminated, truncated) needs the step's terminated and truncated arrays"
            )
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        acted = self._acted or []
        self._resetting[:] = False
        learning: list[tuple[Retriever, dict[str, Any], dict[str, Any]]] = []
        for i in acted:
            sid = self._rows[i]
            visit = self._visits.get(sid) if sid is not None else None
            if visit is not None and int(infos["turn"][i]) == visit.turn + 1:
                obs = {key: value[i] for key, value in observation.items()}
                info = _sub_info(infos, i, self._slates[i].tolist())
                visit.add_step(info)
                learning.append((visit.retriever, obs, info))
            if done[i]:
                self._resetting[i] = True
                if sid is not None:
                    self._finish(sid)
                self._rows[i] = None
        if learning:
            observe_many(*(list(column) for column in zip(*learning, strict=True)))
        self._acted = None


USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "latency_ms",
    "cost_usd",
    "fallbacks",
)
"""What :meth:`LLMPolicy.take_usage` reports."""


def _sub_info(infos: Mapping[str, Any], row: int, slate: list[int] | None) -> dict[str, Any]:
    """Sub-env ``row``'s part of a vector info, shaped as the single env's info."""
    turn = int(infos["turn"][row])
    info: dict[str, Any] = {
        "turn": turn,
        "session_id": int(infos["session_id"][row]),
        "reply": str(infos["reply"][row]),
        "persona_id": str(infos["persona_id"][row]),
    }
    history = user_history(infos, row)
    if len(history):
        info["user_history"], info["user_history_length"] = history, len(history)
    if turn > 0 and slate is not None:
        k = len(slate)
        flags = {
            name: np.asarray(infos[name][row])[:k].astype(bool).tolist()
            for name in ("clicked", "purchased", "dismissed")
        }
        info["slate"] = slate
        info["reaction"] = Reaction(
            flags["clicked"],
            flags["purchased"],
            flags["dismissed"],
            False,
            float("nan"),
            info["reply"],
            "",
        )
    return info


__all__ = ["BACKENDS", "FALLBACKS", "Choice", "LLMPolicy", "LLMPolicyConfig", "USAGE_KEYS"]
