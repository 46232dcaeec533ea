"""The gauntlet: degenerate policies that a behaviour verdict must reject.

A scenario's assertion ("the steer-aware policy complies", "MMR keeps users longer") is
only worth something if a policy that lacks the behaviour cannot pass it. These
policies each lack it in one blunt way — they never look at the user, or they only
replay what the user already did — and each exploits one thing a careless metric or
user model might reward: a constant slate (repetition that looks diverse), empty or
duplicate slots (fewer items, better ratios), cheap or pricey items (price alone),
a tag shown from the first turn (looks like listening), items clicked or bought
before (repeat purchases).

:func:`simrec.testing.check_gauntlet` puts each of them in the place of each endorsed
policy of each assertion of a scenario and requires the assertion to fail; a scenario
with ``gauntlet: true`` adds them to its comparison. Every policy here is
deterministic (no seed changes what it shows) and reads neither observations nor
ground truth; the re-show policies read only the per-slot feedback in
``info["reaction"]``, as any recommender could.

=====================  ====================================================================
name                   what it shows
=====================  ====================================================================
``constant_slate``     the same slate every turn (default: the most popular item of each of
                       the most popular categories, so it looks diverse)
``one_item``           one item every turn, the other slots duplicates (shown as empty)
``one_fresh_item``     one item never shown to this user before, each turn, the rest empty
``cheapest``           the ``k`` cheapest items, every turn
``cheapest_rotation``  the next ``k`` items of the cheapest 20%, round and round
``priciest``           the ``k`` most expensive items, every turn
``always_tag``         items with one tag (or satisfying one constraint) from turn 1 on,
                       rotating through them by popularity
``reshow_clicked``     the items the user clicked, latest first, then fresh popular items
``reshow_purchased``   the items the user bought, latest first, then fresh popular items
=====================  ====================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.catalog import Catalog
from simrec.constraints import Constraint
from simrec.errors import SimrecError
from simrec.persona import Drift, Persona
from simrec.policies.base import EMPTY


def popularity_order(catalog: Catalog) -> np.ndarray:
    """Item indices from the most to the least popular (ties: lower index first)."""
    return np.argsort(-catalog.popularity, kind="stable")


def price_order(catalog: Catalog) -> np.ndarray:
    """Item indices from the cheapest to the priciest (ties: more popular first)."""
    return np.lexsort((-catalog.popularity, catalog.prices))


def _item_index(catalog: Catalog, item: Any, what: str) -> int:
    """The index of ``item`` (an item id, or an index into the catalog)."""
    ids = {str(x): i for i, x in enumerate(catalog.item_ids)}
    if isinstance(item, str) and item in ids:
        return ids[item]
    is_index = isinstance(item, (int, np.integer)) and not isinstance(item, bool)
    if is_index and 0 <= int(item) < len(catalog):
        return int(item)
    raise ValueError(f"{what}: {item!r} is neither an item id of the catalog nor an index in it")


class ScriptedPolicy:
    """Base of the gauntlet: a slate chosen by turn number and nothing the user does.

    Subclasses implement :meth:`slate_for` (the slate of the session's ``turn``-th
    slate, 0-based). A new session starts on ``reset`` or when ``act`` sees turn 0 in
    ``info`` after having acted, so the policy also works outside
    :func:`simrec.runner.run_sessions` and with ``info=None`` (the data generator's
    vector backend).
    """

    name = "scripted"
    observes = False
    """It reads no observation: data generation may skip building them."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.catalog: Catalog = base.catalog
        self.k: int = base.slate_size
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """Start a new session (the seed changes nothing: the script is fixed)."""
        self.turn = 0
        self.begin_session()

    def begin_session(self) -> None:
        """Forget the previous session (nothing to forget by default)."""

    def act(self, observation: Any, info: Mapping[str, Any] | None) -> np.ndarray:
        """The scripted slate for this turn."""
        if info is not None and info.get("turn", None) == 0 and self.turn != 0:
            self.reset()
        slate = self.slate_for(self.turn)
        self.turn += 1
        return slate

    def slate_for(self, turn: int) -> np.ndarray:
        """The slate of the session's ``turn``-th slate (0-based)."""
        raise NotImplementedError

    def padded(self, items: Sequence[int]) -> np.ndarray:
        """``items`` (at least one) as a slate, the missing slots repeating the first item.

        The env shows a repeated index once and leaves the other copies empty (counted
        in ``info["duplicates"]``), so this is how a policy shows fewer than ``k`` items.
        """
        items = list(items)[: self.k]
        return np.array(items + [items[0]] * (self.k - len(items)), dtype=np.int64)


