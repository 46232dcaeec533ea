"""Run a policy through seeded sessions and collect the event log.

This is the loop behind ``simrec run`` and scenarios: session ``i`` is reset with seed
``seed + i`` and logged as ``session_id = seed + i``, so any session can be replayed on
its own from its id. A policy that emits semantic ids (``action_form``) has its slates
resolved as :class:`~simrec.semantic_ids.SemanticIdSlate` does; in conversational mode a
bare slate says nothing; what a policy reports through ``take_usage()`` is logged in the
turn's ``policy_*`` columns (:class:`PolicyActions` does all three).

With ``concurrency`` > 1, that many episodes are in flight at once, each in its own lane
(:meth:`~simrec.env.RecSessionEnv.spawn`: the same brain, catalog and settings) with its
own policy, and each step's reactions come from one batched ``brain.react`` call, so an
LLM brain answers the lanes concurrently. Sessions never share state, so the event log
is the same whatever the concurrency (rows in episode order), for offline brains and for
LLM brains replayed from a recording.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from simrec.errors import ConfigError
from simrec.events import EventLog
from simrec.policies import Policy, PolicyUsage, as_policy, take_usage, with_message
from simrec.policies.batching import act_together, serves_many
from simrec.semantic_ids import ITEM_INDEX, SlateResolver, for_action_form, hierarchy_of
from simrec.semantic_ids import action_form as policy_form

StepHook = Callable[[gym.Env, dict[str, Any]], None]
PolicyFactory = Callable[[gym.Env, int], Any]
"""``factory(env, session_seed) -> policy``: a fresh policy for one episode."""


def run_sessions(
    env: gym.Env,
    policy: Policy | Callable[..., Any],
    episodes: int,
    seed: int = 0,
    log: EventLog | None = None,
    on_step: StepHook | None = None,
    on_reset: StepHook | None = None,
    action_form: str | None = None,
    *,
    concurrency: int = 1,
    policy_factory: PolicyFactory | None = None,
) -> EventLog:
    """Run ``episodes`` sessions of ``policy`` in ``env``; returns the event log.

    Args:
        env: a simrec env (wrapped or not).
        policy: an object with ``act(obs, info)`` (optionally ``reset(seed)``,
            ``update(obs, reward, info)``, ``action_form``, ``take_usage()``) or a
            plain callable.
        episodes: number of sessions.
        seed: session ``i`` uses seed ``seed + i`` and session id ``seed + i``.
        log: an event log to append to (a new one by default).
        on_step / on_reset: called with ``(env, info)`` after each step / reset
            (transcripts, progress bars); with ``concurrency`` > 1 the ``env`` is the
            episode's lane and calls of different episodes interleave.
        action_form: what the policy's slates are made of (default: its own
            ``action_form``, else item indices); see :mod:`simrec.semantic_ids`.
        concurrency: episodes in flight at once.
        policy_factory: ``factory(env, session_seed) -> policy``, a fresh policy per
            episode; needed when ``concurrency`` > 1 (a policy object plays one session at
            a time), unless ``policy`` serves many visits at once (``act_many``: an LLM
            policy), which then plays every lane, asked once per round.

    Raises:
        ConfigError: ``concurrency`` > 1 without ``policy_factory``.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency: expected an integer >= 1, got {concurrency!r}")
    log = log if log is not None else EventLog()
    if concurrency > 1 and episodes > 1:
        if policy_factory is None and serves_many(policy):
            policy_factory = _shared(policy)
        if policy_factory is None:
            raise ConfigError(
                "concurrency > 1 needs a policy_factory(env, seed): episodes in flight "
                "together each need their own policy"
            )
        _run_lanes(
            env, policy_factory, episodes, seed, log, on_step, on_reset, concurrency, action_form
        )
        return log
    policy = as_policy(policy)
    env = for_action_form(env, action_form or policy_form(policy))
    base = env.unwrapped
    conversational = bool(getattr(base, "conversational", False))
    previous, base.event_log = base.event_log, log
    try:
        for episode in range(episodes):
            session_seed = seed + episode
            obs, info = env.reset(seed=session_seed, options={"session_id": session_seed})
            if hasattr(policy, "reset"):
                policy.reset(seed=session_seed)
            if on_reset is not None:
                on_reset(env, info)
            done = False
            while not done:
                action = with_message(policy.act(obs, info), conversational)
                usage = take_usage(policy, info)
                obs, reward, terminated, truncated, info = env.step(action)
                charge(log, usage)
                if hasattr(policy, "update"):
                    policy.update(obs, reward, info)
                if on_step is not None:
                    on_step(env, info)
                done = terminated or truncated
    finally:
        base.event_log = previous
    return log


def _shared(policy: Any) -> PolicyFactory:
    return lambda env, session_seed: policy


