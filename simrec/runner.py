"""Run a policy through seeded sessions and collect the event log.

This is the loop behind ``simrec run`` and scenarios: session ``i`` is reset with seed
``seed + i`` and logged as ``session_id = seed + i``, so any session can be replayed on
its own from its id. A policy that emits semantic ids (``action_form``) gets the env
wrapped in :class:`~simrec.semantic_ids.SemanticIdSlate`; what it reports through
``take_usage()`` is logged in the turn's ``policy_*`` columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from simrec.events import EventLog
from simrec.policies import Policy, as_policy, take_usage, with_message
from simrec.semantic_ids import action_form as policy_form
from simrec.semantic_ids import for_action_form

StepHook = Callable[[gym.Env, dict[str, Any]], None]


def run_sessions(
    env: gym.Env,
    policy: Policy | Callable[..., Any],
    episodes: int,
    seed: int = 0,
    log: EventLog | None = None,
    on_step: StepHook | None = None,
    on_reset: StepHook | None = None,
    action_form: str | None = None,
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
            (transcripts, progress bars).
        action_form: what the policy's slates are made of (default: its own
            ``action_form``, else item indices); see :mod:`simrec.semantic_ids`.
    """
    policy = as_policy(policy)
    env = for_action_form(env, action_form or policy_form(policy))
    base = env.unwrapped
    conversational = bool(getattr(base, "conversational", False))
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
                action = with_message(policy.act(obs, info), conversational)
                usage = take_usage(policy)
                obs, reward, terminated, truncated, info = env.step(action)
                if usage is not None:
                    log.charge_policy(**dataclasses.asdict(usage))
                if hasattr(policy, "update"):
                    policy.update(obs, reward, info)
                if on_step is not None:
                    on_step(env, info)
                done = terminated or truncated
    finally:
        base.event_log = previous
    return log
