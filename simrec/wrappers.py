"""Slate actions that RL libraries handle well.

A slate is ``k`` distinct item indices (``MultiDiscrete([n] * k)``), which most RL
algorithms model as ``k`` independent categorical choices: nothing stops two slots from
picking the same item, and the joint choice is hard to learn. Two reformulations:

* :class:`ScoreSlateWrapper` — the action is one score per item (``Box(n_items)``); the
  env shows the ``k`` highest-scoring items, best first. Always ``k`` distinct items; one
  decision per turn; works with any continuous-action algorithm (PPO, SAC). The policy
  must output ``n_items`` numbers, so very large catalogs want candidate generation first.
* :class:`SequentialSlateWrapper` — the slate is built one slot per step with a
  ``Discrete(n_items)`` action and a mask of the items already placed
  (``info["action_mask"]`` and :meth:`~SequentialSlateWrapper.action_masks`, the hook
  ``sb3_contrib``'s ``MaskablePPO`` calls). Every slot sees the earlier ones, so the
  policy can build diverse slates; the price is ``k`` decisions per user turn with the
  reward arriving only on the last, a longer credit-assignment chain.

:class:`ScoreSlateVectorWrapper` applies the score action to the native vector env.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space

from simrec.errors import ActionError
from simrec.rl.visit_features import VisitFeatures
from simrec.validation import describe


def top_k_items(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores along the last axis, best first (ties: lower index).

    Raises:
        ActionError: a score is not a number, or is NaN (the order would be arbitrary).
    """
    scores = np.asarray(scores)
    if scores.dtype.kind not in "biuf":
        raise ActionError(
            f"score action: expected numbers, got {scores.dtype} values "
            f"{describe(scores.ravel()[:3].tolist())}..."
        )
    scores = scores.astype(np.float64, copy=False)
    if np.isnan(scores).any():
        raise ActionError("score action: scores must not be NaN")
    # Stable sort of the negated scores: equal scores keep index order, so ties are deterministic.
    return np.argsort(-scores, axis=-1, kind="stable")[..., :k]


