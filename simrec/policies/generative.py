"""A generative recommender over the semantic-id hierarchy: ids emitted token by token.

Generative retrieval models (TIGER and its kin) name items by hierarchical semantic ids
and decode them one token per level. :class:`GenerativePolicy` is that recipe with an
in-session model in place of a trained network, so it meets every user as a stranger
and works on any catalog:

* **Model.** Every prefix of the id tree (``desert``, ``desert/arizona``, …) keeps a
  Beta posterior of "a slot showing an item under this prefix gets clicked". Each shown
  item updates every prefix on its path: a click and a purchase each count one success,
  an ignored slot one failure, a dismissal one more. A prefix's prior mean is its
  parent's posterior mean (``prior_strength`` pseudo-observations), so what is learned
  about ``desert`` informs every region under it — evidence is shared down the tree.
* **Decoding.** Each slot is generated from the root, one level at a time: every
  candidate next token gets a Thompson draw from its prefix's posterior, the best is
  emitted, and decoding goes on under it until an id is complete. Fresh draws per slot
  explore; the slate is ordered by the posterior mean of each id's deepest known prefix.
* **Constrained** (``constrained=True``, ``generative_constrained``): candidates are the
  children of the current prefix in the catalog's tree, minus branches whose items are
  all in the slate already — every emitted id exists and the slate has no repeats.
* **Unconstrained** (``constrained=False``, ``generative_unconstrained``): candidates are
  the whole vocabulary of the level, as when a model's token heads are decoded without
  the tree. A token path never seen has no evidence (its prior is the last known
  prefix's mean), so the decoder spells ids that do not exist — hallucinations, which
  the env shows as empty slots. It retries a slot whose id repeats one already in the
  slate (up to ``retries`` times), as beam search keeps beams distinct.

Both learn only from what was shown: a hallucinated slot names no item and teaches
nothing, so the two differ in decoding alone.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.policies.base import EMPTY
from simrec.semantic_ids import END, SEMANTIC_ID, SemanticIdHierarchy, hierarchy_of


class GenerativePolicy:
    """Emits semantic ids token by token from an in-session hierarchical Thompson model.

    Args:
        env: the env (wrapped or not) whose catalog and slate size are used.
        seed: seeds the decoder's draws.
        constrained: decode within the catalog's prefix tree (every id exists) or from
            each level's whole vocabulary (ids may not exist).
        prior_strength: pseudo-observations of a prefix's prior (its parent's mean);
            smaller trusts the session's evidence sooner.
        base_rate: the root's prior chance that a slot is clicked.
        retries: unconstrained only: redraws of a slot whose id repeats one in the slate.
    """

    action_form = SEMANTIC_ID
    name = "generative"

    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        constrained: bool = True,
        prior_strength: float = 2.0,
        base_rate: float = 0.2,
        retries: int = 3,
        fresh: bool = True,
        diversity: float = 0.2,
    ) -> None:
        if prior_strength <= 0 or not 0 < base_rate < 1 or retries < 0:
            raise ValueError(
                "generative: expected prior_strength > 0, 0 < base_rate < 1, retries >= 0; "
                f"got {prior_strength!r}, {base_rate!r}, {retries!r}"
            )
        base = env.unwrapped
        self.k: int = base.slate_size
        self.tree: SemanticIdHierarchy = hierarchy_of(base.catalog)
        self.constrained = bool(constrained)
        self.strength, self.base_rate = float(prior_strength), float(base_rate)
        self.retries = int(retries)
        self.fresh = bool(fresh)
        self.diversity = float(diversity)
        tree = self.tree
        # nodes are in level order: one slice per depth for the top-down posterior means
        bounds = np.searchsorted(tree.level, np.arange(tree.depth + 2))
        self._levels = [slice(bounds[d], bounds[d + 1]) for d in range(1, tree.depth + 1)]
        self._leaves_under = np.bincount(
            tree.paths[tree.paths >= 0], minlength=tree.n_nodes
        ).astype(np.int64)
        self._leaves_under[0] = len(tree.ids)
        self._vocab_codes = [np.arange(len(v)) for v in tree.vocabularies]
        sizes = [len(v) for v in tree.vocabularies]
        self._token_offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        # each node's (level, token) as one id into the per-token statistics
        self._token_of = self._token_offset[np.maximum(tree.level - 1, 0)] + tree.token
        self._token_of[0] = -1
        self._children = [tree.children(node).tolist() for node in range(tree.n_nodes)]
        self._leaf_paths = {
            int(leaf): [0, *path[path >= 0].tolist()]
            for leaf, path in zip(tree.leaf, tree.paths, strict=True)
        }
        self.rng = np.random.default_rng(seed)
        self.turn = 0
        self.begin_session()

    # -- lifecycle -------------------------------------------------------------------------
    def begin_session(self) -> None:
        """Forget the previous user: every prefix back to its prior."""
        self.successes = np.zeros(self.tree.n_nodes)
        self.failures = np.zeros(self.tree.n_nodes)
        n_tokens = int(self._token_offset[-1])
        self.token_successes = np.zeros(n_tokens)
        self.token_failures = np.zeros(n_tokens)
        self.shown_under = np.zeros(self.tree.n_nodes, dtype=np.int64)
        self.shown_ids: set[str] = set()
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """Start a new session (reseeding when ``seed`` is given)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.begin_session()

    def act(self, observation: Any, info: dict[str, Any]) -> list[str]:
        """``slate_size`` semantic ids, decoded token by token."""
        if info.get("turn", 0) == 0 and self.turn != 0:
            self.begin_session()
        mean, prior, token_mean = self.posterior()
        if self.constrained:
            ids, deepest = self._constrained_slate(mean, prior)
        else:
            ids, deepest = self._unconstrained_slate(mean, prior, token_mean)
        order = np.argsort(-mean[deepest], kind="stable")
        return [ids[i] for i in order.tolist()]

    def update(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        """Learn from the feedback to the items just shown (hallucinated slots teach nothing)."""
        self.turn = int(info.get("turn", self.turn + 1))
        slate, reaction = info.get("slate"), info.get("reaction")
        if slate is None or reaction is None:
            return
        tree = self.tree
        for pos, item in enumerate(slate):
            if item == EMPTY:
                continue
            nodes = tree.paths[item]
            nodes = np.concatenate([[0], nodes[nodes >= 0]])
            if self.fresh and str(tree.ids[item]) not in self.shown_ids:
                self.shown_under[nodes] += 1
                self.shown_ids.add(str(tree.ids[item]))
            clicked = bool(reaction.clicked[pos])
            good = clicked + bool(reaction.purchased[pos])
            bad = (not clicked) + bool(reaction.dismissed[pos])
            self.successes[nodes] += good
            self.failures[nodes] += bad
            tokens = self._token_of[nodes[1:]]
            self.token_successes[tokens] += good
            self.token_failures[tokens] += bad

    # -- the model ---------------------------------------------------------------------------
    def posterior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per prefix its posterior and prior click chance, and per token its posterior.

        A token's posterior pools every prefix ending in it (``ireland`` under ``links``
        and under ``coastal``); a prefix's prior is the average of its parent's posterior
        and its token's, so evidence flows down the tree and across branches.
        """
        s, succ, fail = self.strength, self.successes, self.failures
        mean = np.empty(self.tree.n_nodes)
        mean[0] = (succ[0] + s * self.base_rate) / (succ[0] + fail[0] + s)
        token_mean = (self.token_successes + s * mean[0]) / (
            self.token_successes + self.token_failures + s
        )
        prior = np.empty(self.tree.n_nodes)
        prior[0] = self.base_rate
        parent = self.tree.parent
        for nodes in self._levels:
            prior[nodes] = 0.5 * (mean[parent[nodes]] + token_mean[self._token_of[nodes]])
            mean[nodes] = (succ[nodes] + s * prior[nodes]) / (succ[nodes] + fail[nodes] + s)
        return mean, prior, token_mean

    def _thompson(self, alpha: np.ndarray, beta: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Thompson draws from Beta(alpha, beta), by its normal approximation.

        Same mean and variance as the Beta posterior; one normal draw per candidate is
        ~50x cheaper than numpy's Beta sampler, whose per-call cost dominates small arrays.
        """
        total = alpha + beta
        spread = np.sqrt(alpha * beta / (total * total * (total + 1.0)))
        return alpha / total + spread * self.rng.standard_normal(shape)

    # -- decoders: each returns the slate's ids and each id's deepest known prefix --------------
    def _constrained_slate(
        self, mean: np.ndarray, prior: np.ndarray
    ) -> tuple[list[str], np.ndarray]:
        """Ids walked down the catalog's tree; a branch whose items are all taken is closed."""
        tree, s = self.tree, self.strength
        draws = self._thompson(
            self.successes + s * prior, self.failures + s * (1.0 - prior), (self.k, tree.n_nodes)
        )
        remaining = self._leaves_under - self.shown_under
        if remaining[0] < self.k:  # every item shown already: start over
            self.shown_under[:] = 0
            remaining = self._leaves_under.copy()
        # The walk is a handful of small choices per slot: plain Python lists beat numpy.
        left, children, paths = remaining.tolist(), self._children, self._leaf_paths
        used = [0.0] * tree.n_nodes  # diverse decoding: a prefix taken earlier scores less
        penalty = self.diversity
        leaves = np.zeros(self.k, dtype=np.int64)
        for slot, row in enumerate(draws.tolist()):
            node = 0
            while children[node]:
                node = max(
                    (c for c in children[node] if left[c] > 0),
                    key=lambda c, row=row: row[c] - penalty * used[c],
                )
            for on_path in paths[node]:
                left[on_path] -= 1
                used[on_path] += 1.0
            leaves[slot] = node
        return [str(i) for i in tree.ids[tree.item[leaves]]], leaves

    def _unconstrained_slate(
        self, mean: np.ndarray, prior: np.ndarray, token_mean: np.ndarray
    ) -> tuple[list[str], np.ndarray]:
        """Ids spelled from each level's vocabulary; a slot that repeats an id is redrawn."""
        ids, deepest = self._spell(mean, prior, token_mean, self.k)
        for _ in range(self.retries):
            clashes = self._clashes(ids)
            if not clashes:
                break
            again, again_deepest = self._spell(mean, prior, token_mean, len(clashes))
            for i, text, node in zip(clashes, again, again_deepest.tolist(), strict=True):
                ids[i], deepest[i] = text, node
        return ids, deepest

    def _clashes(self, ids: list[str]) -> list[int]:
        """Slots whose id repeats an earlier slot's or (``fresh``) one shown this session."""
        seen = set(self.shown_ids)
        clashes = []
        for i, text in enumerate(ids):
            if text in seen:
                clashes.append(i)
            seen.add(text)
        return clashes

    def _spell(
        self, mean: np.ndarray, prior: np.ndarray, token_mean: np.ndarray, n: int
    ) -> tuple[list[str], np.ndarray]:
        """``n`` ids, one token per level from the whole vocabulary (all slots at once).

        A candidate whose prefix has evidence is drawn from its posterior; one never seen
        from the prior it would have (its last known prefix's and its token's means).
        """
        tree, s = self.tree, self.strength
        node = np.zeros(n, dtype=np.int64)  # -1 once the path has left the tree
        known = np.zeros(n, dtype=np.int64)  # deepest prefix with evidence
        codes = np.zeros((n, tree.depth), dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        for level, vocab in enumerate(self._vocab_codes):
            kids = tree.child(np.repeat(node, len(vocab)), np.tile(vocab, n)).reshape(n, -1)
            found = kids >= 0
            safe = np.where(found, kids, 0)
            unseen = 0.5 * (mean[known][:, None] + token_mean[self._token_offset[level] + vocab])
            start = np.where(found, prior[safe], unseen)
            draws = self._thompson(
                np.where(found, self.successes[safe], 0.0) + s * start,
                np.where(found, self.failures[safe], 0.0) + s * (1.0 - start),
                kids.shape,
            )
            choice = np.argmax(draws, axis=1)
            codes[:, level] = np.where(done, 0, choice)
            ends = ~done & (tree.vocabularies[level][0] is END) & (choice == 0)
            done |= ends
            step = ~done
            node[step] = kids[step, choice[step]]
            known = np.where(step & (node >= 0), node, known)
        return [tree.spell(row) for row in codes], known


class ConstrainedGenerativePolicy(GenerativePolicy):
    """:class:`GenerativePolicy` decoding inside the catalog's prefix tree (no hallucinations)."""

    name = "generative_constrained"

    def __init__(self, env: gym.Env, seed: int | None = None, **params: Any) -> None:
        super().__init__(env, seed, constrained=True, **params)


class UnconstrainedGenerativePolicy(GenerativePolicy):
    """:class:`GenerativePolicy` decoding each level from its whole vocabulary (may hallucinate)."""

    name = "generative_unconstrained"

    def __init__(self, env: gym.Env, seed: int | None = None, **params: Any) -> None:
        super().__init__(env, seed, constrained=False, **params)
