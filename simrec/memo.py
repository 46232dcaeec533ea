"""Values derived once per object and kept while the object lives.

A catalog does not change once loaded, a bound persona's card or a session's past turn
neither, yet every turn of every visit asks again for what is derived from them: item
lines, titles, vocabularies, the semantic-id hierarchy, a bandit's design matrix. One
memo serves them all: keyed weakly by the object (by identity; it is forgotten with the
object), built on first use.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Owner = TypeVar("Owner")
Value = TypeVar("Value")


class PerObject(Generic[Owner, Value]):
    """``build(owner)``, computed once per ``owner`` (see the module docstring).

    Safe under threads: two threads that miss at once may both build, and both get the
    value stored first. Use as a decorator on a function of one object.

    Args:
        build: what to derive from an owner (must not depend on anything else that
            changes).
    """

    def __init__(self, build: Callable[[Owner], Value]) -> None:
        self._build = build
        self._values: weakref.WeakKeyDictionary[Owner, Value] = weakref.WeakKeyDictionary()
        functools.update_wrapper(self, build)

    def __call__(self, owner: Owner) -> Value:
        value = self._values.get(owner)
        if value is None:
            value = self._values.setdefault(owner, self._build(owner))
        return value


def per_object(build: Callable[[Owner], Value]) -> PerObject[Owner, Value]:
    """Decorator: ``build`` memoised per owner object (:class:`PerObject`)."""
    return PerObject(build)


__all__ = ["PerObject", "per_object"]
