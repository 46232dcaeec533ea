"""The one interface every brain implements, and the registry that names brains.

A brain turns (sessions, slates, optional recommender messages) into one
:class:`~simrec.reaction.Reaction` per session. It is always called with a batch (the
single env passes a batch of one), so concurrent brains (LLMs, many requests in flight)
get all the work of a step at once.

Writing a new brain is one small class::

    class AlwaysFirst:
        # Clicks the first slot, says so, never leaves.
        name = "always-first"
        deterministic = True

        def react(self, sessions, slates, messages, rngs):
            out = []
            for session, slate in zip(sessions, slates):
                k = len(slate)
                clicked = [pos == 0 for pos in range(k)]
                out.append(Reaction(clicked, [False] * k, [False] * k, False,
                                    session.satisfaction, "The first one!", self.name))
            return out

    register_brain("always-first", AlwaysFirst)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from simrec.errors import ArgumentError, ConfigError
from simrec.reaction import Reaction
from simrec.session import Session


@runtime_checkable
class Brain(Protocol):
    """How simulated users decide. Implementations draw randomness only from ``rngs``.

    Attributes:
        name: short name used in logs (``utility``, ``anthropic``).
        deterministic: ``True`` when the same generators give the same reactions.
    """

    name: str
    deterministic: bool

    def react(
        self,
        sessions: Sequence[Session],
        slates: Sequence[Sequence[int]],
        messages: Sequence[str | None],
        rngs: Sequence[np.random.Generator],
    ) -> list[Reaction]:
        """React to ``slates[i]`` (item indices, ``-1`` = empty slot) in ``sessions[i]``.

        Args:
            sessions: the visits being stepped (read, never modified, by the brain).
            slates: item indices into the catalog, one list per session.
            messages: the recommender's message to each user, or ``None``.
            rngs: one generator per session, the brain's only source of randomness.
        """
        ...


_REGISTRY: dict[str, Callable[..., Brain]] = {}


def register_brain(name: str, factory: Callable[..., Brain]) -> None:
    """Make ``factory(**kwargs)`` available as ``brain=name`` in envs and scenarios."""
    _REGISTRY[name] = factory


def make_brain(brain: str | Brain, **kwargs: Any) -> Brain:
    """Build the brain named ``brain`` (or pass an instance through unchanged)."""
    if not isinstance(brain, str):
        if kwargs:
            raise ConfigError("brain_kwargs apply only when the brain is given by name")
        return brain
    if brain not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown brain {brain!r}; expected one of: {known}")
    try:
        return _REGISTRY[brain](**kwargs)
    except ArgumentError as exc:  # names the option and what was expected
        raise ArgumentError(f"brain {brain!r}: brain_kwargs: {exc}", exc.argument) from None
    except TypeError as exc:
        raise ConfigError(f"brain {brain!r}: bad brain_kwargs: {exc}") from None
