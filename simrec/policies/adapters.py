"""Turning anything that recommends into a simrec policy.

Accepted, in this order:

* an object with ``act(observation, info) -> slate`` (optionally ``reset(seed)`` and
  ``update(observation, reward, info)``): used as is;
* a stable-baselines3 model (anything with ``predict(observation, deterministic=...)``):
  wrapped in :class:`SB3Policy`;
* a plain callable ``f(observation, info) -> slate``: wrapped;
* in scenario files, a built-in name (``linucb``) or a dotted path
  ``mypkg.policies:MyPolicy`` to a class or factory, called as
  ``factory(env, seed=..., **params)`` (``seed`` only if it accepts one), or loaded
  with ``factory.load(path)`` when the spec has ``load: path`` (SB3's ``PPO.load``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.errors import ConfigError
from simrec.policies.base import Policy, as_policy
from simrec.policies.registry import POLICIES, make_policy


class SB3Policy:
    """A stable-baselines3 model (or anything with ``predict``) as a policy.

    Args:
        model: has ``predict(observation, deterministic=bool) -> (action, state)``.
        deterministic: passed to ``predict``.
    """

    def __init__(self, model: Any, deterministic: bool = True) -> None:
        self.model = model
        self.deterministic = deterministic

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The model's action for ``observation``."""
        action, _ = self.model.predict(observation, deterministic=self.deterministic)
        return np.asarray(action, dtype=np.int64)


def adapt(obj: Any) -> Policy:
    """``obj`` as a policy: itself, an SB3 model wrapper, or a wrapped callable."""
    if hasattr(obj, "act"):
        return obj
    if hasattr(obj, "predict"):
        return SB3Policy(obj)
    return as_policy(obj)


def import_object(path: str) -> Any:
    """The object named by ``package.module:attribute`` (dots allowed after the colon)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"policy {path!r}: expected 'package.module:Name'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"policy {path!r}: cannot import {module_name!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"policy {path!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def load_policy(
    name: str,
    env: gym.Env,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    load: str | Path | None = None,
) -> Policy:
    """Build the policy ``name`` (built-in or ``pkg.module:Name``) for ``env``.

    Args:
        name: a key of :data:`simrec.policies.registry.POLICIES` or a dotted path.
        env: the env the policy will act in.
        seed: the policy's seed (passed when the factory accepts ``seed``).
        params: keyword arguments for the factory.
        load: a saved model file, loaded with ``factory.load(load)`` instead of calling it.

    Raises:
        ConfigError: unknown name, import failure, bad parameters, or a result that is
            not a policy.
    """
    params = dict(params or {})
    if ":" not in name:
        if name not in POLICIES:
            raise ConfigError(
                f"unknown policy {name!r}; expected one of: {', '.join(POLICIES)} "
                "or a dotted path 'package.module:Name'"
            )
        return make_policy(name, env, seed=seed, **params)
    factory = import_object(name)
    try:
        if load is not None:
            obj = factory.load(str(load), **params)
        elif inspect.isclass(factory) or inspect.isfunction(factory) or callable(factory):
            obj = factory(env, **_with_seed(factory, params, seed))
        else:
            obj = factory
    except (TypeError, ValueError, OSError) as exc:
        raise ConfigError(f"policy {name!r}: could not build it: {exc}") from None
    if not (hasattr(obj, "act") or hasattr(obj, "predict") or callable(obj)):
        raise ConfigError(f"policy {name!r}: built {obj!r}, which has no act() or predict()")
    return adapt(obj)


def _with_seed(factory: Any, params: dict[str, Any], seed: int | None) -> dict[str, Any]:
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return params
    takes_seed = "seed" in accepted or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()
    )
    return {**params, "seed": seed} if takes_seed and "seed" not in params else params
