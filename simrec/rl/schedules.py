"""Fixed per-turn schedules: the return a policy earns without personalising.

A learned policy can earn a good return by finding one good slate per turn and showing it
to everyone. Two measurements tell whether it does more:

* :func:`best_fixed_schedule` searches, turn by turn and slot by slot, for the slates that
  earn the most return when shown to every user of a set of training visits (coordinate
  ascent over the whole catalog, every candidate judged on the same visits so the
  comparisons are paired). Its return on held-out visits is the bar for "personalises".
* :func:`most_common_slates` takes a policy's own event log and keeps, for each turn, the
  slate it showed most often: replayed to everyone, it earns what the policy's return owes
  to one slate per turn.

Schedules run in the native vector env (:func:`schedule_returns`), thousands of visits per
numpy step: a search pass over a 200-item catalog, 20 turns and slates of 5 takes about a
minute of CPU with 128 training visits. Needs only numpy.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from simrec.errors import ConfigError
from simrec.policies.fixed_schedule import popularity_rotation
from simrec.policies.gauntlet import popularity_order


@dataclass(frozen=True)
class Schedule:
    """One slate per turn (item indices ``(turns, k)``), with what it earned where it was made.

    Attributes:
        slates: item indices, row ``t`` shown at turn ``t + 1``.
        item_ids: the catalog's item ids of the same slates (what :meth:`save` writes).
        train_return: mean return on the visits it was searched or collected on.
        source: how it was made (``"search"``, ``"most common slates of <policy>"``).
    """

    slates: np.ndarray
    item_ids: tuple[tuple[str, ...], ...]
    train_return: float
    source: str

    def save(self, path: str | Path) -> Path:
        """Write ``{"schedule": [[item id, ...], ...], ...}`` (read by ``fixed_schedule``)."""
        path = Path(path)
        data = {
            "schedule": [list(row) for row in self.item_ids],
            "train_return": self.train_return,
            "source": self.source,
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return path

    def as_policy_params(self) -> dict[str, Any]:
        """Parameters of the ``fixed_schedule`` policy that shows this schedule."""
        return {"schedule": [list(row) for row in self.item_ids]}


def _schedule(env: gym.Env, slates: np.ndarray, train_return: float, source: str) -> Schedule:
    ids = env.unwrapped.catalog.item_ids
    rows = tuple(tuple(str(ids[i]) for i in row) for row in slates.tolist())
    return Schedule(np.asarray(slates, dtype=np.int64), rows, float(train_return), source)


class ScheduleRunner:
    """Runs many candidate schedules on the same visits in one native vector env.

    Args:
        env_id: a registered simrec env id (``simrec/Golf-v0``).
        seeds: the visits (one seed each); every candidate meets the same users.
        env_kwargs: passed to ``gym.make_vec``.
        max_envs: at most this many sub-envs at once (candidates are run in chunks).
    """

    def __init__(
        self,
        env_id: str,
        seeds: Sequence[int],
        env_kwargs: dict[str, Any] | None = None,
        max_envs: int = 16_384,
    ) -> None:
        self.env_id = env_id
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise ConfigError("schedules: expected at least one seed")
        self.env_kwargs = dict(env_kwargs or {})
        self.max_envs = int(max_envs)
        probe = gym.make(env_id, **self.env_kwargs)
        base = probe.unwrapped
        self.n_items, self.k, self.turns = len(base.catalog), base.slate_size, base.max_turns
        self.probe = probe
        self._envs: dict[int, Any] = {}

    def returns(self, schedules: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean return of each schedule ``(C, turns, k)``, and the share of visits still
        going at each turn under each ``(C, turns)``."""
        schedules = np.asarray(schedules, dtype=np.int64)
        count = len(schedules)
        per = min(count, max(1, self.max_envs // len(self.seeds)))
        chunks = -(-count // per)
        per = -(-count // chunks)  # equal chunks: one vector env serves them all
        padded = np.concatenate([schedules, schedules[: chunks * per - count]])
        means, alive = [], []
        for start in range(0, len(padded), per):
            m, a = self._run(padded[start : start + per])
            means.append(m)
            alive.append(a)
        return np.concatenate(means)[:count], np.concatenate(alive)[:count]

    def session_returns(self, schedule: np.ndarray) -> np.ndarray:
        """Return of every visit under one schedule ``(turns, k)``."""
        return self._run(np.asarray(schedule, dtype=np.int64)[None], per_session=True)

    def _vector_env(self, n: int) -> Any:
        if n not in self._envs:
            self._envs.clear()  # one size at a time: the chunks of a search share it
            self._envs[n] = gym.make_vec(self.env_id, num_envs=n, **self.env_kwargs)
        return self._envs[n]

    def _run(self, schedules: np.ndarray, per_session: bool = False) -> Any:
        c, n = len(schedules), len(self.seeds)
        envs = self._vector_env(c * n)
        envs.reset(seed=self.seeds * c)
        total = np.zeros(c * n)
        going = np.ones(c * n, dtype=bool)
        alive = np.zeros((c, self.turns))
        for t in range(self.turns):
            alive[:, t] = going.reshape(c, n).mean(axis=1)
            if not going.any():
                break
            actions = np.repeat(schedules[:, min(t, schedules.shape[1] - 1)], n, axis=0)
            _, reward, terminated, truncated, _ = envs.step(actions)
            total += np.where(going, reward, 0.0)
            going &= ~(terminated | truncated)
        if per_session:
            return total
        return total.reshape(c, n).mean(axis=1), alive


def best_fixed_schedule(
    env_id: str,
    seeds: Sequence[int],
    passes: int = 2,
    env_kwargs: dict[str, Any] | None = None,
    min_alive: float = 0.02,
    progress: Callable[[str], None] | None = None,
) -> Schedule:
    """The slates, one per turn, that earn the most return when every user sees them.

    Starts from a popularity rotation and improves one (turn, slot) at a time: every
    catalog item not already in that turn's slate is tried in the slot, on the same visits,
    and the best kept. Turns that fewer than ``min_alive`` of the visits reach are left as
    they are. Stops after ``passes`` passes or a pass without improvement.

    Args:
        env_id: a registered simrec env id.
        seeds: training visits (evaluate the result on others: it is fitted to these).
        passes: passes over all (turn, slot) pairs.
        env_kwargs: passed to the env.
        min_alive: skip turns reached by fewer than this share of the visits.
        progress: called with a line of text after each turn.
    """
    runner = ScheduleRunner(env_id, seeds, env_kwargs)
    n, k, turns = runner.n_items, runner.k, runner.turns
    if n <= k:
        raise ConfigError(f"{env_id}: a schedule search needs more than {k} items, got {n}")
    order = popularity_order(runner.probe.unwrapped.catalog)
    schedule = popularity_rotation(k, turns, order)
    (best,), (alive,) = runner.returns(schedule[None])
    for p in range(passes):
        start = best
        for t in range(turns):
            if alive[t] < min_alive:
                continue
            for slot in range(k):
                others = np.delete(schedule[t], slot)
                candidates = np.setdiff1d(np.arange(n), others)
                trials = np.repeat(schedule[None], len(candidates), axis=0)
                trials[:, t, slot] = candidates
                means, alives = runner.returns(trials)
                pick = int(np.argmax(means))  # the current item is among the candidates
                if means[pick] > best:
                    schedule, best, alive = trials[pick], float(means[pick]), alives[pick]
            if progress is not None:
                progress(f"pass {p + 1}, turn {t + 1}: mean return {best:.3f}")
        if best <= start:
            break
    return _schedule(runner.probe, schedule, best, "search")


def most_common_slates(
    env: gym.Env, interactions: pd.DataFrame, turns: int | None = None
) -> Schedule:
    """For each turn, the slate a policy showed most often in ``interactions`` (its log).

    Ties go to the slate seen first. Turns the log never reached repeat the last slate.

    Args:
        env: the env the log came from (its catalog and ``max_turns``).
        interactions: the ``interactions`` table of an event log.
        turns: rows of the schedule (default: the env's ``max_turns``).
    """
    base = env.unwrapped
    turns = int(turns or base.max_turns)
    if interactions.empty:
        raise ConfigError("most_common_slates: the event log has no slates")
    frame = interactions.sort_values(["session_id", "turn", "position"], kind="stable")
    slates: dict[int, Counter] = {}
    for (_, turn), rows in frame.groupby(["session_id", "turn"], sort=False):
        slates.setdefault(int(turn), Counter())[tuple(rows["item_index"].tolist())] += 1
    rows, last = [], None
    for turn in range(1, turns + 1):
        counts = slates.get(turn)
        if counts:
            slate = list(counts.most_common(1)[0][0])
            first = next(i for i in slate if i >= 0) if any(i >= 0 for i in slate) else 0
            last = [i if i >= 0 else first for i in slate]  # empty slots stay empty
        rows.append(last)
    schedule = np.asarray(rows, dtype=np.int64)
    return _schedule(env, schedule, float("nan"), "most common slates")


__all__ = [
    "Schedule",
    "ScheduleRunner",
    "best_fixed_schedule",
    "most_common_slates",
]
