"""Generate a synthetic interaction dataset: sharded, resumable, in parallel.

Sessions ``seed .. seed + sessions - 1`` are split into shards of ``shard_size``
consecutive ids; a shard is a pure function of the configuration and its index (each
session is reset with seed = its id and gets a fresh policy), so the dataset is the same
whether it was written by one process or many, in one go or resumed after a kill.

Shards run in worker processes (``workers``), each writing its three files atomically;
the parent commits a shard by recording it in ``_progress.json`` and, at the end, writes
``manifest.json``. See :mod:`simrec.datagen.store` for the layout and resume rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import platform
import queue
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import simrec
from simrec.datagen import formats, store
from simrec.datagen.progress import Progress
from simrec.datagen.stepper import LaneStepper, PolicyFactory, SteppingBackend, default_lanes
from simrec.datagen.tables import (
    SHARD_TABLES,
    USAGE_FIELDS,
    CostModel,
    item_table,
    persona_table,
    table_dtypes,
)
from simrec.datagen.vectorized import VectorBackend
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError, DatasetError
from simrec.policies import POLICIES, make_policy
from simrec.policies.batching import serves_many
from simrec.presets import find_preset

DEFAULT_SHARD_SIZE = 1000
_DEPENDENCIES = ("numpy", "pandas", "gymnasium", "pyarrow", "faker", "pyyaml", "anthropic")


@dataclass(frozen=True)
class TokenPrices:
    """A cost model from per-million-token prices in USD (``cost=TokenPrices(1.0, 5.0)``).

    Reads the token counts every :class:`~simrec.reaction.Reaction` carries.
    """

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0

    def __call__(self, reaction: Any, session: Any) -> float:
        """The estimated dollar cost of ``reaction``."""
        return (
            reaction.input_tokens * self.input
            + reaction.output_tokens * self.output
            + reaction.cache_read_tokens * self.cache_read
            + reaction.cache_write_tokens * self.cache_write
        ) / 1e6


@dataclass(frozen=True)
class GenerationConfig:
    """Everything that determines a dataset's content (hashed; a resume must match it).

    Attributes:
        env: the preset the env came from (name, id or file), for the record.
        env_kwargs: the :class:`RecSessionEnv` keyword arguments (JSON values).
        policy: a built-in policy name, or ``module:qualname`` of a policy factory.
        policy_params: the built-in policy's parameters (plain values; written to the
            manifest, so never a key; omitted from it when empty).
        sessions: number of sessions.
        seed: session ``i`` is reset with seed ``seed + i`` and logged as that id.
        shard_size: sessions per shard file.
        format: ``parquet``, ``csv`` or ``jsonl``.
        simrec_version: the simrec that generated it (a resume needs the same).
    """

    env: str
    env_kwargs: dict[str, Any]
    policy: str
    sessions: int
    seed: int
    shard_size: int
    format: str
    simrec_version: str = field(default_factory=lambda: simrec.__version__)
    policy_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (``policy_params`` only when there are any, so a run started
        before they existed resumes with the same digest)."""
        out = asdict(self)
        if not out["policy_params"]:
            del out["policy_params"]
        return out

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict` (what ``load_dataset`` checks)."""
        return store.config_digest(self.to_dict())

    @property
    def n_shards(self) -> int:
        """How many shards the sessions split into."""
        return -(-self.sessions // self.shard_size)

    def session_ids(self, index: int) -> range:
        """The session ids of shard ``index``."""
        first = index * self.shard_size
        last = min(first + self.shard_size, self.sessions)
        return range(self.seed + first, self.seed + last)


class _BuiltinPolicy:
    """A picklable factory for a built-in policy (so worker processes can rebuild it).

    A policy that serves many visits at once (an LLM policy: one client, one concurrent
    round of calls per turn) is built once per process and given to every session;
    any other is built fresh for each session.
    """

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.params = dict(params or {})
        self._shared: Any = None

    def __call__(self, env: RecSessionEnv, seed: int) -> Any:
        if self._shared is not None:
            return self._shared
        policy = make_policy(self.name, env, seed=seed, **self.params)
        if serves_many(policy):
            self._shared = policy
        return policy

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_shared": None}  # each process builds its own

    @property
    def concurrency(self) -> int:
        """Calls a policy serving many visits keeps in flight (its ``concurrency``
        parameter): the sessions to step together; 1 for any other policy."""
        cls = POLICIES[self.name]
        if not serves_many(cls):
            return 1
        default = getattr(getattr(cls, "config_class", None), "concurrency", 1)
        value = self.params.get("concurrency", default)
        return value if isinstance(value, int) and value >= 1 else 1

    def close(self) -> None:
        """Release the shared policy's resources (an LLM client's threads and cache)."""
        close = getattr(self._shared, "close", None)
        if callable(close):
            close()


def resolve_policy(
    policy: str | PolicyFactory, params: Mapping[str, Any] | None = None
) -> tuple[str, PolicyFactory]:
    """``(name for the config, factory)`` of a built-in name or a factory callable.

    Raises:
        ConfigError: an unknown name, parameters for a factory (give them to it), or a
            secret among the parameters (``api_key``: set it in the environment).
    """
    if params and "api_key" in params:
        raise ConfigError(
            "policy_params.api_key: not accepted, because policy parameters are recorded in "
            "the dataset's manifest; set ANTHROPIC_API_KEY (or the variable api_key_env "
            "names) in the environment instead"
        )
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ConfigError(f"unknown policy {policy!r}; expected one of: {', '.join(POLICIES)}")
        return policy, _BuiltinPolicy(policy, params)
    if params:
        raise ConfigError(
            "policy_params apply to a built-in policy name; pass them to your factory"
        )
    if callable(policy):
        name = (
            f"{getattr(policy, '__module__', '?')}:{getattr(policy, '__qualname__', repr(policy))}"
        )
        return name, policy
    raise ConfigError(f"policy: expected a policy name or a factory(env, seed), got {policy!r}")


def resolve_env(env: str | Mapping[str, Any], overrides: Mapping[str, Any]) -> tuple[str, dict]:
    """``(label, RecSessionEnv kwargs)`` from a preset name/id/file or a kwargs mapping."""
    if isinstance(env, str):
        label, kwargs = env, dict(find_preset(env).kwargs)
    elif isinstance(env, Mapping):
        label, kwargs = "custom", dict(env)
    else:
        raise ConfigError(f"env: expected a preset name or a mapping of env arguments, got {env!r}")
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    try:
        json.dumps(kwargs, sort_keys=True)
    except TypeError:
        raise ConfigError(
            "env arguments must be plain values (catalog and personas as file paths or "
            "{generate: ...} specs) so the dataset's manifest can record them"
        ) from None
    return label, kwargs


def brain_description(brain: Any) -> dict[str, Any]:
    """``brain``, ``model`` and ``prompt_version`` for the manifest (``None`` when not an LLM)."""
    config = getattr(brain, "config", None)
    template = getattr(brain, "template", None)
    return {
        "brain": getattr(brain, "name", type(brain).__name__),
        "model": getattr(brain, "model", None) or getattr(config, "model", None),
        "prompt_version": getattr(brain, "prompt_version", None) or getattr(template, "tag", None),
    }


def policy_description(runner: ShardRunner) -> dict[str, Any]:
    """``policy_model`` and ``policy_prompt_version`` for the manifest, when the policy is
    an LLM (``None`` otherwise)."""
    factory = runner.runtime.factory
    policy = getattr(factory, "_shared", None)
    if (
        policy is None
        and isinstance(factory, _BuiltinPolicy)
        and serves_many(POLICIES[factory.name])
    ):
        # built in a worker process only: an unused copy tells the model (no client yet)
        policy = make_policy(factory.name, runner.env, seed=0, **factory.params)
    config, template = getattr(policy, "config", None), getattr(policy, "template", None)
    return {
        "policy_model": getattr(config, "model", None),
        "policy_prompt_version": getattr(template, "tag", None),
    }


def resolve_cost(brain: Any, cost: CostModel | None) -> CostModel | None:
    """The cost model: the one given, else the brain's ``reaction_cost``, else none."""
    if cost is not None:
        return cost
    return getattr(brain, "reaction_cost", None)


BackendFactory = Callable[[RecSessionEnv, PolicyFactory, int, "CostModel | None"], SteppingBackend]
"""``backend(env, policy_factory, lanes, cost) -> SteppingBackend`` (default :class:`LaneStepper`)."""


@dataclass(frozen=True)
class Runtime:
    """How a run executes — not part of the dataset's identity (not hashed).

    Attributes:
        factory: ``factory(env, session_seed) -> policy``.
        lanes: sessions in flight per worker (``None``: the brain's concurrency, else 1).
        cost: per-reaction dollar estimate (``None``: the brain's ``reaction_cost``, if any).
        backend: builds the stepping backend; any backend must produce the same rows as
            :class:`LaneStepper` (the ``auto`` default: :class:`VectorBackend`).
        batch: send each step's LLM calls as one Message Batch (see :mod:`.batches`).
        batch_poll: seconds between batch status checks.
    """

    factory: PolicyFactory
    lanes: int | None = None
    cost: CostModel | None = None
    backend: BackendFactory = field(default_factory=VectorBackend)
    batch: bool = False
    batch_poll: float = 10.0


BACKENDS = ("auto", "vector", "single")
"""Named stepping backends (``generate(backend=...)``, ``simrec generate --backend``)."""


def resolve_backend(backend: str | BackendFactory, batch: bool = False) -> BackendFactory:
    """The stepping backend factory of a name in :data:`BACKENDS` or a factory.

    Batch mode needs per-session LLM calls, so ``auto`` means ``single`` there.
    """
    if callable(backend):
        return backend
    if backend not in BACKENDS:
        raise ConfigError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "single" or (batch and backend == "auto"):
        return LaneStepper
    if batch:
        raise ConfigError("backend 'vector' cannot run batch mode (an LLM brain); use 'auto'")
    return VectorBackend(strict=backend == "vector")


class ShardRunner:
    """Builds the env once and turns shard indices into tables (and files)."""

    def __init__(self, config: GenerationConfig, runtime: Runtime, out: Path | None) -> None:
        self.config = config
        self.runtime = runtime
        self.out = out
        self.env = RecSessionEnv(**config.env_kwargs)
        defaults = getattr(runtime.backend, "default_lanes", None)
        lanes = runtime.lanes or max(
            defaults(self.env, config.shard_size) if defaults else default_lanes(self.env.brain),
            getattr(runtime.factory, "concurrency", 1),  # an LLM policy's calls in flight
        )
        if runtime.batch:
            self.env.brain = _batch_brain(self.env.brain, out, runtime.batch_poll)
            lanes = runtime.lanes or config.shard_size
        self.cost = resolve_cost(self.env.brain, runtime.cost)
        self.stepper = runtime.backend(self.env, runtime.factory, lanes, self.cost)

    @property
    def is_llm(self) -> bool:
        """Whether to show tokens and dollars (a cost model, or a brain naming a model)."""
        return self.cost is not None or brain_description(self.env.brain)["model"] is not None

    def close(self) -> None:
        """Release the env, its brain and a shared policy (an LLM's threads, cache file,
        HTTP client)."""
        for owner in (self.env.brain, self.runtime.factory):
            close = getattr(owner, "close", None)
            if callable(close):
                close()
        self.env.close()

    def frames(self, index: int, on_step: Callable | None = None) -> dict[str, pd.DataFrame]:
        """The three tables of shard ``index``."""
        return self.stepper.run(self.config.session_ids(index), on_step).tables()

    def write(self, index: int, on_step: Callable | None = None) -> dict[str, Any]:
        """Write shard ``index``'s files atomically; returns its progress record."""
        assert self.out is not None
        frames = self.frames(index, on_step)
        files = {}
        for table in SHARD_TABLES:
            rel = store.shard_path(table, index, self.config.format)
            files[table] = write_table(self.out, rel, frames[table], self.config.format)
        return {"index": index, "files": files, "usage": usage_of(frames["turns"])}


def write_table(root: Path, rel: str, frame: pd.DataFrame, fmt: str) -> dict[str, Any]:
    """Encode and atomically write one table file; returns its manifest record."""
    data = formats.encode(frame, fmt)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    formats.write_atomic(path, data)
    return {
        "path": rel,
        "rows": len(frame),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


POLICY_TOTALS = (*USAGE_FIELDS, "cost_usd", "fallbacks")
"""The policy's own totals in a manifest's ``usage.policy`` (from the ``policy_*`` columns)."""


def usage_of(turns: pd.DataFrame) -> dict[str, Any]:
    """Token, cost and invalid-response totals of a ``turns`` table: the simulated users'
    at the top level, the policy's own calls apart under ``policy``."""
    usage: dict[str, Any] = {name: int(turns[name].sum()) for name in USAGE_FIELDS}
    usage["cost_usd"] = float(turns["cost_usd"].sum())
    usage["invalid_responses"] = int(turns["invalid_response"].sum())
    usage["policy"] = {
        name: (float if name == "cost_usd" else int)(turns[f"policy_{name}"].sum())
        for name in POLICY_TOTALS
    }
    return usage


def _batch_brain(brain: Any, out: Path | None, poll: float) -> Any:
    from simrec.datagen.batches import BatchBrain, BatchCapable

    if not isinstance(brain, BatchCapable):
        raise ConfigError(
            f"brain {getattr(brain, 'name', brain)!r} cannot run in batch mode (it needs "
            "batch_client, batch_request and batch_reaction: an LLM brain)"
        )
    if out is None:
        raise ConfigError(
            "batch mode needs an output directory (out=...): it records its batches there"
        )
    return BatchBrain(brain, out / store.BATCHES, poll_interval=poll)


# -- worker processes -------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent dies, so no orphan keeps writing shards."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init_worker(
    config: GenerationConfig, runtime: Runtime, out: Path, updates: Any, parent: int
) -> None:
    _die_with_parent()
    try:  # the parent may have died before the death signal was armed
        os.kill(parent, 0)
    except ProcessLookupError:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    updates.put(("hello", os.getpid()))  # more hellos than workers: one died and was replaced
    _WORKER["updates"] = updates
    try:
        _WORKER["runner"] = ShardRunner(config, runtime, out)
    except Exception as exc:  # raised from _work: a failing initializer would respawn forever
        _WORKER["error"] = exc


def _work(index: int) -> dict[str, Any]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    updates = _WORKER["updates"]
    pending = [0, 0, 0, 0.0]
    last = [time.perf_counter()]

    def on_step(sessions: int, rows: int, tokens: int, dollars: float) -> None:
        pending[0] += sessions
        pending[1] += rows
        pending[2] += tokens
        pending[3] += dollars
        now = time.perf_counter()
        if now - last[0] > 0.25:
            updates.put(("progress", tuple(pending)))
            pending[:] = [0, 0, 0, 0.0]
            last[0] = now

    record = _WORKER["runner"].write(index, on_step)
    updates.put(("progress", tuple(pending)))
    return record


# -- the run -----------------------------------------------------------------------------
def generate(
    env: str | Mapping[str, Any] = "golf",
    policy: str | PolicyFactory = "random",
    sessions: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    *,
    format: str = "parquet",
    shard_size: int = DEFAULT_SHARD_SIZE,
    workers: int = 1,
    lanes: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    cost: CostModel | None = None,
    backend: str | BackendFactory = "auto",
    batch: bool = False,
    batch_poll: float = 10.0,
    max_turns: int | None = None,
    slate_size: int | None = None,
    brain: str | None = None,
    brain_kwargs: Mapping[str, Any] | None = None,
    policy_params: Mapping[str, Any] | None = None,
) -> store.Dataset:
    """Generate ``sessions`` sessions of ``policy`` in ``env``; returns the dataset.

    Without ``out`` the tables stay in memory (for small runs in notebooks); with ``out``
    they are written as they are produced (shard by shard, bounded memory) and read back
    lazily from disk when used.

    Args:
        env: a preset (``golf``, ``simrec/Books-v0``, a preset ``.yaml``) or a mapping of
            :class:`RecSessionEnv` arguments (plain values: paths and specs).
        policy: a built-in policy name or ``factory(env, session_seed) -> policy``
            (called once per session; picklable to use ``workers > 1`` with spawn).
        sessions: number of sessions (ids ``seed`` .. ``seed + sessions - 1``).
        seed: session ``i`` is reset with seed ``seed + i`` and logged under that id.
        out: output directory, or ``None`` for in-memory.
        format: ``parquet`` (needs pyarrow), ``csv`` or ``jsonl``.
        shard_size: sessions per shard file (the unit of resume).
        workers: processes generating shards in parallel.
        lanes: sessions stepped together per worker (default: the brain's concurrency, else 1).
        resume: continue an interrupted run in ``out`` (the options must be the same).
        overwrite: replace an existing dataset in ``out``.
        progress: draw a live progress bar on stderr.
        cost: per-reaction dollar estimate, e.g. :class:`TokenPrices` (default: the
            brain's ``reaction_cost`` hook if it has one, else what each reaction says it
            cost — live Claude calls at list price, batch answers at half, replays free).
        backend: how sessions are stepped — ``auto`` (the vector backend where it
            applies: the utility brain, no cost model, a policy that does not read
            observations; else ``single``), ``vector`` (that, or an error), ``single``
            (:class:`LaneStepper`, sessions stepped one env step at a time), or a
            stepping backend factory (see :class:`Runtime`). All give the same dataset.
        batch: send each step's LLM calls as one Message Batches request (half price;
            one process: a batch already carries every session of the shard).
        batch_poll: seconds between batch status checks.
        max_turns, slate_size, brain, brain_kwargs: env overrides.
        policy_params: the built-in policy's parameters (plain values, recorded in the
            manifest: never an API key). A policy that serves many visits at once (an LLM
            policy) is built once per worker and, unless ``lanes`` says otherwise, steps
            as many sessions together as it keeps calls in flight (its ``concurrency``).

    Raises:
        DatasetError: the output exists (without ``resume`` / ``overwrite``), cannot be
            written, or belongs to a run with other options.
        ConfigError: an unknown preset, policy or bad option.
    """
    for name, value, low in (
        ("sessions", sessions, 1),
        ("shard_size", shard_size, 1),
        ("workers", workers, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name}: expected an integer >= {low}, got {value!r}")
    if format not in formats.FORMATS or out is not None:
        formats.check_format(format)
    if brain_kwargs is not None and "api_key" in brain_kwargs:
        raise ConfigError(
            "brain_kwargs.api_key: not accepted here, because brain options are recorded in "
            "the dataset's manifest; set ANTHROPIC_API_KEY in the environment instead"
        )
    label, env_kwargs = resolve_env(
        env,
        {
            "max_turns": max_turns,
            "slate_size": slate_size,
            "brain": brain,
            "brain_kwargs": dict(brain_kwargs) if brain_kwargs is not None else None,
        },
    )
    policy_name, factory = resolve_policy(policy, policy_params)
    params = dict(policy_params or {})
    try:
        json.dumps(params, sort_keys=True)
    except TypeError:
        raise ConfigError(
            "policy_params must be plain values (the dataset's manifest records them)"
        ) from None
    config = GenerationConfig(
        label, env_kwargs, policy_name, sessions, int(seed), shard_size, format,
        policy_params=params,
    )  # fmt: skip
    runtime = Runtime(factory, lanes, cost, resolve_backend(backend, batch), batch, batch_poll)
    if batch:
        workers = 1
    if out is None:
        return _in_memory(config, runtime, progress)
    return _to_disk(config, runtime, Path(out), workers, resume, overwrite, progress)


def _static_frames(runner: ShardRunner) -> dict[str, tuple[pd.DataFrame, dict[str, str]]]:
    items, item_dtypes = item_table(runner.env.catalog)
    return {
        "personas": (persona_table(runner.env.personas), table_dtypes("personas")),
        "items": (items, item_dtypes),
    }


def _in_memory(config: GenerationConfig, runtime: Runtime, show: bool) -> store.Dataset:
    runner = ShardRunner(config, runtime, None)
    bar = Progress(config.sessions, show=show, llm=runner.is_llm)
    try:
        parts = [runner.frames(i, bar.add) for i in range(config.n_shards)]
    finally:
        bar.close()
        runner.close()
    frames = {t: pd.concat([p[t] for p in parts], ignore_index=True) for t in SHARD_TABLES}
    static = _static_frames(runner)
    frames.update({name: frame for name, (frame, _) in static.items()})
    dtypes = {t: table_dtypes(t) for t in SHARD_TABLES}
    dtypes.update({name: d for name, (_, d) in static.items()})
    manifest = _manifest(config, runner, dtypes, {t: [] for t in frames}, usage_of(frames["turns"]))
    manifest["rows"] = {t: len(f) for t, f in frames.items()}
    return store.Dataset(manifest, None, frames)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    import fcntl

    handle = open(out / store.LOCK, "a")  # noqa: SIM115 (held for the whole run)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(f"{out}: another simrec generate is writing to it") from None
        yield
    finally:
        handle.close()


def _to_disk(
    config: GenerationConfig,
    runtime: Runtime,
    out: Path,
    workers: int,
    resume: bool,
    overwrite: bool,
    show: bool,
) -> store.Dataset:
    created = _missing_dirs(out)
    lock_is_ours = not (out / store.LOCK).exists()
    store.prepare_output(out, resume, overwrite)
    try:
        return _write_locked(config, runtime, out, workers, show)
    except BaseException:
        _remove_if_unused(out, created, lock_is_ours)
        raise


def _missing_dirs(out: Path) -> list[Path]:
    """``out`` and its ancestors that do not exist yet (innermost first): what a run creates."""
    missing = []
    while not out.exists() and out != out.parent:
        missing.append(out)
        out = out.parent
    return missing


def _remove_if_unused(out: Path, created: list[Path], lock_is_ours: bool) -> None:
    """Undo a run that failed before writing anything (e.g. a bad brain option).

    Once the run has written a file besides its lock, the directory is a resumable
    dataset and stays; until then, only the lock and the directories it created go.
    """
    if not out.is_dir() or any(child.name != store.LOCK for child in out.iterdir()):
        return
    if lock_is_ours:
        (out / store.LOCK).unlink(missing_ok=True)
    for directory in created:
        try:
            directory.rmdir()
        except OSError:  # not empty (someone else wrote there): keep it and its parents
            return


def _write_locked(
    config: GenerationConfig, runtime: Runtime, out: Path, workers: int, show: bool
) -> store.Dataset:
    """Write (or finish) the dataset in the prepared directory ``out`` under its lock."""
    with _locked(out):
        manifest_path = out / store.MANIFEST
        if manifest_path.exists():  # resuming a finished run: nothing to do
            manifest = store.read_json(manifest_path)
            _check_same_config(manifest_path, manifest.get("config", {}), config)
            (out / store.LOCK).unlink(missing_ok=True)
            return store.load_dataset(out)
        state = _load_state(out, config)
        runner = ShardRunner(config, runtime, out)
        try:
            if not (out / store.PROGRESS).exists():  # from here on, the directory is ours
                store.write_json(out / store.PROGRESS, state)
            for name, (frame, dtypes) in _static_frames(runner).items():
                if name not in state["static"]:
                    record = write_table(
                        out, store.static_path(name, config.format), frame, config.format
                    )
                    state["static"][name] = {**record, "columns": list(dtypes.items())}
            committed = {f["path"] for s in state["shards"].values() for f in s["files"].values()}
            store.remove_uncommitted(out, committed)
            store.write_json(out / store.PROGRESS, state)
            todo = [i for i in range(config.n_shards) if str(i) not in state["shards"]]
            done = sum(len(config.session_ids(int(i))) for i in state["shards"])
            bar = Progress(config.sessions, done, show=show, llm=runner.is_llm)
            try:
                _run_shards(runner, out, state, todo, workers, bar)
            finally:
                bar.close()
                runner.close()
        except KeyboardInterrupt:
            raise DatasetError(
                f"{out}: interrupted; {_complete(out)} of {config.n_shards} shards are "
                "complete. Run again with --resume (same options) to finish"
            ) from None
        except OSError as exc:
            complete = _complete(out)
            where = exc.filename or out
            raise DatasetError(
                f"{where}: cannot write: {exc.strerror or exc}. {complete} of "
                f"{config.n_shards} shards are complete and intact; fix the problem and run "
                "again with --resume (same options) to finish"
            ) from None
        manifest = _final_manifest(config, runner, state)
        store.write_json(manifest_path, manifest, indent=2)
        (out / store.PROGRESS).unlink(missing_ok=True)
        (out / store.BATCHES).unlink(missing_ok=True)
        (out / store.LOCK).unlink(missing_ok=True)
    return store.Dataset(manifest, out)


def _complete(out: Path) -> int:
    """Shards the progress file records as complete: what a resume will find.

    Read back from the file, not from memory: an interrupt can land while the file is
    being replaced, on either side of the replacement.
    """
    try:
        return len(store.read_json(out / store.PROGRESS).get("shards", {}))
    except DatasetError:
        return 0


def _check_same_config(source: Path, recorded: Mapping[str, Any], config: GenerationConfig) -> None:
    current = config.to_dict()
    differs = sorted(k for k in set(current) | set(recorded) if current.get(k) != recorded.get(k))
    if differs:
        raise DatasetError(
            f"{source}: the existing run used other options (differing: {', '.join(differs)}); "
            "resume with the same options, or pass --overwrite to start again"
        )


def _load_state(out: Path, config: GenerationConfig) -> dict[str, Any]:
    path = out / store.PROGRESS
    if not path.exists():
        return {
            "config": config.to_dict(),
            "config_hash": config.digest,
            "static": {},
            "shards": {},
        }
    state = store.read_json(path)
    _check_same_config(path, state.get("config", {}), config)
    # A resume builds on every committed file: check each one's bytes, not just its size,
    # so a shard edited on disk is refused now rather than failing a later load_dataset.
    for shard in list(state["shards"].values()) + [{"files": state["static"]}]:
        for record in shard["files"].values():
            try:
                store.verify_file(out, record, listed_in=str(path))
            except DatasetError as exc:
                raise DatasetError(
                    f"{exc}; --resume cannot build on it: restore the file, or start again "
                    "with --overwrite"
                ) from None
    return state


def _run_shards(
    runner: ShardRunner,
    out: Path,
    state: dict[str, Any],
    todo: list[int],
    workers: int,
    bar: Progress,
) -> None:
    pause_after = _pause_after()

    def commit(record: dict[str, Any]) -> None:
        state["shards"][str(record["index"])] = {"files": record["files"], "usage": record["usage"]}
        store.write_json(out / store.PROGRESS, state)
        if pause_after is not None and len(state["shards"]) >= pause_after:
            _wait_forever()

    if workers == 1 or len(todo) <= 1:
        for index in todo:
            commit(runner.write(index, bar.add))
        return
    # forkserver, not fork: forking a process that has threads (an LLM brain's pool, a
    # progress bar, a test server) can copy a held lock into the child and hang it.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simrec.datagen.generate"])
    updates = ctx.Queue()
    size = min(workers, len(todo))
    pool = ctx.Pool(
        size,
        initializer=_init_worker,
        initargs=(runner.config, runner.runtime, out, updates, os.getpid()),
    )
    try:
        results = pool.imap_unordered(_work, todo)
        remaining, started = len(todo), 0
        while remaining:
            try:
                record = results.next(timeout=0.2)
            except multiprocessing.TimeoutError:
                record = None
            started += _drain(updates, bar)
            if started > size:
                raise DatasetError(
                    f"{out}: a worker process died (killed by a signal — out of memory?); "
                    f"{_complete(out)} of {runner.config.n_shards} shards are complete. "
                    "Run again with --resume (same options) to finish"
                )
            if record is not None:
                commit(record)
                remaining -= 1
        _drain(updates, bar)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


PAUSE_AFTER_SHARDS = "SIMREC_PAUSE_AFTER_SHARDS"
"""Environment variable: after this many committed shards the run stops making progress and
waits to be killed or interrupted. It gives tests (and anyone checking their own recovery
procedure) an interruption at a known point instead of a race with a running process."""


def _pause_after() -> int | None:
    text = os.environ.get(PAUSE_AFTER_SHARDS)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise DatasetError(f"{PAUSE_AFTER_SHARDS}: expected a positive integer, got {text!r}")
    return value


def _wait_forever() -> None:
    """Block until a signal ends the process (Ctrl-C raises ``KeyboardInterrupt`` here)."""
    while True:
        time.sleep(3600)


def _drain(updates: Any, bar: Progress) -> int:
    """Apply workers' progress messages; returns how many workers announced their start."""
    hellos = 0
    while True:
        try:
            kind, payload = updates.get_nowait()
        except queue.Empty:
            return hellos
        if kind == "hello":
            hellos += 1
        else:
            bar.add(*payload)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _manifest(
    config: GenerationConfig,
    runner: ShardRunner,
    dtypes: Mapping[str, Mapping[str, str]],
    files: Mapping[str, list[dict[str, Any]]],
    usage: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "manifest_version": store.MANIFEST_VERSION,
        "simrec_version": simrec.__version__,
        "dependencies": _versions(),
        **{name: getattr(config, name) for name in store.CONFIG_COPIES},  # for readers
        "config": config.to_dict(),
        "config_hash": config.digest,
        **brain_description(runner.env.brain),
        **policy_description(runner),
        "usage": dict(usage),
        "rows": {t: sum(f["rows"] for f in fs) for t, fs in files.items()},
        "tables": {
            t: {"columns": [[c, d] for c, d in dtypes[t].items()], "files": list(files[t])}
            for t in files
        },
    }


def _final_manifest(
    config: GenerationConfig, runner: ShardRunner, state: dict[str, Any]
) -> dict[str, Any]:
    shards = [state["shards"][str(i)] for i in range(config.n_shards)]
    files: dict[str, list[dict[str, Any]]] = {
        t: [s["files"][t] for s in shards] for t in SHARD_TABLES
    }
    dtypes: dict[str, Mapping[str, str]] = {t: table_dtypes(t) for t in SHARD_TABLES}
    for name, record in state["static"].items():
        files[name] = [{k: v for k, v in record.items() if k != "columns"}]
        dtypes[name] = dict(record["columns"])
    usage: dict[str, Any] = {name: sum(s["usage"][name] for s in shards) for name in USAGE_FIELDS}
    usage["cost_usd"] = sum(s["usage"]["cost_usd"] for s in shards)
    usage["invalid_responses"] = sum(s["usage"]["invalid_responses"] for s in shards)
    usage["policy"] = {
        name: sum(s["usage"].get("policy", {}).get(name, 0) for s in shards)
        for name in POLICY_TOTALS
    }
    return _manifest(config, runner, dtypes, files, usage)
