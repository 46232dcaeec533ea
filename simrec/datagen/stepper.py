"""Step many independent sessions through one batched brain call per turn.

Data generation needs two things the one-session env loop does not give: LLM brains must
see many sessions at once (one ``brain.react`` call over every session in flight, so their
calls run concurrently), and every session must be an independent unit keyed by its id
(reset with seed ``session_id``, a fresh policy), so a dataset does not depend on how
sessions were split into shards, processes or resumed runs.

:class:`LaneStepper` keeps up to ``lanes`` sessions in flight. Each session is started by
the env's own ``reset(seed=session_id)`` (same persona draw, same generator as
:func:`simrec.runner.run_sessions`), and each step does what ``RecSessionEnv.step``
does, in the same order, except that the brain is called once for all lanes. The result
is row-for-row the event log ``run_sessions`` produces with the same seeds (tested).
Observations and ``info`` are built only for policies that read them (a policy with
``observes = False`` and no ``update`` gets ``None``). Policies that emit semantic ids
(``action_form``) have their slates resolved as :class:`~simrec.semantic_ids.SemanticIdSlate`
does; in conversational mode each policy's message goes to the brain and the log; what a
policy reports through ``take_usage()`` lands in the turn's ``policy_*`` columns.

A stepping backend is anything with ``run(session_ids, on_step) -> ShardRecorder``; a
native vector env can replace this one without touching sharding, resume or writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from simrec.datagen.tables import CostModel, ShardRecorder
from simrec.env import RecSessionEnv
from simrec.policies import Policy, PolicyUsage, as_policy
from simrec.runner import PolicyActions, choose_actions
from simrec.semantic_ids import ResolvedSlate, action_form
from simrec.session import Session

PolicyFactory = Callable[[RecSessionEnv, int], Any]
"""``factory(env, session_seed) -> policy``: called once per session."""

StepCallback = Callable[[int, int, int, float], None]
"""``on_step(sessions_finished, rows, tokens, dollars)``: deltas since the last call."""


class SteppingBackend(Protocol):
    """Runs sessions and returns their logged steps (the pluggable part of generation)."""

    def run(self, session_ids: Sequence[int], on_step: StepCallback | None = None) -> ShardRecorder:
        """Run every session of ``session_ids`` to its end; returns the recorded steps."""
        ...


def default_lanes(brain: Any) -> int:
    """Sessions in flight per worker: the brain's declared concurrency, else 1."""
    for owner in (brain, getattr(brain, "config", None)):
        value = getattr(owner, "concurrency", None)
        if isinstance(value, int) and value >= 1:
            return value
    return 1


@dataclass
class _Lane:
    session_id: int
    session: Session
    rng: np.random.Generator
    policy: Policy
    obs: dict[str, np.ndarray] | None
    info: dict[str, Any] | None
    observes: bool
    actions: PolicyActions


@dataclass
class _Step:
    """One lane's checked action: the slate shown and what goes with it in the log."""

    slate: list[int]
    duplicates: int
    named: ResolvedSlate | None
    message: str | None
    usage: PolicyUsage | None


class LaneStepper:
    """The default stepping backend: ``lanes`` sessions in flight, one brain call per turn.

    Args:
        env: a :class:`RecSessionEnv` (its brain, catalog and settings are used; its own
            session and event log are not touched between steps).
        policy_factory: ``factory(env, session_seed) -> policy``; a fresh policy per
            session keeps sessions independent (return a shared object for a frozen model).
        lanes: sessions stepped together; LLM brains get this many concurrent calls.
        cost: per-reaction dollar estimate (``None``: each reaction's own ``cost_usd``).
    """

    def __init__(
        self,
        env: RecSessionEnv,
        policy_factory: PolicyFactory,
        lanes: int = 1,
        cost: CostModel | None = None,
    ) -> None:
        if lanes < 1:
            raise ValueError(f"lanes: expected a positive integer, got {lanes}")
        self.env = env
        self.policy_factory = policy_factory
        self.lanes = lanes
        self.cost = cost

    def run(self, session_ids: Sequence[int], on_step: StepCallback | None = None) -> ShardRecorder:
        """Run every session of ``session_ids``; returns the recorder holding their steps."""
        env = self.env
        k = env.slate_size
        recorder = ShardRecorder(env.catalog, k, env.reward_weights, self.cost)
        pending = iter(session_ids)
        lanes = [lane for lane in (self._start(pending) for _ in range(self.lanes)) if lane]
        brain, max_turns = env.brain, env.max_turns
        while lanes:
            chosen = choose_actions([(ln.policy, ln.obs, ln.info, ln.actions) for ln in lanes])
            steps = [self._check(action, usage) for action, usage in chosen]
            reactions = brain.react(
                [lane.session for lane in lanes],
                [step.slate for step in steps],
                [step.message for step in steps],
                [lane.rng for lane in lanes],
            )
            finished = tokens = 0
            dollars = 0.0
            survivors = []
            for lane, step, reaction in zip(lanes, steps, reactions, strict=True):
                session, slate, dup = lane.session, step.slate, step.duplicates
                dollars += recorder.add(
                    lane.session_id, session, slate, reaction, dup, step.named, step.message,
                    step.usage,
                )  # fmt: skip
                tokens += reaction.input_tokens + reaction.output_tokens
                session.record(slate, reaction)
                if lane.observes:
                    reward = env.reward(reaction)
                    lane.obs, lane.info = self._observe(session, step, reaction, reward)
                    if hasattr(lane.policy, "update"):
                        lane.policy.update(lane.obs, reward, lane.info)
                if reaction.left or session.turn >= max_turns:
                    finished += 1
                    lane = self._start(pending)
                if lane is not None:
                    survivors.append(lane)
            lanes = survivors
            if on_step is not None:
                on_step(finished, len(reactions) * k, tokens, dollars)
        return recorder

    def _check(self, action: Any, usage: PolicyUsage | None) -> _Step:
        """A lane's resolved action, checked as ``env.step`` would."""
        env = self.env
        message = None
        if env.conversational:
            action, message = env.split_action(action)
        slate, duplicates = env.validate_slate(action)
        named = action if isinstance(action, ResolvedSlate) else None
        return _Step(slate, duplicates, named, message, usage)

    def _start(self, pending: Iterator[int]) -> _Lane | None:
        session_id = next(pending, None)
        if session_id is None:
            return None
        env = self.env
        obs, info = env.reset(seed=session_id, options={"session_id": session_id})
        policy = as_policy(self.policy_factory(env, session_id))
        if hasattr(policy, "reset"):
            policy.reset(seed=session_id)
        assert env.session is not None
        observes = getattr(policy, "observes", True) or hasattr(policy, "update")
        actions = PolicyActions(env, action_form(policy))
        return _Lane(session_id, env.session, env.np_random, policy, obs, info, observes, actions)

    def _observe(
        self, session: Session, step: _Step, reaction: Any, reward: float
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        # The env builds observations and info from its current session; pointing it at
        # this lane's session reuses exactly the code a policy sees through env.step.
        env = self.env
        env.session, env.session_id = session, session.session_id
        env._last_slate = step.slate
        env._last_named = step.named
        env._message = step.message
        return env._observation(), env._info(reaction, step.duplicates, reward)
