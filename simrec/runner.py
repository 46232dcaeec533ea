"""Run a policy through seeded sessions and collect the event log.

This is the loop behind ``simrec run``, scenarios and data generation: session ``i``
is reset with seed ``seed + i`` and logged as ``session_id = seed + i``, so any
session can be replayed on its own from its id.

With ``concurrency`` > 1, that many episodes are in flight at once, each in its own lane
(:meth:`~simrec.env.RecSessionEnv.spawn`: the same brain, catalog and settings) with its
own policy, and each step's reactions come from one batched ``brain.react`` call, so an
LLM brain answers the lanes concurrently. Sessions never share state, so the event log
is the same whatever the concurrency (rows in episode order), for offline brains and for
LLM brains replayed from a recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from simrec.errors import ConfigError
from simrec.events import EventLog
from simrec.policies import Policy, as_policy

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
    *,
    concurrency: int = 1,
    policy_factory: PolicyFactory | None = None,
) -> EventLog:
    """Run ``episodes`` sessions of ``policy`` in ``env``; returns the event log.

    Args:
        env: a simrec env (wrapped or not).
        policy: an object with ``act(obs, info)`` (optionally ``reset(seed)`` and
            ``update(obs, reward, info)``) or a plain callable.
        episodes: number of sessions.
        seed: session ``i`` uses seed ``seed + i`` and session id ``seed + i``.
        log: an event log to append to (a new one by default).
        on_step / on_reset: called with ``(env, info)`` after each step / reset
            (transcripts, progress bars); with ``concurrency`` > 1 the ``env`` is the
            episode's lane and calls of different episodes interleave.
        concurrency: episodes in flight at once.
        policy_factory: ``factory(env, session_seed) -> policy``, a fresh policy per
            episode; needed when ``concurrency`` > 1 (one policy object cannot play
            several sessions at once).

    Raises:
        ConfigError: ``concurrency`` > 1 without ``policy_factory``.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency: expected an integer >= 1, got {concurrency!r}")
    log = log if log is not None else EventLog()
    if concurrency > 1 and episodes > 1:
        if policy_factory is None:
            raise ConfigError(
                "concurrency > 1 needs a policy_factory(env, seed): episodes in flight "
                "together each need their own policy"
            )
        _run_lanes(env, policy_factory, episodes, seed, log, on_step, on_reset, concurrency)
        return log
    policy = as_policy(policy)
    base = env.unwrapped
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
                obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
                if hasattr(policy, "update"):
                    policy.update(obs, reward, info)
                if on_step is not None:
                    on_step(env, info)
                done = terminated or truncated
    finally:
        base.event_log = previous
    return log


@dataclass
class _Lane:
    env: Any
    policy: Policy
    episode: int
    obs: Any
    info: dict[str, Any]


def _run_lanes(
    env: gym.Env,
    factory: PolicyFactory,
    episodes: int,
    seed: int,
    log: EventLog,
    on_step: StepHook | None,
    on_reset: StepHook | None,
    concurrency: int,
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
        return _Lane(lane_env, policy, episode, obs, info)

    lanes = [lane for lane in (start(base.spawn()) for _ in range(concurrency)) if lane]
    while lanes:
        prepared = [lane.env.prepare_step(lane.policy.act(lane.obs, lane.info)) for lane in lanes]
        reactions = base.brain.react(
            [lane.env.session for lane in lanes],
            [slate for slate, _ in prepared],
            [lane.env.message for lane in lanes],
            [lane.env.np_random for lane in lanes],
        )
        survivors = []
        for lane, (slate, duplicates), reaction in zip(lanes, prepared, reactions, strict=True):
            obs, reward, terminated, truncated, info = lane.env.finish_step(
                slate, duplicates, reaction
            )
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