class ConstantSlatePolicy(ScriptedPolicy):
    """The same slate every turn, to every user.

    Args:
        items: the slate (item ids or indices, at most ``slate_size``; fewer leave
            empty slots). Default: the most popular item of each category, categories in
            order of their most popular item — a constant slate that looks diverse.
    """

    name = "constant_slate"

    def __init__(
        self, env: gym.Env, seed: int | None = None, items: Sequence[Any] | None = None
    ) -> None:
        super().__init__(env, seed)
        if items is None:
            self.slate = self.padded(_one_per_category(self.catalog, self.k))
        else:
            if isinstance(items, (str, bytes)) or not 1 <= len(items) <= self.k:
                raise ValueError(
                    f"constant_slate: items must be a list of 1 to {self.k} items, got {items!r}"
                )
            chosen = [_item_index(self.catalog, x, "constant_slate: items") for x in items]
            self.slate = self.padded(chosen)

    def slate_for(self, turn: int) -> np.ndarray:
        return self.slate.copy()


def _one_per_category(catalog: Catalog, k: int) -> list[int]:
    """The most popular item of each category (most popular first), then popular fill."""
    chosen: list[int] = []
    seen: set[int] = set()
    order = popularity_order(catalog)
    for item in order.tolist():
        code = int(catalog.category_codes[item])
        if code not in seen:
            seen.add(code)
            chosen.append(item)
        if len(chosen) == k:
            return chosen
    taken = set(chosen)
    rest = [i for i in order.tolist() if i not in taken]
    return chosen + rest[: k - len(chosen)]


class OneItemPolicy(ScriptedPolicy):
    """One item every turn; every other slot repeats it (the env shows them empty).

    Args:
        item: the item (id or index). Default: the most popular item.
    """

    name = "one_item"

    def __init__(self, env: gym.Env, seed: int | None = None, item: Any = None) -> None:
        super().__init__(env, seed)
        index = (
            int(popularity_order(self.catalog)[0])
            if item is None
            else _item_index(self.catalog, item, "one_item: item")
        )
        self.slate = self.padded([index])

    def slate_for(self, turn: int) -> np.ndarray:
        return self.slate.copy()


class OneFreshItemPolicy(ScriptedPolicy):
    """Each turn one item this user has not been shown, the other slots empty.

    Items come down the popularity ranking, so no item is ever repeated within a visit
    (up to the catalog's size, then it starts over).
    """

    name = "one_fresh_item"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.order = popularity_order(self.catalog)

    def slate_for(self, turn: int) -> np.ndarray:
        return self.padded([int(self.order[turn % len(self.order)])])


class CheapestPolicy(ScriptedPolicy):
    """The ``k`` cheapest items, every turn (ties: the more popular first)."""

    name = "cheapest"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.slate = price_order(self.catalog)[: self.k].astype(np.int64)

    def slate_for(self, turn: int) -> np.ndarray:
        return self.slate.copy()


class PriciestPolicy(ScriptedPolicy):
    """The ``k`` most expensive items, every turn (ties: the more popular first)."""

    name = "priciest"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        order = np.lexsort((-self.catalog.popularity, -self.catalog.prices))
        self.slate = order[: self.k].astype(np.int64)

    def slate_for(self, turn: int) -> np.ndarray:
        return self.slate.copy()


class RotationPolicy(ScriptedPolicy):
    """Shows a fixed pool of items ``k`` at a time, in order, round and round.

    The pool is walked from where the last slate stopped, so consecutive slates share
    no item while the pool has more than ``k`` items (and repeat as little as it allows).
    """

    name = "rotation"

    def __init__(self, env: gym.Env, seed: int | None = None, pool: Sequence[int] = ()) -> None:
        super().__init__(env, seed)
        self.pool = np.asarray(pool, dtype=np.int64)
        if len(self.pool) == 0:
            raise ValueError(f"{self.name}: the pool of items to rotate through is empty")

    def slate_for(self, turn: int) -> np.ndarray:
        n = len(self.pool)
        if n <= self.k:
            return self.padded(self.pool.tolist())
        start = (turn * self.k) % n
        return self.pool[(start + np.arange(self.k)) % n]


