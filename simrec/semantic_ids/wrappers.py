"""Action wrappers that let a policy name its slate by semantic ids.

:class:`SemanticIdSlate` wraps the single env, :class:`SemanticIdSlateVector` the native
vector env. Both take one of two forms:

* ``form="semantic_id"`` (default) — each slot is a semantic id string
  (``"desert/arizona/heroic/hard/premium/0"``): what a generative recommender or an LLM
  emits. The vector form takes ``(num_envs, slate_size)`` strings (a list of lists or a
  numpy string/object array).
* ``form="semantic_tokens"`` — each slot is one token code per level of the id
  hierarchy, ``MultiDiscrete`` of shape ``(slate_size, depth)`` (batched:
  ``(num_envs, slate_size, depth)``): what an RL policy can output. Codes index
  ``hierarchy.vocabularies[level]``; tokens combine freely, so a policy can spell ids
  that do not exist.

Ids that name no item are hallucinations: shown as empty slots, counted in
``info["hallucinated"]`` and (single env) logged per slot. See
:mod:`simrec.semantic_ids.slate` for exactly what counts and what raises
:class:`~simrec.errors.ActionError`. In conversational mode the action is
``{"slate": <ids or codes>, "message": "..."}``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space

from simrec.errors import ConfigError
from simrec.semantic_ids.hierarchy import SemanticIdHierarchy, hierarchy_of
from simrec.semantic_ids.slate import ITEM_INDEX, SEMANTIC_ID, SEMANTIC_TOKENS, SlateResolver

WRAPPED_FORMS = (SEMANTIC_ID, SEMANTIC_TOKENS)


def slate_space(hierarchy: SemanticIdHierarchy, slate_size: int, form: str) -> spaces.Space:
    """One slate's action space in ``form``.

    ``semantic_id``: a ``Tuple`` of ``slate_size`` ``Text`` spaces over the characters of
    the catalog's ids (samples are random strings: nearly all hallucinations).
    ``semantic_tokens``: ``MultiDiscrete`` of shape ``(slate_size, depth)``.
    """
    if form == SEMANTIC_TOKENS:
        sizes = np.array([len(v) for v in hierarchy.vocabularies], dtype=np.int64)
        return spaces.MultiDiscrete(np.tile(sizes, (slate_size, 1)))
    charset = "".join(sorted({c for text in hierarchy.ids for c in text})) or "/"
    longest = max(1, max(len(text) for text in hierarchy.ids))
    text = spaces.Text(longest, min_length=0, charset=charset)
    return spaces.Tuple((text,) * slate_size)


def _check_form(form: str) -> str:
    if form not in WRAPPED_FORMS:
        raise ConfigError(f"form: expected one of {', '.join(WRAPPED_FORMS)}, got {form!r}")
    return form


class SemanticIdSlate(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Action = a slate of semantic ids (or their token codes); unknown ids are hallucinations.

    Args:
        env: a simrec env (wrapped or not).
        form: ``semantic_id`` (strings) or ``semantic_tokens`` (per-level codes).

    Example::

        env = SemanticIdSlate(gym.make("simrec/Golf-v0"))
        obs, info = env.reset(seed=0)
        ids = list(env.unwrapped.catalog.semantic_ids[:4]) + ["desert/nowhere/0"]
        obs, reward, terminated, truncated, info = env.step(ids)
        info["hallucinated"]   # 1: the last id names no item; its slot was shown empty
    """

    def __init__(self, env: gym.Env, form: str = SEMANTIC_ID) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, form=form)
        gym.Wrapper.__init__(self, env)
        base = env.unwrapped
        self.form = _check_form(form)
        self.hierarchy = hierarchy_of(base.catalog)
        self.resolver = SlateResolver(self.hierarchy, base.slate_size)
        self.conversational = bool(getattr(base, "conversational", False))
        slate = slate_space(self.hierarchy, base.slate_size, self.form)
        self.action_space = (
            spaces.Dict({"slate": slate, "message": env.action_space["message"]})
            if self.conversational
            else slate
        )

    def action(self, action: Any) -> Any:
        """The env's action for ``action``: a :class:`ResolvedSlate` (plus the message)."""
        return self.resolver.resolve_action(action, self.form, self.conversational)


class SemanticIdSlateVector(VectorActionWrapper):
    """:class:`SemanticIdSlate` for the native vector env: one slate of ids per sub-env.

    ``info["hallucinated"]`` counts each sub-env's hallucinated slots. Ids are looked up
    for the whole batch at once (a hash lookup per string; token codes walk the prefix
    tree with one ``searchsorted`` per level).

    Args:
        env: a :class:`~simrec.vector.RecSessionVectorEnv` (possibly wrapped).
        form: ``semantic_id`` or ``semantic_tokens``.
    """

    def __init__(self, env: VectorEnv, form: str = SEMANTIC_ID) -> None:
        super().__init__(env)
        base = env.unwrapped
        self.form = _check_form(form)
        self.hierarchy = hierarchy_of(base.catalog)
        self.resolver = SlateResolver(self.hierarchy, base.slate_size)
        self.conversational = bool(base.env.conversational)
        n = env.num_envs
        slate = slate_space(self.hierarchy, base.slate_size, self.form)
        slates = spaces.Tuple((slate,) * n) if self.form == SEMANTIC_ID else batch_space(slate, n)
        if self.conversational:
            message = base.single_action_space["message"]
            self.single_action_space = spaces.Dict({"slate": slate, "message": message})
            self.action_space = spaces.Dict(
                {"slate": slates, "message": spaces.Tuple((message,) * n)}
            )
        else:
            self.single_action_space = slate
            self.action_space = slates

    def actions(self, actions: Any) -> Any:
        """The vector env's action: a batched :class:`ResolvedSlate` (plus the messages)."""
        return self.resolver.resolve_action(
            actions, self.form, self.conversational, batch=self.num_envs
        )


def for_action_form(env: gym.Env, form: str) -> gym.Env:
    """``env`` wrapped so it takes slates in ``form`` (as is for item indices or if already).

    Raises:
        ConfigError: ``env`` already takes another semantic-id form.
    """
    if form == ITEM_INDEX:
        return env
    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, SemanticIdSlate):
            if layer.form != form:
                raise ConfigError(
                    f"the env takes {layer.form} actions; the policy emits {form} actions"
                )
            return env
        layer = layer.env
    return SemanticIdSlate(env, form=form)