def charge(log: EventLog, usage: PolicyUsage | None) -> None:
    """Add a policy's reported usage to the last logged turn (nothing if it reports none)."""
    if usage is not None:
        log.charge_policy(**dataclasses.asdict(usage))


class PolicyActions:
    """What a policy returns, as :meth:`RecSessionEnv.prepare_step` takes it.

    Resolves semantic-id slates (``form``), lets a bare slate say nothing in
    conversational mode, and takes the policy's reported usage for the step. Used where
    sessions are stepped without the env's own ``step`` (lanes, data generation).

    Args:
        env: the (unwrapped) env the actions are for.
        form: the policy's action form (:data:`~simrec.semantic_ids.ACTION_FORMS`).
    """

    def __init__(self, env: Any, form: str) -> None:
        self.form = form
        self.conversational = bool(env.conversational)
        self.resolver = (
            SlateResolver(hierarchy_of(env.catalog), env.slate_size) if form != ITEM_INDEX else None
        )

    def __call__(self, policy: Policy, obs: Any, info: Any) -> tuple[Any, PolicyUsage | None]:
        """``policy``'s next action for the env, and what choosing it cost the policy."""
        return self.finish(policy, policy.act(obs, info), info)

    def finish(self, policy: Policy, action: Any, info: Any) -> tuple[Any, PolicyUsage | None]:
        """``action`` (what ``policy`` chose after seeing ``info``) as the env takes it, and
        what choosing it cost the policy."""
        action = with_message(action, self.conversational)
        usage = take_usage(policy, info)
        if self.resolver is not None:
            action = self.resolver.resolve_action(action, self.form, self.conversational)
        return action, usage


def choose_actions(
    lanes: Sequence[tuple[Policy, Any, Any, PolicyActions]],
) -> list[tuple[Any, PolicyUsage | None]]:
    """Every lane's ``(action, usage)`` from ``(policy, observation, info, actions)``:
    a policy serving many lanes is asked once for all of them (its calls run
    concurrently, :func:`~simrec.policies.batching.act_together`), others lane by lane."""
    chosen = act_together(
        [p for p, _, _, _ in lanes], [o for _, o, _, _ in lanes], [i for _, _, i, _ in lanes]
    )
    return [
        actions.finish(policy, action, info)
        for (policy, _, info, actions), action in zip(lanes, chosen, strict=True)
    ]


@dataclass
class _Lane:
    env: Any
    policy: Policy
    episode: int
    obs: Any
    info: dict[str, Any]
    actions: PolicyActions


def _run_lanes(
    env: gym.Env,
    factory: PolicyFactory,
    episodes: int,
    seed: int,
    log: EventLog,
    on_step: StepHook | None,
    on_reset: StepHook | None,
    concurrency: int,
    action_form: str | None,
) -> None:
    """Run the episodes ``concurrency`` at a time, one batched brain call per round."""
    base = env.unwrapped
    logs = [EventLog() for _ in range(episodes)]
    pending: Iterator[int] = iter(range(episodes))

    def start(lane_env: Any) -> _Lane | None:
        episode = next(pending, None)
        if episode is None:
            return None
        session_seed = seed + episode
        lane_env.event_log = logs[episode]
        obs, info = lane_env.reset(seed=session_seed, options={"session_id": session_seed})
        policy = as_policy(factory(lane_env, session_seed))
        if hasattr(policy, "reset"):
            policy.reset(seed=session_seed)
        if on_reset is not None:
            on_reset(lane_env, info)
        actions = PolicyActions(lane_env, action_form or policy_form(policy))
        return _Lane(lane_env, policy, episode, obs, info, actions)

    lanes = [lane for lane in (start(base.spawn()) for _ in range(concurrency)) if lane]
    while lanes:
        chosen = choose_actions([(ln.policy, ln.obs, ln.info, ln.actions) for ln in lanes])
        prepared = [lane.env.prepare_step(a) for lane, (a, _) in zip(lanes, chosen, strict=True)]
        reactions = base.brain.react(
            [lane.env.session for lane in lanes],
            [slate for slate, _ in prepared],
            [lane.env.message for lane in lanes],
            [lane.env.np_random for lane in lanes],
        )
        survivors = []
        steps = zip(lanes, prepared, chosen, reactions, strict=True)
        for lane, (slate, duplicates), (_, usage), reaction in steps:
            obs, reward, terminated, truncated, info = lane.env.finish_step(
                slate, duplicates, reaction
            )
            charge(logs[lane.episode], usage)
            if hasattr(lane.policy, "update"):
                lane.policy.update(obs, reward, info)
            if on_step is not None:
                on_step(lane.env, info)
            lane.obs, lane.info = obs, info
            if terminated or truncated:
                lane = start(lane.env)
            if lane is not None:
                survivors.append(lane)
        lanes = survivors
    for episode_log in logs:
        log.extend(episode_log)