class CheapestRotationPolicy(RotationPolicy):
    """Rotates through the cheapest ``share`` of the catalog, never looking at the user.

    Args:
        share: the share of the catalog (by price, cheapest first) to rotate through.
    """

    name = "cheapest_rotation"

    def __init__(self, env: gym.Env, seed: int | None = None, share: float = 0.2) -> None:
        if not 0.0 < share <= 1.0:
            raise ValueError(f"cheapest_rotation: share must be in (0, 1], got {share!r}")
        catalog = env.unwrapped.catalog
        size = max(env.unwrapped.slate_size, int(round(share * len(catalog))))
        super().__init__(env, seed, pool=price_order(catalog)[:size])


class AlwaysTagPolicy(RotationPolicy):
    """Items with one tag (or satisfying one constraint) from the first turn on.

    It rotates through the matching items by popularity and never reads a reply: it
    looks exactly like a policy that listened to a request for that tag, except that it
    showed the tag before anyone asked.

    Args:
        tag: a tag (``dog-friendly``) or any catalog value as ``field=value``
            (``category=desert``).
        constraint: instead of ``tag``, a constraint mapping
            (``{field: holes, op: "<=", value: 9}``) or :class:`~simrec.constraints.Constraint`.
    """

    name = "always_tag"

    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        tag: str | None = None,
        constraint: Mapping[str, Any] | Constraint | None = None,
    ) -> None:
        catalog = env.unwrapped.catalog
        self.mask = tag_mask(catalog, tag, constraint)
        order = popularity_order(catalog)
        super().__init__(env, seed, pool=order[self.mask[order]])


def tag_mask(
    catalog: Catalog, tag: str | None, constraint: Mapping[str, Any] | Constraint | None
) -> np.ndarray:
    """Which items carry ``tag`` (a tag or ``field=value``) or satisfy ``constraint``."""
    if (tag is None) == (constraint is None):
        raise ValueError("always_tag: give exactly one of tag (e.g. 'dog-friendly') or constraint")
    if constraint is not None:
        try:
            parsed = (
                constraint
                if isinstance(constraint, Constraint)
                else Constraint.from_dict(dict(constraint), "always_tag")
            )
            parsed.check_against(catalog)
        except (SimrecError, TypeError) as exc:
            raise ValueError(f"always_tag: constraint: {exc}") from None
        mask = parsed.mask(catalog)
    else:
        token = tag if "=" in str(tag) else f"tags={tag}"
        if token not in catalog.token_index:
            raise ValueError(
                f"always_tag: {tag!r} is not a tag or field=value of the catalog "
                f"(e.g. {', '.join(catalog.tokens[:4])})"
            )
        mask = catalog.token_matrix[:, catalog.token_index[token]] > 0
    if not mask.any():
        raise ValueError("always_tag: no item of the catalog matches")
    return np.asarray(mask, dtype=bool)


class ReshowPolicy(ScriptedPolicy):
    """Re-shows what the user clicked (or bought), latest first; fresh popular items fill.

    Until the user has clicked (bought) anything, and in the slots left over, it shows
    popular items not yet shown in this visit. It learns nothing about the user's tastes:
    it only replays the user's own actions back, the way "you viewed" strips do.

    Args:
        what: ``clicked`` or ``purchased``.
    """

    name = "reshow"

    def __init__(self, env: gym.Env, seed: int | None = None, what: str = "clicked") -> None:
        if what not in ("clicked", "purchased"):
            raise ValueError(f"reshow: what must be 'clicked' or 'purchased', got {what!r}")
        super().__init__(env, seed)
        self.what = what
        self.order = popularity_order(self.catalog).tolist()
        self.begin_session()

    def begin_session(self) -> None:
        self.replay: list[int] = []
        self.shown: set[int] = set()
        self.next_fresh = 0

    def slate_for(self, turn: int) -> np.ndarray:
        chosen = list(dict.fromkeys(reversed(self.replay)))[: self.k]
        while len(chosen) < self.k and self.next_fresh < 2 * len(self.order):
            item = self.order[self.next_fresh % len(self.order)]
            self.next_fresh += 1
            if item not in self.shown and item not in chosen:
                chosen.append(item)
        if not chosen:
            chosen = [self.order[0]]
        self.shown.update(chosen)
        return self.padded(chosen)

    def update(self, observation: Any, reward: float, info: Mapping[str, Any]) -> None:
        """Remember the items the user clicked (bought) in the slate just shown."""
        slate, reaction = info.get("slate"), info.get("reaction")
        if slate is None or reaction is None:
            return
        flags = getattr(reaction, self.what)
        self.replay += [
            item for item, hit in zip(slate, flags, strict=True) if hit and item != EMPTY
        ]


