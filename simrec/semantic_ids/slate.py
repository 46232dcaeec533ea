"""Slates named by semantic ids, resolved to the items the env shows.

A policy in the ``semantic_id`` action form names each slot by a semantic id (a string);
in the ``semantic_tokens`` form by one token code per level (what an RL policy outputs).
:class:`SlateResolver` turns either into a :class:`ResolvedSlate`: the item index of
every slot, and which slots named nothing in the catalog — **hallucinations**, shown as
empty slots, counted in ``info["hallucinated"]`` and logged per slot.

What counts (the contract, also in the README):

* **A hallucination** — any string that is not exactly (case-sensitive, no trimming) the
  semantic id of a catalog item: an unknown id, the empty string, a malformed string
  (``"a//b"``, a trailing ``/``, whitespace), a valid prefix that is not itself an item
  (``desert/arizona``), an id from another catalog. In token form: codes that spell such
  a path (tokens that leave the prefix tree, or an ``END`` before a leaf). Every
  hallucinated slot is counted, repeats included.
* **A duplicate** — a valid id repeated in the slate: shown once, later copies empty and
  counted in ``info["duplicates"]``, as for item indices (not a hallucination).
* **An** :class:`~simrec.errors.ActionError` — an action that is not a slate of ids at
  all: a bare string instead of a list, the wrong number of slots, a slot that is not a
  string (``None``, a number, bytes); in token form non-integer codes, the wrong shape or
  a code outside its level's vocabulary (outside the action space).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simrec.errors import ActionError
from simrec.semantic_ids.hierarchy import SemanticIdHierarchy
from simrec.session import EMPTY
from simrec.validation import integer_action

ITEM_INDEX = "item_index"
SEMANTIC_ID = "semantic_id"
SEMANTIC_TOKENS = "semantic_tokens"
ACTION_FORMS = (ITEM_INDEX, SEMANTIC_ID, SEMANTIC_TOKENS)
"""What a policy's slate is made of: item indices (the env's own contract), semantic ids
(strings), or per-level token codes of semantic ids."""


@dataclass(frozen=True)
class ResolvedSlate:
    """A slate whose slots named items by id, resolved: what the env shows and logs.

    Pass it to ``env.step`` (or inside a conversational action's ``slate``) to show a
    slate with hallucinated slots; the env checks it like an index slate.

    Attributes:
        items: ``(k,)`` (or ``(num_envs, k)`` for the vector env) item indices,
            ``EMPTY`` (-1) exactly where ``hallucinated``.
        hallucinated: same shape, bool: the slot's id named no catalog item.
        emitted: same shape, the ids as the policy emitted them (for the event log's
            ``emitted_id`` column), or ``None`` when not kept.
    """

    items: np.ndarray
    hallucinated: np.ndarray
    emitted: np.ndarray | None = None

    def checked(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``items`` and ``hallucinated`` as arrays of ``shape``, integer and bool.

        Raises:
            ActionError: another shape or dtype (whether each slot is consistent is the
                env's check: it knows the catalog size).
        """
        items, hallucinated = np.asarray(self.items), np.asarray(self.hallucinated)
        if items.shape != shape or hallucinated.shape != shape:
            raise ActionError(
                f"resolved slate: expected items and hallucination flags of shape {shape}, "
                f"got {items.shape} and {hallucinated.shape}"
            )
        if items.dtype.kind not in "iu" or hallucinated.dtype != bool:
            raise ActionError(
                f"resolved slate: expected integer items and bool flags, got {items.dtype} "
                f"and {hallucinated.dtype}"
            )
        return items, hallucinated


def action_form(policy: Any) -> str:
    """The action form a policy declares (``policy.action_form``; default item indices).

    Raises:
        ActionError: an unknown form.
    """
    form = getattr(policy, "action_form", ITEM_INDEX)
    if form not in ACTION_FORMS:
        raise ActionError(
            f"policy {type(policy).__name__}: action_form {form!r}; expected one of "
            f"{', '.join(ACTION_FORMS)}"
        )
    return form


class SlateResolver:
    """Resolves semantic-id slates (ids or token codes) against one catalog hierarchy.

    Args:
        hierarchy: the catalog's :class:`SemanticIdHierarchy`.
        slate_size: slots per slate.
    """

    def __init__(self, hierarchy: SemanticIdHierarchy, slate_size: int) -> None:
        self.hierarchy = hierarchy
        self.k = int(slate_size)

    # -- one slate or a batch, either form ---------------------------------------------------
    def resolve(self, action: Any, form: str, batch: int | None = None) -> Any:
        """``action`` in ``form`` as the env's action (index actions pass through).

        Args:
            action: a slate (``batch`` None) or ``batch`` slates, in ``form``.
            form: one of :data:`ACTION_FORMS`.
            batch: the number of sub-envs of a vector env, or ``None`` for one slate.
        """
        if form == SEMANTIC_ID:
            return self.from_ids(action, batch)
        if form == SEMANTIC_TOKENS:
            return self.from_tokens(action, batch)
        return action

    def resolve_action(
        self, action: Any, form: str, conversational: bool, batch: int | None = None
    ) -> Any:
        """:meth:`resolve`, for a conversational action's ``slate`` too (the message stays)."""
        if conversational and isinstance(action, Mapping) and "slate" in action:
            return {**action, "slate": self.resolve(action["slate"], form, batch)}
        return self.resolve(action, form, batch)

    def from_ids(self, action: Any, batch: int | None = None) -> ResolvedSlate:
        """Resolve semantic ids: ``(k,)`` strings, or ``(batch, k)`` for a vector env."""
        shape = (self.k,) if batch is None else (batch, self.k)
        ids, values = _strings(action, shape)
        items = self.hierarchy.lookup_flat(values).reshape(shape)
        return ResolvedSlate(items, items == EMPTY, ids)

    def from_tokens(self, action: Any, batch: int | None = None) -> ResolvedSlate:
        """Resolve token codes: ``(k, depth)`` ints, or ``(batch, k, depth)``."""
        h = self.hierarchy
        shape = (self.k, h.depth) if batch is None else (batch, self.k, h.depth)
        codes = integer_action(action, shape, "token action", "token codes")
        sizes = np.array([len(v) for v in h.vocabularies], dtype=np.int64)
        bad = (codes < 0) | (codes >= sizes)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            level = where[-1]
            raise ActionError(
                f"token action: code {codes[where]} at {where} is outside level {level}'s "
                f"vocabulary [0, {sizes[level] - 1}]"
            )
        items = h.decode_codes(codes)
        hallucinated = items == EMPTY
        emitted = None
        if batch is None:
            emitted = np.array([h.spell(row) for row in codes], dtype=object)
        return ResolvedSlate(items, hallucinated, emitted)


def _strings(action: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, list[Any]]:
    """``action`` as an object array of ``shape`` holding only strings (and its flat list
    of values), or an ActionError."""
    if isinstance(action, (str, bytes)):
        raise ActionError(
            f"semantic-id action: expected a slate of {shape[-1]} ids (a list of strings), "
            f"got the single value {action!r}"
        )
    try:
        array = np.asarray(action, dtype=object)
    except (TypeError, ValueError):
        raise ActionError(
            f"semantic-id action: expected {shape} semantic ids, got {action!r}"
        ) from None
    if array.shape != shape:
        raise ActionError(f"semantic-id action: expected shape {shape} of ids, got {array.shape}")
    values = array.ravel().tolist()
    if not all(issubclass(kind, str) for kind in set(map(type, values))):
        pos = next(i for i, v in enumerate(values) if not isinstance(v, str))
        where = np.unravel_index(pos, shape)
        slot = ", ".join(str(int(i)) for i in where)
        raise ActionError(
            f"semantic-id action: slot ({slot}) holds {values[pos]!r} "
            f"({type(values[pos]).__name__}); expected a semantic id string"
        )
    return array, values
