"""Run a policy through seeded sessions and collect the event log.

This is the loop behind ``simrec run``, scenarios and data generation: session ``i``
is reset with seed ``seed + i`` and logged as ``session_id = seed + i``, so any
session can be replayed on its own from its id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from simrec.events import EventLog
from simrec.policies import Policy, as_policy

StepHook = Callable[[gym.Env, dict[str, Any]], None]


def run_sessions(
    env: gym.Env,
    policy: Policy | Callable[..., Any],
    episodes: int,
    seed: int = 0,
    log: EventLog | None = None,
    on_step: StepHook | None = None,
    on_reset: StepHook | None = None,
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
            (transcripts, progress bars).
    """
    policy = as_policy(policy)
    base = env.unwrapped
    log = log if log is not None else EventLog()
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
