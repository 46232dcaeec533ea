"""Every step of many visits, with the state a reply or a purchase must be true to.

Collected the same way from the single env (any policy) and from the native vector env
(policies that do not observe), so one set of checks covers both. The state is taken
from the persona and the catalog, not from the user model's own tables: what the user
was shown and bought earlier in the visit, what they owned before it, the request that
applied to the slate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.env import RecSessionEnv
from simrec.policies.adapters import load_policy
from simrec.runner import run_sessions
from simrec.session import BoundPersona
from simrec.vector import RecSessionVectorEnv


@dataclass
class Step:
    """One slate of one visit and what the user did and said."""

    visit: int
    bound: BoundPersona
    turn: int
    slate: list[int]
    clicked: list[bool]
    purchased: list[bool]
    dismissed: list[bool]
    reply: str
    left: bool
    need: int
    shown_before: frozenset[int]
    bought_before: int
    owned_before: frozenset[int]
    request: np.ndarray | None
    """Items satisfying the request that applied to this slate (``None``: no request)."""

    @property
    def shown(self) -> list[int]:
        return [i for i in self.slate if i >= 0]


class _Visit:
    """What one visit has seen and bought so far."""

    def __init__(self, number: int, bound: BoundPersona, need: int) -> None:
        catalog = bound.catalog
        self.number, self.bound, self.need = number, bound, need
        self.consumable = catalog.consumable
        self.shown: set[int] = set()
        self.owned = {i for i in bound.history.tolist() if not catalog.consumable[i]}
        self.bought = 0
        self.turn = 0

    def step(self, slate, clicked, purchased, dismissed, reply: str, left: bool) -> Step:
        self.turn += 1
        bound = self.bound
        intent = bound.active_intent(self.turn)
        step = Step(
            visit=self.number,
            bound=bound,
            turn=self.turn,
            slate=[int(i) for i in slate],
            clicked=[bool(c) for c in clicked],
            purchased=[bool(p) for p in purchased],
            dismissed=[bool(d) for d in dismissed],
            reply=str(reply),
            left=bool(left),
            need=self.need,
            shown_before=frozenset(self.shown),
            bought_before=self.bought,
            owned_before=frozenset(self.owned),
            request=None if intent is None else bound.constraint_masks[intent],
        )
        self.shown.update(step.shown)
        for item, bought in zip(step.slate, step.purchased, strict=True):
            if bought:
                self.bought += 1
                if not self.consumable[item]:
                    self.owned.add(item)
        return step


def single_env_steps(env: RecSessionEnv, policy: str, visits: int, seed: int = 0) -> list[Step]:
    """Every step of ``visits`` seeded visits of the built-in (or dotted-path) ``policy``."""
    steps: list[Step] = []
    current: list[_Visit] = []

    def on_reset(env: gym.Env, info: dict[str, Any]) -> None:
        session = env.unwrapped.session
        current[:] = [_Visit(session.session_id, session.bound, session.need)]

    def on_step(env: gym.Env, info: dict[str, Any]) -> None:
        r = info["reaction"]
        steps.append(
            current[0].step(info["slate"], r.clicked, r.purchased, r.dismissed, r.reply, r.left)
        )

    run_sessions(env, load_policy(policy, env, seed=seed), visits, seed, None, on_step, on_reset)
    return steps


def vector_env_steps(
    vec: RecSessionVectorEnv,
    policy: str,
    visits: int,
    seed: int = 0,
    make_policy: Callable[[gym.Env, int], Any] | None = None,
) -> list[Step]:
    """Every step of the first ``visits`` visits to end in ``vec``, each sub-env played by
    its own instance of ``policy`` (one that does not observe), reset at every visit."""
    n = vec.num_envs
    env = vec.env
    make = make_policy or (lambda e, s: load_policy(policy, e, seed=s))
    policies = [make(env, seed + i) for i in range(n)]
    vec.reset(seed=seed)
    batch = vec.batch
    started = 0

    def begin(i: int) -> _Visit:
        nonlocal started
        started += 1
        if hasattr(policies[i], "reset"):
            policies[i].reset(seed=seed + started)
        persona = int(batch.persona[i]) if batch is not None else int(vec.persona[i])
        need = int(batch.need[i]) if batch is not None else vec.sessions[i].need
        return _Visit(started, vec._bounds[persona], need)

    open_visits = [begin(i) for i in range(n)]
    done_steps: list[Step] = []
    pending: dict[int, list[Step]] = {i: [] for i in range(n)}
    finished = 0
    ended = np.zeros(n, dtype=bool)
    while finished < visits:
        slates = np.stack([np.asarray(p.act(None, None)) for p in policies])
        # De-duplicated as the env shows them (later copies are empty slots).
        shown = slates.astype(np.int64).copy()
        for pos in range(1, shown.shape[1]):
            shown[:, pos] = np.where(
                (slates[:, :pos] == slates[:, pos : pos + 1]).any(1), -1, shown[:, pos]
            )
        _, _, terminated, truncated, info = vec.step(slates)
        for i in range(n):
            if ended[i]:  # this step reset sub-env i
                open_visits[i] = begin(i)
                continue
            pending[i].append(
                open_visits[i].step(
                    shown[i],
                    info["clicked"][i],
                    info["purchased"][i],
                    info["dismissed"][i],
                    info["reply"][i],
                    terminated[i],
                )
            )
            if terminated[i] or truncated[i]:
                done_steps += pending[i]
                pending[i] = []
                finished += 1
        ended = terminated | truncated
    return done_steps


def visit_count(steps: list[Step]) -> int:
    return len({s.visit for s in steps})
