"""A scenario played by one brain: every policy on every seed, the event logs kept.

The LLM-vs-offline check runs the same scenario once per brain and compares what users
did, seed by seed; the fit replays the LLM brain's logs. Both need the same sessions for
every brain, whatever the number of calls in flight, so each episode gets its own policy
seeded by its session seed (:func:`run_brain`), as ``simrec run --concurrency`` does:
episode ``i`` of seed ``s`` is the same session for every brain and every concurrency.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.policies.adapters import load_policy
from simrec.runner import run_sessions
from simrec.scenario import PolicySpec, Scenario
from simrec.session import SessionDynamics

LLM_BRAINS = ("anthropic", "openai")


@dataclass(frozen=True)
class BrainSpec:
    """One brain of a comparison.

    Attributes:
        label: how reports name it (``utility``, ``anthropic``, ``utility[fitted]``).
        brain: the registered brain name.
        kwargs: its ``brain_kwargs``.
        dynamics: :class:`~simrec.session.SessionDynamics` overrides (a params file's).
    """

    label: str
    brain: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    dynamics: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_llm(self) -> bool:
        """Whether a language model plays the users."""
        return self.brain in LLM_BRAINS


Log = tuple[pd.DataFrame, pd.DataFrame]
"""``(interactions, turns)`` of one (policy, seed) batch."""


@dataclass
class BrainRun:
    """What one brain did in a scenario.

    Attributes:
        spec: the brain.
        logs: policy label -> one ``(interactions, turns)`` per seed, in seed order.
        usage: the LLM usage report (``None`` for an offline brain).
    """

    spec: BrainSpec
    logs: dict[str, list[Log]]
    usage: str | None = None


Progress = Callable[[str, str, int, int], None]
"""``progress(brain label, policy label, seed index, number of seeds)``."""


def brain_specs(
    names: Sequence[str],
    scenario: Scenario,
    llm_options: Mapping[str, Any] | None = None,
    utility_params: Mapping[str, Any] | None = None,
) -> list[BrainSpec]:
    """The brains named ``names`` for ``scenario``.

    A name is ``utility``, ``anthropic``, ``openai``, or ``utility:PARAMS.yaml`` (the
    utility brain with a params file, e.g. one :mod:`simrec.calibration.fit` wrote). A
    brain that is the scenario's own keeps the scenario's ``brain_kwargs`` (and its
    ``cache``); LLM brains take ``llm_options`` on top; a bare ``utility`` takes
    ``utility_params`` (``{"brain_kwargs": ..., "dynamics": ...}``) when the scenario's
    brain is another.

    Raises:
        ConfigError: an unknown or repeated brain, or a bad params file.
    """
    from simrec.calibration.params import load_brain_params

    own = scenario.env_kwargs.get("brain", "utility")
    own_kwargs = dict(scenario.env_kwargs.get("brain_kwargs") or {})
    specs = []
    for name in names:
        brain, _, params_file = name.partition(":")
        if brain not in ("utility", *LLM_BRAINS):
            raise ConfigError(
                f"--brains: unknown brain {brain!r}; expected utility, anthropic, openai or "
                "utility:PARAMS.yaml"
            )
        kwargs: dict[str, Any] = dict(own_kwargs) if brain == own else {}
        dynamics: dict[str, float] = {}
        label = brain
        if params_file:
            if brain != "utility":
                raise ConfigError(f"--brains: a params file goes with utility, not {brain!r}")
            params = load_brain_params(params_file)
            kwargs, dynamics = {**kwargs, **params.brain_kwargs}, dict(params.dynamics)
            label = f"utility[{Path(params_file).stem}]"
        elif brain == "utility" and brain != own and utility_params:
            kwargs = dict(utility_params.get("brain_kwargs") or {})
            dynamics = dict(utility_params.get("dynamics") or {})
        if brain in LLM_BRAINS:
            kwargs.update(llm_options or {})
        specs.append(BrainSpec(label, brain, kwargs, dynamics))
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--brains: each brain once, got {', '.join(labels)}")
    return specs


def run_brain(
    scenario: Scenario,
    spec: BrainSpec,
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> BrainRun:
    """Every policy of ``scenario`` on every seed, users played by ``spec``.

    Args:
        scenario: a loaded scenario.
        spec: the brain.
        concurrency: episodes in flight at once (an LLM brain's calls in flight); the
            logs are the same whatever it is.
        progress: called before each (policy, seed) batch.

    Raises:
        LLMConfigError, CacheMissError: from an LLM brain (no key, a replay miss ...).
    """
    env_kwargs = dict(scenario.env_kwargs)
    env_kwargs["brain"] = spec.brain
    env_kwargs["brain_kwargs"] = dict(spec.kwargs)
    if spec.is_llm:
        env_kwargs["brain_kwargs"].setdefault("concurrency", concurrency)
    if spec.dynamics:
        base = env_kwargs.get("dynamics") or SessionDynamics()
        env_kwargs["dynamics"] = dataclasses.replace(base, **spec.dynamics)
    env = RecSessionEnv(scenario.catalog, scenario.personas, **env_kwargs)
    logs: dict[str, list[Log]] = {}
    try:
        for label, policy in scenario.policies.items():
            logs[label] = []
            for k, seed in enumerate(scenario.seeds):
                if progress is not None:
                    progress(spec.label, label, k, len(scenario.seeds))
                logs[label].append(
                    _batch(env, policy, scenario.episodes, scenario.session_seed(seed), concurrency)
                )
        usage = None
        if spec.is_llm:
            from simrec.llm.cli_support import format_usage_report

            usage = format_usage_report(env.brain.ledger)
    finally:
        env.close()
    return BrainRun(spec, logs, usage)


def _batch(
    env: RecSessionEnv, spec: PolicySpec, episodes: int, first: int, concurrency: int
) -> Log:
    """``episodes`` sessions from seed ``first`` on, a fresh policy per episode."""

    def factory(lane: Any, session_seed: int) -> Any:
        return load_policy(
            spec.policy, lane, seed=session_seed, params=spec.params, load=spec.load,
            wrapper=spec.wrapper,
        )  # fmt: skip

    if concurrency > 1 and episodes > 1:
        # The policy argument is unused here: every episode gets its own from the factory.
        log = run_sessions(
            env, None, episodes, seed=first, concurrency=concurrency, policy_factory=factory
        )
    else:
        log = None
        for i in range(episodes):
            log = run_sessions(env, factory(env, first + i), 1, seed=first + i, log=log)
    return log.frames()


__all__ = ["BrainRun", "BrainSpec", "Log", "brain_specs", "run_brain"]
