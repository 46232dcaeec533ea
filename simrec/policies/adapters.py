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
from gymnasium import spaces

from simrec.errors import ConfigError
from simrec.policies.base import Policy, as_policy
from simrec.policies.registry import POLICIES, make_policy


class SB3Policy:
    """A stable-baselines3 model (or anything with ``predict``) as a policy.

    A model trained on a wrapped env (``ScoreSlateWrapper``: one score per item) acts in
    the plain env through that wrapper's ``action()`` (and, for a wrapper with its own
    observations such as the score wrapper's item features, its ``observe()``): name it
    with ``wrapper``, or give ``env`` and the wrapper is chosen from the model's spaces
    (see :data:`simrec.wrappers.ACTION_WRAPPERS`).

    Args:
        model: has ``predict(observation, deterministic=bool) -> (action, state)``.
        deterministic: passed to ``predict``.
        env: the env the policy acts in; checks that the model's spaces fit it.
        wrapper: an action wrapper class, or its name in ``ACTION_WRAPPERS``.

    Raises:
        ConfigError: the model's observation or action space does not fit ``env`` (and no
            known wrapper translates its actions).
    """

    def __init__(
        self,
        model: Any,
        deterministic: bool = True,
        env: gym.Env | None = None,
        wrapper: str | type[gym.ActionWrapper] | None = None,
    ) -> None:
        self.model = model
        self.deterministic = deterministic
        self.translate: gym.ActionWrapper | None = None
        if env is not None:
            self.translate = _action_translation(model, env, wrapper)
        elif wrapper is not None:
            raise ConfigError("SB3Policy: a wrapper needs the env the policy acts in (env=...)")

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The model's action for ``observation`` (as a slate).

        Through a wrapper that has its own observations (``observe``), the model sees
        those: the wrapper follows the visit from ``info``, so ``act`` must see every
        reset's and step's info in order (as the runners give it).
        """
        observe = getattr(self.translate, "observe", None)
        if observe is not None:
            observation = observe(observation, info)
        action, _ = self.model.predict(observation, deterministic=self.deterministic)
        if self.translate is not None:
            return np.asarray(self.translate.action(action), dtype=np.int64)
        return np.asarray(action, dtype=np.int64)


def resolve_wrapper(wrapper: str | type[gym.ActionWrapper]) -> type[gym.ActionWrapper]:
    """An action wrapper class from its name in ``ACTION_WRAPPERS`` or a dotted path."""
    from simrec.wrappers import ACTION_WRAPPERS

    if isinstance(wrapper, str):
        if wrapper in ACTION_WRAPPERS:
            return ACTION_WRAPPERS[wrapper]
        if ":" not in wrapper:
            raise ConfigError(
                f"wrapper {wrapper!r}: expected one of: {', '.join(ACTION_WRAPPERS)} "
                "or a dotted path 'package.module:Wrapper'"
            )
        wrapper = import_object(wrapper)
    if not (inspect.isclass(wrapper) and issubclass(wrapper, gym.ActionWrapper)):
        raise ConfigError(f"wrapper {wrapper!r}: expected a gymnasium.ActionWrapper class")
    return wrapper


def _same_space(a: Any, b: Any) -> bool:
    """Same kind of space with the same shape (bounds may differ after a save/load)."""
    if isinstance(a, spaces.Dict) and isinstance(b, spaces.Dict):
        return set(a.spaces) == set(b.spaces) and all(_same_space(a[k], b[k]) for k in a.spaces)
    if isinstance(a, spaces.MultiDiscrete) and isinstance(b, spaces.MultiDiscrete):
        return np.array_equal(a.nvec, b.nvec)
    if isinstance(a, spaces.Discrete) and isinstance(b, spaces.Discrete):
        return a.n == b.n
    return type(a) is type(b) and getattr(a, "shape", None) == getattr(b, "shape", None)


def _wrapper_variants(cls: type[gym.ActionWrapper], env: gym.Env) -> list[gym.ActionWrapper]:
    """The forms of ``cls`` over ``env`` a model may have been trained on (its ``variants``,
    e.g. the score wrapper with and without item features), else ``cls(env)``."""
    variants = getattr(cls, "variants", None)
    return list(variants(env)) if variants is not None else [cls(env)]


def _action_translation(
    model: Any, env: gym.Env, wrapper: str | type[gym.ActionWrapper] | None
) -> gym.ActionWrapper | None:
    """The wrapper that turns the model's actions into slates of ``env`` (``None``: as is).

    A wrapper that also changes observations (the score wrapper with item features) is
    chosen when its observations are the model's; the policy then feeds the model through
    the wrapper's ``observe``.
    """
    from simrec.wrappers import ACTION_WRAPPERS

    observed = getattr(model, "observation_space", None)
    acts = getattr(model, "action_space", None)

    def fits_observations(space: Any) -> bool:
        return observed is None or _same_space(observed, space)

    def fits_actions(space: Any) -> bool:
        return acts is None or _same_space(acts, space)

    if wrapper is not None:
        variants = _wrapper_variants(resolve_wrapper(wrapper), env)
        seen = [v for v in variants if fits_observations(v.observation_space)]
        if not seen:
            raise ConfigError(
                f"the model was trained on observations {observed}, but this env gives "
                f"{variants[0].observation_space} (another catalog size, slate size or history "
                "window?)"
            )
        for translate in seen:
            if fits_actions(translate.action_space):
                return translate
        raise ConfigError(
            f"wrapper {seen[0].__class__.__name__} takes actions {seen[0].action_space}, "
            f"but the model outputs {acts}"
        )
    if fits_actions(env.action_space) and fits_observations(env.observation_space):
        return None
    candidates = [v for cls in ACTION_WRAPPERS.values() for v in _wrapper_variants(cls, env)]
    if not any(fits_observations(v.observation_space) for v in [env, *candidates]):
        raise ConfigError(
            f"the model was trained on observations {observed}, but this env gives "
            f"{env.observation_space} (another catalog size, slate size or history window?)"
        )
    for translate in candidates:
        if fits_actions(translate.action_space) and fits_observations(translate.observation_space):
            return translate
    raise ConfigError(
        f"the model outputs actions {acts}, but this env takes slates {env.action_space} and no "
        f"known wrapper ({', '.join(ACTION_WRAPPERS)}) translates them; name the one it was "
        "trained with (wrapper: 'package.module:Wrapper')"
    )


def adapt(
    obj: Any, env: gym.Env | None = None, wrapper: str | type[gym.ActionWrapper] | None = None
) -> Policy:
    """``obj`` as a policy: itself, an SB3 model wrapper, or a wrapped callable.

    With ``env``, a model's spaces are checked against it and a model trained on a wrapped
    env gets the wrapper's action translation (see :class:`SB3Policy`).
    """
    if hasattr(obj, "act"):
        return obj
    if hasattr(obj, "predict"):
        return SB3Policy(obj, env=env, wrapper=wrapper)
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
    wrapper: str | None = None,
) -> Policy:
    """Build the policy ``name`` (built-in or ``pkg.module:Name``) for ``env``.

    Args:
        name: a key of :data:`simrec.policies.registry.POLICIES` or a dotted path.
        env: the env the policy will act in.
        seed: the policy's seed (passed when the factory accepts ``seed``).
        params: keyword arguments for the factory.
        load: a saved model file, loaded with ``factory.load(load)`` instead of calling it.
        wrapper: for a model trained on a wrapped env, the action wrapper it was trained
            with (a name in ``ACTION_WRAPPERS`` or a dotted path); by default chosen from
            the model's action space.

    Raises:
        ConfigError: unknown name, import failure, bad parameters, or a result that is
            not a policy.
    """
    params = dict(params or {})
    if ":" not in name:
        if wrapper is not None:
            raise ConfigError(f"policy {name!r}: a wrapper applies only to loaded models")
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
    try:
        return adapt(obj, env=env, wrapper=wrapper)
    except ConfigError as exc:
        raise ConfigError(f"policy {name!r}: {exc}") from None


def _with_seed(factory: Any, params: dict[str, Any], seed: int | None) -> dict[str, Any]:
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return params
    takes_seed = "seed" in accepted or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()
    )
    return {**params, "seed": seed} if takes_seed and "seed" not in params else params