class ScoreSlateWrapper(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Action = one score per catalog item; the env shows the ``k`` top-scoring items.

    ``action_space`` is ``Box(-1, 1, (n_items,))`` (policies with a tanh or clipped
    Gaussian head fit it directly); only the order of the scores matters. ``info["slate"]``
    holds the items actually shown.

    With ``item_features=True`` the observation is what the recommender knows of every item
    for this user instead of the env's own (:class:`simrec.rl.VisitFeatures`):
    ``item_features`` ``(n_items, n_features)`` — how each item relates to what the user
    clicked, bought, dismissed and said this visit — and ``visit_features``. A policy that
    scores each item from its row with one network shared across items personalises, and
    a model trained so acts in a plain env through :meth:`observe` (a scenario's
    ``action_form: score`` does this by itself).

    Example::

        env = ScoreSlateWrapper(gym.make("simrec/Golf-v0"))
        obs, info = env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    """

    def __init__(self, env: gym.Env, item_features: bool = False) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, item_features=item_features)
        gym.Wrapper.__init__(self, env)
        base = env.unwrapped
        self.k = int(base.slate_size)
        self.n_items = len(base.catalog)
        self.action_space = spaces.Box(-1.0, 1.0, (self.n_items,), np.float32)
        self.visit: VisitFeatures | None = None
        if item_features:
            self.visit = VisitFeatures(env)
            self.observation_space = self.visit.observation_space

    @classmethod
    def variants(cls, env: gym.Env) -> list[ScoreSlateWrapper]:
        """The wrapper over ``env`` without and with item features (what a saved model may
        have been trained on; see :class:`simrec.policies.adapters.SB3Policy`)."""
        return [cls(env), cls(env, item_features=True)]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset the env (and, with item features, start following the new visit)."""
        obs, info = self.env.reset(seed=seed, options=options)
        return self.observe(obs, info), info

    def step(self, action: Any):
        """Show the top-``k`` slate of ``action``."""
        obs, reward, terminated, truncated, info = self.env.step(self.action(action))
        return self.observe(obs, info), reward, terminated, truncated, info

    def observe(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> Any:
        """The observation a policy trained on this wrapper sees, from the plain env's
        ``observation`` and ``info`` (the env's own observation without item features).

        Call it once per reset and once per step, in order: with item features it follows
        the visit through ``info`` (see :meth:`simrec.rl.VisitFeatures.follow`).
        """
        if self.visit is None:
            return observation
        self.visit.follow(info)
        return self.visit.observation()

    def action(self, action: Any) -> np.ndarray:
        """The slate of the ``k`` highest scores."""
        scores = np.asarray(action)
        if scores.shape != (self.n_items,):
            raise ActionError(
                f"score action: expected {self.n_items} scores, got shape {scores.shape}"
            )
        return top_k_items(scores, self.k)


class ScoreSlateVectorWrapper(VectorActionWrapper):
    """:class:`ScoreSlateWrapper` for a vector env: ``(num_envs, n_items)`` scores per step."""

    def __init__(self, env: VectorEnv) -> None:
        super().__init__(env)
        base = env.unwrapped
        self.k = int(base.slate_size)
        self.n_items = len(base.catalog)
        self.single_action_space = spaces.Box(-1.0, 1.0, (self.n_items,), np.float32)
        self.action_space = batch_space(self.single_action_space, env.num_envs)

    def actions(self, actions: Any) -> np.ndarray:
        """The top-``k`` slate of every row of scores."""
        scores = np.asarray(actions)
        expected = (self.num_envs, self.n_items)
        if scores.shape != expected:
            raise ActionError(f"score actions: expected shape {expected}, got {scores.shape}")
        return top_k_items(scores, self.k)


class SequentialSlateWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Build the slate one slot per step: ``Discrete(n_items)`` actions with an item mask.

    Steps that fill slots ``1 .. k-1`` return reward 0 and do not move the user; the step
    that fills slot ``k`` shows the slate and returns the turn's reward, ``terminated``
    and ``truncated``. The observation adds ``slate_so_far`` (item index + 1 per slot,
    0 = not yet chosen) to the env's. ``info["action_mask"]`` (and :meth:`action_masks`)
    marks the items still allowed: an item already placed in this slate is masked; if a
    policy picks it anyway, the env shows it once and counts the duplicate, as usual.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        base = env.unwrapped
        self.k = int(base.slate_size)
        self.n_items = len(base.catalog)
        self.action_space = spaces.Discrete(self.n_items)
        inner = env.observation_space
        assert isinstance(inner, spaces.Dict)
        self.observation_space = spaces.Dict(
            {
                **inner.spaces,
                "slate_so_far": spaces.MultiDiscrete(
                    np.full(self.k, self.n_items + 1, dtype=np.int64)
                ),
            }
        )
        self._picked: list[int] = []
        self._last_obs: dict[str, np.ndarray] = {}
        self._mask = np.ones(self.n_items, dtype=np.int8)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset the env and start an empty slate."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._picked = []
        self._mask = np.ones(self.n_items, dtype=np.int8)
        self._last_obs = obs
        info["action_mask"] = self._mask.copy()
        return self._with_slate(obs), info

    def step(self, action: Any):
        """Place ``action`` in the next slot; show the slate once it is full."""
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            array = np.asarray(action)
            if array.shape not in ((), (1,)) or array.dtype.kind not in "iu":
                raise ActionError(f"sequential action: expected one item index, got {action!r}")
            action = array.reshape(()).item()
        item = int(action)
        if not 0 <= item < self.n_items:
            raise ActionError(
                f"sequential action: item index {item} out of range [0, {self.n_items - 1}]"
            )
        self._picked.append(item)
        self._mask[item] = 0
        if len(self._picked) < self.k:
            info = {"action_mask": self._mask.copy(), "slot": len(self._picked)}
            return self._with_slate(self._last_obs), 0.0, False, False, info
        slate = np.array(self._picked, dtype=np.int64)
        obs, reward, terminated, truncated, info = self.env.step(slate)
        self._picked = []
        self._mask = np.ones(self.n_items, dtype=np.int8)
        self._last_obs = obs
        info["action_mask"] = self._mask.copy()
        info["slot"] = 0
        return self._with_slate(obs), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """Items still allowed in the slate being built (``sb3_contrib.MaskablePPO`` hook)."""
        return self._mask.astype(bool)

    def _with_slate(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        so_far = np.zeros(self.k, dtype=np.int64)
        so_far[: len(self._picked)] = np.asarray(self._picked, dtype=np.int64) + 1
        return {**{key: value.copy() for key, value in obs.items()}, "slate_so_far": so_far}


ACTION_WRAPPERS: dict[str, type[gym.ActionWrapper]] = {"score": ScoreSlateWrapper}
"""Action wrappers by name (``action_form: score`` in a scenario): a model trained on a wrapped
env acts in a plain one through the wrapper's ``action()`` translation. A model whose action
space matches one of these is matched to it without being told."""