class ReshowClickedPolicy(ReshowPolicy):
    """Re-shows the items the user clicked, latest first (see :class:`ReshowPolicy`)."""

    name = "reshow_clicked"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed, what="clicked")


class ReshowPurchasedPolicy(ReshowPolicy):
    """Re-shows the items the user bought, latest first (see :class:`ReshowPolicy`)."""

    name = "reshow_purchased"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed, what="purchased")


def gauntlet_lineup(
    catalog: Catalog, personas: Sequence[Persona], requests: int = 3, drifts: int = 2
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The gauntlet for users like ``personas``: label -> (policy name, parameters).

    Every policy of :data:`GAUNTLET` once, and ``always_tag`` several times, each with a
    tag a careless verdict would reward: ``always_liked`` shows the value the personas'
    tastes weigh most (summed over the pool), ``always_requested`` the most frequent
    request's constraint (``always_requested_2`` … the next ones, up to ``requests``),
    ``always_drifted`` what the most frequent drift moves tastes to (up to ``drifts``).

    Args:
        catalog: the scenario's catalog.
        personas: its personas, with the scenario's events added.
        requests: how many distinct request constraints get an ``always_tag``.
        drifts: how many distinct drift targets get one.
    """
    lineup: dict[str, tuple[str, dict[str, Any]]] = {
        name: (name, {}) for name in GAUNTLET if name != "always_tag"
    }
    weights = sum((p.taste_vector(catalog) for p in personas), np.zeros(len(catalog.tokens)))
    if len(personas) and np.max(weights) > 0:
        lineup["always_liked"] = ("always_tag", {"tag": catalog.tokens[int(np.argmax(weights))]})
    constraints = Counter(i.constraint for p in personas for i in p.intents if i.constraint)
    for rank, (constraint, _) in enumerate(constraints.most_common(requests)):
        label = "always_requested" + (f"_{rank + 1}" if rank else "")
        lineup[label] = ("always_tag", {"constraint": constraint.to_dict()})
    targets = Counter(_drift_target(catalog, p, d) for p in personas for d in p.drifts)
    targets.pop(None, None)
    for rank, (token, _) in enumerate(targets.most_common(drifts)):
        lineup["always_drifted" + (f"_{rank + 1}" if rank else "")] = ("always_tag", {"tag": token})
    return lineup


def _drift_target(catalog: Catalog, persona: Persona, drift: Drift) -> str | None:
    """The catalog value a drift weighs most (``None`` when it weighs none positively)."""
    weights = persona.taste_vector(catalog, drift.tastes)
    return catalog.tokens[int(np.argmax(weights))] if np.max(weights, initial=0.0) > 0 else None


GAUNTLET: dict[str, type[ScriptedPolicy]] = {
    "constant_slate": ConstantSlatePolicy,
    "one_item": OneItemPolicy,
    "one_fresh_item": OneFreshItemPolicy,
    "cheapest": CheapestPolicy,
    "cheapest_rotation": CheapestRotationPolicy,
    "priciest": PriciestPolicy,
    "always_tag": AlwaysTagPolicy,
    "reshow_clicked": ReshowClickedPolicy,
    "reshow_purchased": ReshowPurchasedPolicy,
}
"""The gauntlet's policies by registered name (``always_tag`` needs a ``tag`` or
``constraint``; :func:`simrec.testing.gauntlet_specs` picks them from a scenario)."""


__all__ = [
    "GAUNTLET",
    "AlwaysTagPolicy",
    "CheapestPolicy",
    "CheapestRotationPolicy",
    "ConstantSlatePolicy",
    "OneFreshItemPolicy",
    "OneItemPolicy",
    "PriciestPolicy",
    "ReshowClickedPolicy",
    "ReshowPolicy",
    "ReshowPurchasedPolicy",
    "RotationPolicy",
    "ScriptedPolicy",
    "gauntlet_lineup",
    "popularity_order",
    "price_order",
    "tag_mask",
]
