"""A catalog's semantic ids as a prefix tree with one token vocabulary per level.

A semantic id is a ``/``-separated path of tokens, coarse to fine
(``desert/arizona/heroic/hard/premium/0``). Generative recommenders emit such ids one
token at a time; :class:`SemanticIdHierarchy` holds what they need to do it and what the
env needs to judge the result:

* **lookup** — an emitted id to its item index (exact, case-sensitive string match;
  ``-1`` when it names no item);
* **the prefix tree** — every distinct prefix is a node; items sit at leaves. Constrained
  decoding walks it, so every emitted id exists;
* **per-level vocabularies** — ``vocabularies[l]`` is every token that appears at
  position ``l`` of some id, sorted. Unconstrained decoding picks from them without
  checking the tree, and RL policies act with token codes into them
  (``SemanticIdSlate(env, encoding="tokens")``).

Ids of different depths mix freely. Where some id ends after ``l`` tokens and a deeper
level ``l`` exists, level ``l``'s vocabulary starts with :data:`END` (code 0), the
end-of-id token: ``("a", "b", END, ...)`` spells ``a/b`` and tokens after an ``END`` are
ignored, as a decoder stops at its end-of-sequence token. An id that is also a prefix of
other ids (``a/b`` beside ``a/b/c``) has its leaf under the ``END`` child of its node.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np

from simrec.memo import per_object

SEPARATOR = "/"
"""Separates the tokens of a semantic id."""
END = None
"""The end-of-id token (code 0 of a level whose vocabulary has it)."""
NO_NODE = -1
"""Node id of a path that left the tree (or of no node)."""


class SemanticIdHierarchy:
    """The prefix tree, vocabularies and lookup of a list of unique semantic ids.

    Args:
        semantic_ids: one unique id per item (item ``i`` has ``semantic_ids[i]``).

    Attributes:
        depth: the number of levels (tokens of the longest id).
        vocabularies: per level, its tokens (``END`` first where ids end there).
        parent, level, token, item: per node: its parent (``-1`` for the root), its depth
            (root 0), the code of its last token in ``vocabularies[level - 1]``, and the
            item at it (``-1`` unless it is a leaf).
        leaf: per item, its leaf node.
        paths: ``(n_items, depth)`` node ids from the first token to the leaf, padded
            with ``-1`` after the leaf.
        codes: ``(n_items, depth)`` each item's token codes (``END`` / ``0`` padding).
    """

    def __init__(self, semantic_ids: Sequence[str]) -> None:
        ids = [str(s) for s in semantic_ids]
        if not ids:
            raise ValueError("semantic ids: expected at least one")
        self.ids = np.array(ids, dtype=object)
        # A dict is the fastest exact lookup for Python strings (pandas' Index is ~10x
        # slower on string arrays, and a sorted unicode array needs a costly conversion).
        self._position = {text: i for i, text in enumerate(ids)}
        if len(self._position) != len(ids):
            raise ValueError("semantic ids: expected unique ids, one per item")
        tokens = [s.split(SEPARATOR) for s in ids]
        lengths = np.array([len(t) for t in tokens], dtype=np.int64)
        self.depth = int(lengths.max())
        self.vocabularies = self._vocabularies(tokens, lengths)
        self._code_of = [{t: c for c, t in enumerate(v) if t is not END} for v in self.vocabularies]
        self.codes = np.zeros((len(ids), self.depth), dtype=np.int64)
        for i, path in enumerate(tokens):
            self.codes[i, : len(path)] = [self._code_of[lvl][t] for lvl, t in enumerate(path)]
        self._build_tree(lengths)

    # -- construction ---------------------------------------------------------------------
    def _vocabularies(self, tokens: list[list[str]], lengths: np.ndarray) -> tuple[tuple, ...]:
        ends = set(lengths.tolist())
        out = []
        for level in range(self.depth):
            words = sorted({path[level] for path in tokens if len(path) > level})
            out.append(tuple(([END] if level in ends else []) + words))
        return tuple(out)

    def _build_tree(self, lengths: np.ndarray) -> None:
        """Nodes in level order; children of a node are contiguous and sorted by token code."""
        n_items = len(self.ids)
        # A node is a distinct prefix; an id that is a proper prefix of another gets an END
        # child as its leaf (its codes already end in 0 = END at that level).
        proper_prefix = np.zeros(n_items, dtype=bool)
        prefixes = {tuple(row[:length]) for row, length in zip(self.codes, lengths, strict=True)}
        strict_prefixes = {p[:cut] for p in prefixes for cut in range(1, len(p))}
        for i, length in enumerate(lengths.tolist()):
            proper_prefix[i] = tuple(self.codes[i, :length]) in strict_prefixes
        leaf_len = lengths + proper_prefix
        node_of: dict[tuple[int, ...], int] = {(): 0}
        parent, level, token = [NO_NODE], [0], [0]
        paths = np.full((n_items, self.depth), NO_NODE, dtype=np.int64)
        for depth in range(1, self.depth + 1):
            keys = sorted({tuple(self.codes[i, :depth]) for i in np.flatnonzero(leaf_len >= depth)})
            for key in keys:
                node_of[key] = len(parent)
                parent.append(node_of[key[:-1]])
                level.append(depth)
                token.append(key[-1])
            for i in np.flatnonzero(leaf_len >= depth).tolist():
                paths[i, depth - 1] = node_of[tuple(self.codes[i, :depth])]
        self.parent = np.array(parent, dtype=np.int64)
        self.level = np.array(level, dtype=np.int64)
        self.token = np.array(token, dtype=np.int64)
        self.leaf = paths[np.arange(n_items), leaf_len - 1]
        self.item = np.full(len(parent), NO_NODE, dtype=np.int64)
        self.item[self.leaf] = np.arange(n_items)
        self.paths = paths
        # Children as CSR: nodes are sorted by (level, parent, token), so each node's
        # children are one contiguous run.
        counts = np.bincount(self.parent[1:], minlength=len(parent))
        self.child_start = np.concatenate([[0], np.cumsum(counts)[:-1]]) + 1
        self.child_count = counts
        # (parent, token) -> child, for walking token codes: one sorted key per node.
        self._radix = max(len(v) for v in self.vocabularies) + 1
        self._child_keys = self.parent[1:] * self._radix + self.token[1:]
        # A row of codes (zeroed from its first END) as one mixed-radix integer, when
        # every combination fits in int64: decoding is then one product and one search.
        self._has_end = np.array([v[0] is END for v in self.vocabularies])
        sizes = [len(v) for v in self.vocabularies]
        self._place: np.ndarray | None = None
        if np.prod([float(x) for x in sizes]) < 2.0**62:
            place = np.cumprod([1, *sizes[:0:-1]])[::-1].astype(np.int64)
            keys = self.codes @ place
            self._key_order = np.argsort(keys, kind="stable")
            self._sorted_keys = keys[self._key_order]
            self._place = place

    # -- queries --------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Nodes of the tree, the root included."""
        return len(self.parent)

    def children(self, node: int) -> np.ndarray:
        """The child nodes of ``node``, by token code."""
        start = self.child_start[node]
        return np.arange(start, start + self.child_count[node])

    def lookup(self, ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Item index of every id (``-1`` where it names no item); any shape of strings."""
        array = np.asarray(ids, dtype=object)
        return self.lookup_flat(array.ravel().tolist()).reshape(array.shape)

    def lookup_flat(self, ids: list[str]) -> np.ndarray:
        """:meth:`lookup` for a flat list of strings (one dict lookup each)."""
        found = map(self._position.get, ids, repeat(NO_NODE))
        return np.fromiter(found, dtype=np.int64, count=len(ids))

    def child(self, nodes: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The child of each node with each token code (``-1`` where there is none)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        keys = nodes * self._radix + np.asarray(codes, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._child_keys, keys), len(self._child_keys) - 1)
        found = (nodes >= 0) & (self._child_keys[pos] == keys)
        return np.where(found, pos + 1, NO_NODE)

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        """Item index of each row of token codes (last axis: levels); ``-1`` if none.

        Tokens after an :data:`END` are ignored. A row whose tokens leave the tree, or
        stop at a prefix that is not an item, names no item.
        """
        codes = np.asarray(codes, dtype=np.int64)
        shape = codes.shape[:-1]
        flat = codes.reshape(-1, self.depth)
        if self._place is not None:
            ended = np.logical_or.accumulate((flat == 0) & self._has_end, axis=1)
            keys = np.where(ended, 0, flat) @ self._place
            pos = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
            found = self._sorted_keys[pos] == keys
            return np.where(found, self._key_order[pos], NO_NODE).reshape(shape)
        return self._walk(flat).reshape(shape)

    def _walk(self, flat: np.ndarray) -> np.ndarray:
        """:meth:`decode_codes` by walking the tree a level at a time (any vocabulary sizes)."""
        node = np.zeros(len(flat), dtype=np.int64)
        done = np.zeros(len(flat), dtype=bool)
        for lvl in range(self.depth):
            code = flat[:, lvl]
            ends = ~done & (code == 0) & (self.vocabularies[lvl][0] is END)
            # an END at a leaf that has no END child (an id with no longer ids under it)
            # closes the id where it is
            at_leaf = ends & (self.item[np.maximum(node, 0)] >= 0) & (node >= 0)
            step = ~done & ~at_leaf
            node[step] = self.child(node[step], code[step])
            done |= ends
        found = node >= 0
        return np.where(found, self.item[np.maximum(node, 0)], NO_NODE)

    def spell(self, codes: Sequence[int]) -> str:
        """The id that one row of token codes spells (tokens up to the first END)."""
        words = []
        for lvl, code in enumerate(codes):
            word = self.vocabularies[lvl][int(code)]
            if word is END:
                break
            words.append(word)
        return SEPARATOR.join(words)


@per_object
def hierarchy_of(catalog: object) -> SemanticIdHierarchy:
    """The (cached) hierarchy of ``catalog.semantic_ids``: built once per catalog."""
    return SemanticIdHierarchy(catalog.semantic_ids)  # type: ignore[attr-defined]
