"""The utility brain over many sessions at once: struct-of-arrays state, one numpy pass.

:class:`UtilityBatch` holds the state of ``num_envs`` visits as arrays (``(num_envs,
n_items)`` exposure, ``(num_envs, n_categories)`` category exposure, satisfaction,
turn ...) and steps all of them in one vectorised computation. It performs the same
float operations in the same order as :meth:`UtilityBrain.react_one
<simrec.brains.utility.UtilityBrain.react_one>` followed by :meth:`Session.record
<simrec.session.Session.record>`, so a sub-session's reactions, replies and observations
are bit for bit those of a single env with the same generator: sums run left to right
over the slots (never numpy's pairwise ``sum``), item exposure decays through the same
lazy table, and the one exponential goes through ``numpy.exp``, whose result for an
element does not depend on its neighbours.

Everything the model derives from events (drifts, steering intents) is tabulated once
per persona and turn, and every phrase the templates can produce for the catalog and
persona pool is numbered (:class:`PhraseBook`), so replies are chosen as integer codes
in numpy; each distinct reply's text and encoding are built once and then looked up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simrec.brains.utility import UtilityBrain
from simrec.draw_streams import DrawStreams, uniforms
from simrec.replies import REPLY_DIM, reply_counts
from simrec.session import DRAW_BLOCK, EMPTY, MAX_NEED, BoundPersona, Session, SessionDynamics

_CLOCK_LIMIT = 2**30
"""Session clocks past this restart at 0 on the next visit (stamps are int32)."""

VISITS_PREDRAWN = 16
"""Visits' draws (persona pick, need and first block) a session's stream holds: fetched in
one ``random_raw`` call per session every so many visits, whose Python overhead would
otherwise rival the generating."""

VISIT_START_DRAWS = 2
"""Raw outputs a visit start reads besides its first block, at most (bar the rare
rejection in the persona pick): the persona pick and the need's uniform."""

REPLY_PARTS = 5
"""Reply slots: main reaction, repeated request, voiced events, taste remark, goodbye."""

OWNED_TABLE_MAX_BYTES = 1 << 26
"""Largest persona x item table of the items owned at a visit start (one byte per cell)
kept whole, so a visit start copies its persona's row (about a third of the time of
marking the items one by one); a larger pool (tens of thousands of grounded users) keeps
one flat list of items instead."""


class _KeyIndex:
    """Dense ids of non-negative int64 keys, looked up for a whole array at once.

    An open-addressing hash table (linear probing, Fibonacci hashing) held in two numpy
    arrays: a lookup is a few whole-array operations and, for nearly every key, one
    gather (a sorted-array search costs a gather per halving). Each round of probing
    costs several numpy calls however few keys still probe, so the table is kept at most
    a quarter full (at most half full, looking up a vector step's replies took about 15%
    longer). Empty slots hold key ``-1`` and id ``-1``, so a key not stored finds ``-1``.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads any keys
    _MIN_BITS = 12
    _SPREAD = 4  # slots per stored key, at least

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every key (and give back the table's memory)."""
        self._allocate(self._MIN_BITS)
        self._count = 0

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The id of each of ``keys`` (``-1`` where unknown)."""
        return self._ids.take(self._locate(keys))

    def add(self, keys: list[int], ids: list[int]) -> None:
        """Know ``keys`` (distinct, unknown) as ``ids``.

        A step adds a handful of keys: placed one by one in Python, they cost less than
        the rounds of numpy calls of :meth:`_place`, which places all stored keys at
        once when the table grows.
        """
        self._count += len(keys)
        if self._SPREAD * self._count > len(self._keys):
            stored = np.flatnonzero(self._keys >= 0)
            old_keys, old_ids = self._keys[stored], self._ids[stored]
            self._allocate(max(self._bits + 1, (self._SPREAD * self._count).bit_length()))
            self._place(old_keys, old_ids)
        table_keys, table_ids, mask = self._keys, self._ids, len(self._keys) - 1
        multiplier, shift = int(self._MULTIPLIER), 64 - self._bits
        for key, id_ in zip(keys, ids, strict=True):
            slot = (key * multiplier & 0xFFFFFFFFFFFFFFFF) >> shift  # as in :meth:`_locate`
            while table_keys[slot] >= 0:
                slot = (slot + 1) & mask
            table_keys[slot] = key
            table_ids[slot] = id_

    def _allocate(self, bits: int) -> None:
        self._bits = bits
        self._keys = np.full(1 << bits, -1, dtype=np.int64)
        self._ids = np.full(1 << bits, -1, dtype=np.int64)

    def _locate(self, keys: np.ndarray) -> np.ndarray:
        """Each key's slot: where it is stored, else the empty slot ending its probe run."""
        home = (keys.view(np.uint64) * self._MULTIPLIER) >> np.uint64(64 - self._bits)
        slots = home.view(np.int64)
        stored = self._keys.take(slots)
        probing = np.flatnonzero((stored != keys) & (stored >= 0))
        mask = len(self._keys) - 1
        while len(probing):
            moved = (slots[probing] + 1) & mask
            slots[probing] = moved
            stored = self._keys.take(moved)
            probing = probing[(stored != keys[probing]) & (stored >= 0)]
        return slots

    def _place(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Store ``keys`` (distinct, unknown; the table has room) at once: a rehash.

        Keys that land on the same empty slot race for it: the one whose write stands keeps
        it, the others probe on in the next round.
        """
        while len(keys):
            slots = self._locate(keys)
            self._keys[slots] = keys
            won = self._keys.take(slots) == keys
            self._ids[slots[won]] = ids[won]
            keys, ids = keys[~won], ids[~won]


class PhraseBook:
    """Numbered reply phrases, and a cache of the replies composed from them.

    A reply is a row of :data:`REPLY_PARTS` phrase codes (``-1`` = no phrase). Its text
    is the phrases joined by spaces; its :func:`~simrec.replies.encode_reply` vector is
    computed from the phrases' word counts (counts of space-joined texts add up). Both
    are built once per distinct reply and looked up afterwards.

    Most replies (nine in ten in a vector step) are one phrase or none: those are built
    when the book is frozen, reply ``code + 1`` for phrase ``code`` and reply 0 for the
    empty one, so a row's ``max`` code finds them. A reply composed of several phrases
    is looked up by one integer key per row, in numpy: the row's codes read as the
    digits of one number where that fits in 62 bits (up to about 5,000 phrases), else a
    62-bit hash of them (grounded catalogs name thousands of titles). A hash can
    collide, so a hit counts only if the codes stored with the reply are the row's; a
    reply whose key another reply holds is kept in a dict of code tuples, read only for
    rows whose key hit a different reply.
    """

    _MAX_REPLIES = 1 << 20
    """Composed replies cached at most (then forgotten): bounds the texts, vectors and
    index."""

    _KEY_MASK = (1 << 62) - 1
    """Keys keep 62 bits: non-negative, as :class:`_KeyIndex` stores them."""

    _HASH_MULTIPLIERS = (
        0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
        0xCA5A826395121157, 0xFF51AFD7ED558CCD,
    )  # fmt: skip
    """One odd 64-bit mixing constant per reply part (splitmix64's, MurmurHash3's and
    others'): the hash is the parts' weighted sum modulo 2**64. Not the golden ratio
    :class:`_KeyIndex` multiplies keys by: with it, sums over the main phrase fell on half
    as many slots of the index (longer probes)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._ids: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self.counts = np.zeros((1, REPLY_DIM))
        self._index = _KeyIndex()
        self._clashed: dict[tuple, int] = {}
        self._singles = 0  # replies of at most one phrase, numbered first
        self._n_replies = 0
        self.reply_texts = np.empty(0, dtype=object)
        self.reply_vectors = np.zeros((0, REPLY_DIM), dtype=np.float32)
        self._reply_parts = np.zeros((REPLY_PARTS, 0), dtype=np.int64)  # slot-major codes
        self._exact = True
        self._multipliers = np.zeros((REPLY_PARTS, 1), dtype=np.int64)

    def add(self, text: str) -> int:
        """The code of ``text`` (numbered on first sight)."""
        code = self._ids.get(text)
        if code is None:
            code = self._ids[text] = len(self.texts)
            self.texts.append(text)
            self._rows.append(reply_counts(text, REPLY_DIM))
        return code

    def freeze(self) -> None:
        """No more phrases: build the count table (last row: zeros, for code ``-1``) and
        the replies of at most one phrase."""
        self.counts = np.vstack([*self._rows, np.zeros(REPLY_DIM)])
        radix = len(self.texts) + 1
        self._exact = radix**REPLY_PARTS <= self._KEY_MASK
        if self._exact:
            multipliers = [radix**i for i in range(REPLY_PARTS)]
        else:  # as int64 bit patterns: numpy's int64 products and sums wrap modulo 2**64
            multipliers = [m - (1 << 64) for m in self._HASH_MULTIPLIERS]  # all >= 2**63
        self._multipliers = np.array(multipliers, dtype=np.int64)[:, None]
        self._singles = radix
        singles = np.full((radix, REPLY_PARTS), -1, dtype=np.int64)
        singles[1:, 0] = np.arange(len(self.texts))
        self._store(0, singles)
        self._n_replies = radix

    def replies(self, codes: np.ndarray) -> np.ndarray:
        """Indices into :attr:`reply_texts` / :attr:`reply_vectors` of each row of ``codes``."""
        parts = codes.T  # slot-major (contiguous as the kernel builds replies)
        top = np.maximum.reduce(parts, axis=0)
        ids = top + 1  # right for a reply of at most one phrase
        # With one phrase or none the other parts are -1 each, so the codes sum to
        # ``top - (REPLY_PARTS - 1)``; a second phrase (code >= 0) adds at least 1.
        composed = np.flatnonzero(np.add.reduce(parts, axis=0) > top - (REPLY_PARTS - 1))
        if len(composed):
            ids[composed] = self._composed(parts[:, composed].T)
        return ids

    def _composed(self, codes: np.ndarray) -> np.ndarray:
        """The reply of each row of ``codes`` (rows of two phrases or more), numbering new ones."""
        if self._n_replies + len(codes) > self._singles + self._MAX_REPLIES:  # at most the cap
            self._index.clear()
            self._clashed.clear()
            self._n_replies = self._singles
        keys = self._keys(codes)
        ids = self._index.find(keys)
        if self._exact:
            missing = np.flatnonzero(ids < 0)
            if len(missing):
                new, _ = self._number(keys[missing].tolist(), missing, ids, codes)
                self._index.add(list(new), list(new.values()))
            return ids
        free = ids < 0  # keys no reply holds
        self._check_hits(codes, ids)
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            new, firsts = self._number(
                list(map(tuple, codes[missing].tolist())), missing, ids, codes
            )
            self._file_hashed(new, keys[firsts].tolist(), free[firsts].tolist())
        return ids

    def _keys(self, codes: np.ndarray) -> np.ndarray:
        """Each row's key: its codes as digits (when :attr:`_exact`), else their hash."""
        # Part by part over the slot-major view (int matmul has no fast path: slower).
        keys = ((codes.T + 1) * self._multipliers).sum(axis=0)
        return keys if self._exact else keys & self._KEY_MASK

    def _check_hits(self, codes: np.ndarray, ids: np.ndarray) -> None:
        """Hashed keys: rows whose key hit another reply take their id from :attr:`_clashed`."""
        if self._n_replies == self._singles:
            return  # no composed reply stored, no hit
        # Compared slot-major (as the kernel builds ``codes``): a third of the time of the
        # row-major compare. An unknown key's id (-1) reads the last column: masked out.
        clash = (self._reply_parts.take(ids, axis=1) != codes.T).any(axis=0) & (ids >= 0)
        if clash.any():
            rows = np.flatnonzero(clash)
            get = self._clashed.get
            ids[rows] = [get(row, -1) for row in map(tuple, codes[rows].tolist())]

    def _file_hashed(self, new: dict[tuple, int], keys: list[int], free: list[bool]) -> None:
        """Make the new replies ``new`` (code tuple: reply, with their hashed ``keys`` and
        whether no reply held the key) findable: under their key in the index, or in
        :attr:`_clashed` where another reply holds it."""
        filed: dict[int, int] = {}  # key: reply, for the index
        for (row, reply), key, unheld in zip(new.items(), keys, free, strict=True):
            if unheld and key not in filed:
                filed[key] = reply
            else:
                self._clashed[row] = reply
        self._index.add(list(filed), list(filed.values()))

    def _number(
        self, keys: list, rows: np.ndarray, ids: np.ndarray, codes: np.ndarray
    ) -> tuple[dict, list[int]]:
        """Number and store the unknown replies ``keys`` of ``rows``, setting their ``ids``.

        Returns ``{key: id}`` of the new replies, numbered in order of first appearance,
        and the row of each one's first appearance. A step brings a few new replies,
        some repeated: a dict numbers them for less than ``np.unique`` costs at that size.
        """
        start = self._n_replies
        new: dict = {}
        firsts: list[int] = []  # the row of each new reply's first appearance
        numbered: list[int] = []
        for row, key in zip(rows.tolist(), keys, strict=True):
            reply = new.get(key)
            if reply is None:
                reply = new[key] = start + len(firsts)
                firsts.append(row)
            numbered.append(reply)
        ids[rows] = numbered
        self._n_replies += len(firsts)
        self._store(start, codes[firsts])
        return new, firsts

    def _store(self, start: int, codes: np.ndarray) -> None:
        """Text and encoding of new replies ``start, start + 1, ...`` of phrase codes ``codes``."""
        stop = start + len(codes)
        if stop > len(self.reply_texts):
            cap = self._singles + self._MAX_REPLIES
            grow = max(stop, min(max(4096, 2 * stop), cap))  # not past the cap
            texts = np.empty(grow, dtype=object)
            texts[: len(self.reply_texts)] = self.reply_texts
            vectors = np.zeros((grow, REPLY_DIM), dtype=np.float32)
            vectors[: len(self.reply_vectors)] = self.reply_vectors
            parts = np.zeros((REPLY_PARTS, grow), dtype=np.int64)
            parts[:, : self._reply_parts.shape[1]] = self._reply_parts
            self.reply_texts, self.reply_vectors, self._reply_parts = texts, vectors, parts
        self._reply_parts[:, start:stop] = codes.T
        phrases = self.texts
        for reply, row in enumerate(codes.tolist(), start):
            self.reply_texts[reply] = " ".join([phrases[c] for c in row if c >= 0])
        # Word counts are whole numbers: their sums and sums of squares are exact in any
        # order, and a non-zero norm is at least 1 (a zero row stays zero), so this rounds
        # exactly as ``encode_reply`` does.
        counts = self.counts.take(codes, axis=0).sum(axis=1)
        norm = np.sqrt((counts * counts).sum(axis=1, keepdims=True))
        self.reply_vectors[start:stop] = counts / np.maximum(norm, 1.0)


@dataclass
class BatchReaction:
    """Reactions of ``m`` sessions to their slates (arrays, first axis = session).

    Attributes:
        clicked, purchased, dismissed: ``(m, k)`` bool.
        left: ``(m,)`` bool.
        satisfaction: ``(m,)`` satisfaction after the turn.
        reply_codes: ``(m, REPLY_PARTS)`` phrase codes (see :class:`PhraseBook`).
        clicks, purchases, dismissals: ``(m,)`` true slots of ``clicked``, ``purchased``,
            ``dismissed`` (the kernel has them at hand; counting the masks again costs
            several numpy calls).
    """

    clicked: np.ndarray
    purchased: np.ndarray
    dismissed: np.ndarray
    left: np.ndarray
    satisfaction: np.ndarray
    reply_codes: np.ndarray
    clicks: np.ndarray
    purchases: np.ndarray
    dismissals: np.ndarray


def slot_count(mask: np.ndarray) -> np.ndarray:
    """True entries of each row of ``(m, k)`` ``mask``, as int64.

    Added slot by slot: numpy's ``sum(axis=1)`` over a few columns costs about ten
    times as much.
    """
    count = mask[:, 0].astype(np.int64)
    for pos in range(1, mask.shape[1]):
        count += mask[:, pos]
    return count


def _where_shown(shown: np.ndarray | None, values: np.ndarray, fill: float) -> np.ndarray:
    """``values`` in slots that show an item, ``fill`` in empty ones (``shown`` None: none)."""
    return values if shown is None else np.where(shown, values, fill)


def _template_index(u: np.ndarray, n_options: int) -> np.ndarray:
    """``ReplyTemplates.pick``'s choice: ``min(int(u * n), n - 1)``."""
    return np.minimum((u * n_options).astype(np.int64), n_options - 1)


class UtilityBatch:
    """``num_envs`` utility-brain sessions over one catalog and persona pool, as arrays.

    Args:
        brain: the utility brain whose parameters and templates apply.
        bounds: the persona pool, bound to the catalog (index = persona code).
        slate_size, history_window, max_turns: the env's settings.
        dynamics: how the session state moves.
        num_envs: number of sessions.

    Attributes:
        streams: each session's generator (assign one before :meth:`start`), drawn from in
            bulk.
    """

    def __init__(
        self,
        brain: UtilityBrain,
        bounds: Sequence[BoundPersona],
        slate_size: int,
        history_window: int,
        max_turns: int,
        dynamics: SessionDynamics,
        num_envs: int,
    ) -> None:
        catalog = bounds[0].catalog
        self.brain, self.params, self.dynamics = brain, brain.params, dynamics
        self.k, self.window, self.max_turns, self.num_envs = (
            slate_size,
            history_window,
            max_turns,
            num_envs,
        )
        self.width = slate_size + 5
        n = len(catalog)
        self.codes = catalog.category_codes.astype(np.int64)
        self.log1p_price = np.asarray(catalog.log1p_prices, dtype=np.float64)
        self.consumable = np.asarray(catalog.consumable, dtype=bool)
        self.any_consumable = bool(self.consumable.any())
        # Item x token flags plus a last all-false column: the "no taste word" token.
        tokens = np.asarray(catalog.token_matrix) > 0
        self.n_token_columns = tokens.shape[1] + 1
        self.item_tokens = np.concatenate([tokens, np.zeros((n, 1), dtype=bool)], axis=1)
        self.position = np.array(brain._position[:slate_size])
        self.decay_table = np.array(dynamics.item_decay_table)
        self.share = 1.0 / slate_size
        # Satisfaction lost to ``j`` dismissals (the single env's ``drop * j / k``).
        self.dismiss_drop = brain.params.dismiss_drop * np.arange(slate_size + 1) / slate_size
        self._slots = np.arange(slate_size)[:, None]
        self.phrases = PhraseBook()
        self._persona_tables(bounds)
        self._timeline_tables(bounds)
        self._catalog_phrases(catalog)
        self.phrases.freeze()
        self._line_counts = sorted({len(lines) for lines in brain.templates.lines.values()})
        self._allocate(num_envs, n, len(catalog.category_names))
        self.n_personas = len(bounds)
        self.block = DRAW_BLOCK * self.width
        self.streams = DrawStreams(num_envs, VISITS_PREDRAWN * (self.block + VISIT_START_DRAWS))
        self._pool_base = np.arange(num_envs) * self.streams.capacity  # each row's pool offset
        self._columns = np.arange(self.width)[:, None]

    # -- tables built once --------------------------------------------------------------
    def _persona_tables(self, bounds: Sequence[BoundPersona]) -> None:
        p, d = self.params, self.dynamics
        traits = [b.traits for b in bounds]
        self.boredom = np.array([t["boredom_rate"] for t in traits])
        self.chat_threshold = np.array([p.chat_rate * t["chattiness"] for t in traits])
        fatigue_step = np.array([d.fatigue_step(t["patience"]) for t in traits])
        self._fatigue_tables(fatigue_step)
        self.log1p_wtp = np.array([math.log1p(b.willingness_to_pay) for b in bounds])
        # Rows of :attr:`visit_traits`, copied per session at each visit start.
        dismiss_boredom = p.dismiss_repeat_weight * self.boredom
        self.trait_table = np.stack(
            [self.boredom, dismiss_boredom, self.log1p_wtp, self.chat_threshold]
        )
        # Each persona's need distribution, padded past its end with 2.0 (above any draw).
        self.need_cdf = np.full((len(bounds), MAX_NEED), 2.0)
        for pi, bound in enumerate(bounds):
            self.need_cdf[pi, : len(bound.need_cdf)] = bound.need_cdf
        # Items owned at a visit start (pre-visit history): a row per persona, or (a large
        # pool) one list with each persona's slice starting at ``owned_start_ptr[persona]``.
        owned = [sorted(b.owned_at_start) for b in bounds]
        self.owned_start_ptr = np.cumsum([0] + [len(o) for o in owned]).astype(np.int64)
        self.owned_start_items = np.array([i for o in owned for i in o], dtype=np.int64)
        self.owned_at_start: np.ndarray | None = None
        n_items = len(bounds[0].catalog)
        if len(bounds) * n_items <= OWNED_TABLE_MAX_BYTES:
            self.owned_at_start = np.zeros((len(bounds), n_items), dtype=bool)
            rows = np.repeat(np.arange(len(bounds)), np.diff(self.owned_start_ptr))
            self.owned_at_start[rows, self.owned_start_items] = True
        self.disliked = np.stack([b.dislike > 0 for b in bounds])
        templates, brain = self.brain.templates, self.brain
        self.dislike_codes = np.full(
            (len(templates.lines["dislike"]),) + self.disliked.shape, -1, dtype=np.int64
        )
        for pi, bound in enumerate(bounds):
            probe = Session(bound, self.k, self.window, self.dynamics)
            for item in np.flatnonzero(self.disliked[pi]).tolist():
                value = brain._disliked_value(probe, item)
                for t, line in enumerate(templates.lines["dislike"]):
                    self.dislike_codes[t, pi, item] = self.phrases.add(line.format(value=value))

    def _fatigue_tables(self, fatigue_step: np.ndarray) -> None:
        """Per persona and turn: fatigue and the two terms it enters (read by flat index).

        A visit's fatigue is its persona's step added once per turn from 0.0, so it is a
        function of (persona, turn): tabulating it by the same additions saves the
        per-step update and two products.
        """
        p = self.params
        fatigue = np.zeros((len(fatigue_step), self.max_turns + 1))  # like state_of
        for turn in range(1, self.max_turns + 1):
            fatigue[:, turn] = fatigue[:, turn - 1] + fatigue_step
        self.fatigue_at = fatigue
        self.outside_at = p.outside_utility + p.fatigue_weight * fatigue
        self.leave_fatigue_at = p.fatigue_leave_weight * fatigue

    def _timeline_tables(self, bounds: Sequence[BoundPersona]) -> None:
        """Per persona and turn: the event state (static scores, request, taste words)."""
        templates, phrases = self.brain.templates, self.phrases
        turns = self.max_turns + 1
        n_taste = len(templates.lines["taste"])
        self.state_of = np.zeros((len(bounds), turns), dtype=np.int64)
        self.voiced = np.full((len(bounds), turns), -1, dtype=np.int64)
        self.taste_codes = np.full((len(bounds), turns, n_taste, 3), -1, dtype=np.int64)
        self.n_words = np.zeros((len(bounds), turns), dtype=np.int64)
        # The token column of each taste word (the all-false column where there is none).
        self.taste_token = np.full((len(bounds), turns, 3), self.n_token_columns - 1)
        keys: dict[tuple, int] = {}
        utility, buy, dismiss, masks, constrained, ignored = [], [], [], [], [], []
        for pi, bound in enumerate(bounds):
            session = Session(bound, self.k, self.window, self.dynamics)
            for turn in range(turns):
                session.skip_to(turn)
                said = bound.voiced_at(turn)
                if said:
                    self.voiced[pi, turn] = phrases.add(" ".join(said))
                words = session.taste_words
                self.n_words[pi, turn] = len(words)
                self.taste_token[pi, turn, : len(words)] = session.taste_tokens
                for t, line in enumerate(templates.lines["taste"]):
                    for w, word in enumerate(words):
                        self.taste_codes[pi, turn, t, w] = phrases.add(line.format(value=word))
                key = session.state_key
                if key not in keys:
                    keys[key] = len(utility)
                    static = self.brain.static_scores(session)
                    utility.append(static.utility)
                    buy.append(static.purchase_logit)
                    dismiss.append(static.dismiss_logit)
                    masks.append(np.asarray(session.constraint_mask, dtype=bool))
                    constrained.append(session.constraint_on)
                    asked = session.active_intent is not None
                    says = UtilityBrain._request(session) if asked else ""
                    ignored.append(
                        [
                            phrases.add(line.format(says=says)) if asked else -1
                            for line in templates.lines["ignored"]
                        ]
                    )
                self.state_of[pi, turn] = keys[key]
        self.utility = np.array(utility, dtype=np.float64)
        self.buy_logit = np.array(buy, dtype=np.float64)
        self.dismiss_logit = np.array(dismiss, dtype=np.float64)
        self.complies = np.stack(masks)
        self.constrained = np.array(constrained, dtype=bool)
        self.ignored_codes = np.array(ignored, dtype=np.int64)
        # What a reply at (persona, turn) voices: the next turn's events (the last turn's own
        # at the end), one gather per step instead of three operations.
        self.voiced_next = np.concatenate([self.voiced[:, 1:], self.voiced[:, -1:]], axis=1)
        # Each persona's opening reply codes (its first events voiced), gathered per start.
        self.opening_codes = np.full((len(bounds), REPLY_PARTS), -1, dtype=np.int64)
        self.opening_codes[:, 0] = self.voiced[:, 0]

    def _catalog_phrases(self, catalog) -> None:
        templates, add = self.brain.templates, self.phrases.add
        verb = templates.verb(catalog.domain)
        titles = [str(t) for t in catalog.titles]
        self.purchase_codes = np.array(
            [
                [add(line.format(title=title, verb=verb)) for title in titles]
                for line in templates.lines["purchase"]
            ],
            dtype=np.int64,
        )
        self.click_codes = np.array(
            [
                [add(line.format(title=title)) for title in titles]
                for line in templates.lines["click"]
            ],
            dtype=np.int64,
        )
        self.plain_codes = {
            kind: np.array([add(line) for line in templates.lines[kind]], dtype=np.int64)
            for kind in ("seen", "samey", "pricey", "nothing", "leaving", "done")
        }

    def _allocate(self, num_envs: int, n_items: int, n_categories: int) -> None:
        k = self.k
        self.persona = np.zeros(num_envs, dtype=np.int64)
        self.turn = np.zeros(num_envs, dtype=np.int64)
        self.satisfaction = np.zeros(num_envs)
        self.exposure = np.zeros((num_envs, n_items))
        # Each session's persona traits (boredom, its weight in dismissals, price
        # aversion, chat threshold): set once per visit, read every step without a gather.
        self.visit_traits = np.zeros((4, num_envs))
        # The visit's need (items the user came to buy) and the items bought so far.
        self.need = np.zeros(num_envs, dtype=np.int64)
        self.need_to_leave = np.zeros(num_envs, dtype=np.int64)  # at least 1 (Session's)
        self.purchases = np.zeros(num_envs, dtype=np.int64)
        # Flat offsets of each session's row in the (session, item) and (session,
        # category) arrays: made once, not per step.
        self._item_base = np.arange(num_envs) * n_items
        self._category_base = np.arange(num_envs) * n_categories
        self._slate_sizes = np.full(num_envs, k)  # items shown when no slot is empty
        # A session's clock (visit_start + turn) runs on across visits, so a new visit
        # need not clear exposure: items stamped at or before its start (age >= turn)
        # were shown in earlier visits and read as unseen.
        self.visit_start = np.zeros(num_envs, dtype=np.int64)
        self.exposed_at = np.zeros((num_envs, n_items), dtype=np.int32)
        self.owned = np.zeros((num_envs, n_items), dtype=bool)
        self._exposure_flat = self.exposure.reshape(-1)  # views, written at flat indices
        self._exposed_at_flat = self.exposed_at.reshape(-1)
        self._owned_flat = self.owned.reshape(-1)
        self.category_exposure = np.zeros((num_envs, n_categories))
        # Flat pool indices of each session's next step of draws and of its block's end.
        self.next_draw = np.zeros(num_envs, dtype=np.int64)
        self.block_end = np.zeros(num_envs, dtype=np.int64)
        # History is newest first and session-minor (the last axis), so a turn shifts it
        # with one contiguous copy; :meth:`observed_history` gives the observation layout.
        # Feedback is kept as bool: the masks are written without conversion, and the
        # observation's transposed copy moves bytes (then one contiguous conversion to
        # float32), about half the time of transposing float32.
        self.history_items = np.full((self.window * k, num_envs), EMPTY, dtype=np.int64)
        self.history_feedback = np.zeros((self.window, k, 3, num_envs), dtype=bool)

    def state_nbytes(self) -> int:
        """Bytes of per-session state arrays (all sessions; shared tables excluded)."""
        arrays = (
            self.persona, self.turn, self.satisfaction, self.exposure,
            self.visit_traits, self.need, self.need_to_leave, self.purchases,
            self.visit_start, self.exposed_at, self.owned, self.category_exposure, self.next_draw,
            self.block_end, self.history_items, self.history_feedback,
        )  # fmt: skip
        return sum(a.nbytes for a in arrays) + self.streams.nbytes()

    # -- episodes -------------------------------------------------------------------------
    def start(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Begin new visits in ``rows``; returns their persona codes and opening reply codes.

        Each visit draws its persona from its generator, then its first block of uniforms
        (what ``RecSessionEnv.reset`` and the first ``Session.uniforms`` draw).
        """
        personas = self.streams.integers(rows, self.n_personas)
        raw = self.streams.pool.reshape(-1).take(
            self._pool_base[rows] + self.streams.claim(rows, 1)
        )
        # The need: entries of the persona's distribution at most its draw (``bisect_right``).
        at_most = self.need_cdf.take(personas, axis=0) <= uniforms(raw)[:, None]
        self.need[rows] = at_most.sum(axis=1)
        self.need_to_leave[rows] = np.maximum(self.need[rows], 1)
        self.purchases[rows] = 0
        self._claim_blocks(rows)
        self.persona[rows] = personas
        self.visit_traits[:, rows] = self.trait_table[:, personas]
        clock = self.visit_start[rows] + self.turn[rows]
        if clock.max(initial=0) > _CLOCK_LIMIT:  # rare: one check, not a masked reset each start
            over = clock > _CLOCK_LIMIT
            self.exposed_at[rows[over]] = 0  # keep stamps within int32
            clock[over] = 0
        self.visit_start[rows] = clock
        if self.owned_at_start is not None:
            self.owned[rows] = self.owned_at_start.take(personas, axis=0)
        else:
            self.owned[rows] = False
            self._own_history(rows, personas)
        self.turn[rows] = 0
        self.satisfaction[rows] = self.dynamics.initial_satisfaction
        self.category_exposure[rows] = 0.0
        self.history_items[:, rows] = EMPTY
        self.history_feedback.reshape(-1, self.num_envs)[:, rows] = False  # 2-d: faster
        return personas, self.opening_codes.take(personas, axis=0)

    def _own_history(self, rows: np.ndarray, personas: np.ndarray) -> None:
        """Mark each visit's pre-visit history owned (``Session``'s ``owned_at_start``)."""
        ptr = self.owned_start_ptr
        first, counts = ptr.take(personas), ptr.take(personas + 1) - ptr.take(personas)
        total = int(counts.sum())
        if not total:
            return
        # Position j of the concatenated slices: its slice's first entry plus its offset.
        ends = np.cumsum(counts)
        offset = np.arange(total) - np.repeat(ends - counts, counts)
        items = self.owned_start_items.take(np.repeat(first, counts) + offset)
        self._owned_flat[np.repeat(self._item_base[rows], counts) + items] = True

    def _claim_blocks(self, rows: np.ndarray) -> None:
        """Start the next block of draws of each of ``rows`` (as ``Session.uniforms`` does)."""
        first = self._pool_base[rows] + self.streams.claim(rows, self.block)
        self.next_draw[rows] = first
        self.block_end[rows] = first + self.block

    def _uniforms(self, rows: np.ndarray, sel, active):
        """This step's ``(width, m)`` uniforms of ``rows`` and the logits of rows 1 to k + 2.

        As ``Session.uniforms``; only the draws compared as logits (purchase, dismissals,
        leaving) are converted. Rows outside ``active`` draw nothing from their streams
        (they get stale values). Logits are taken of the step's row only: ``log`` is
        elementwise, so each value is the one ``Session.uniforms`` computes over its whole
        block.
        """
        first = self.next_draw[sel]
        empty = first >= self.block_end[sel]
        if active is None:
            refill = rows[empty]
        else:
            refill = rows[empty & active]
            # Inactive rows start visits next (a persona pick and a block): one top-up
            # serves them and the refills.
            self.streams.reserve(rows[empty | ~active], self.block + VISIT_START_DRAWS)
        if len(refill):
            self._claim_blocks(refill)
            first = self.next_draw[sel]
        at = first + self._columns  # before the cursors move (``first`` may be a view)
        self.next_draw[sel] = first + self.width
        draws = uniforms(self.streams.pool.take(at))
        compared = draws[1 : 3 + self.k]
        odds = compared / (1.0 - compared)
        if odds.all():  # no draw of 0.0: no log(0) warning to silence (errstate is slower)
            return draws, np.log(odds)
        with np.errstate(divide="ignore"):
            return draws, np.log(odds)

    # -- one step -------------------------------------------------------------------------
    def step(
        self,
        rows: np.ndarray,
        slates: np.ndarray,
        active: np.ndarray | None = None,
    ) -> BatchReaction:
        """React to ``slates`` (``(m, k)``, ``-1`` = empty slot) in ``rows`` and move on.

        Draws come from :attr:`streams` (each row's generator, assigned by the caller).
        With ``active`` (a mask over ``rows``), inactive rows are computed but draw nothing
        from their generators: their results are meaningless and their state must be
        restarted (:meth:`start`) before it is read. Stepping every row this way lets the
        vector env use whole-array operations while some sub-envs reset.
        """
        p, k, n = self.params, self.k, self.exposure.shape[1]
        sel = slice(None) if len(rows) == self.num_envs else rows
        # Slot-major ``(k, m)`` arrays: per-session values broadcast along the long axis.
        draws, logits = self._uniforms(rows, sel, active)
        persona, turn = self.persona[sel], self.turn[sel]
        moment = persona * (self.max_turns + 1) + turn  # flat (persona, turn) index
        state = self.state_of.take(moment)
        slots = np.ascontiguousarray(slates.T)
        # ``shown`` masks empty slots (``None``: no slot is empty, the usual case, so
        # every mask below is skipped).
        empty = slots == EMPTY
        shown = ~empty if empty.any() else None
        items = slots if shown is None else np.where(shown, slots, 0)
        at = self._item_base[sel] + items  # flat (session, item) index
        st = state * n + items  # flat (event state, item) index

        clock = (self.visit_start[sel] + turn).astype(np.int32)
        age = clock - self.exposed_at.take(at)
        horizon = len(self.decay_table)
        decayed = self.exposure.take(at) * self.decay_table.take(np.minimum(age, horizon - 1))
        recent = np.minimum(turn, horizon).astype(np.int32)  # this visit, in the table
        this_visit = age < recent if shown is None else shown & (age < recent)
        seen = np.where(this_visit, decayed, 0.0)
        boredom, dismiss_boredom, log1p_wtp, chat_threshold = self.visit_traits[:, sel]
        cat_at = self._category_base[sel] + self.codes.take(items)
        cat_seen = self.category_exposure.take(cat_at)
        worn = boredom * (p.repeat_weight * seen + p.category_weight * cat_seen)
        u = self.utility.take(st) - worn
        u = np.where(self.owned.take(at), u - p.owned_penalty, u)
        outside = self.outside_at.take(moment)
        args = _where_shown(shown, u - self.position[:, None] - outside, -np.inf)
        ex = np.exp(args)

        m = len(rows)
        total = 1.0 + ex[0]
        for pos in range(1, k):
            total = total + ex[pos]
        # The click: the first slot whose running share passes the draw. An empty slot
        # adds exp(-inf) = 0 to the running sum, so it passes only where the slot before
        # it already did: it is never the first.
        running, hits = ex[0], []  # = 0.0 + ex[0]
        for pos in range(k):
            if pos:
                running = running + ex[pos]
            hits.append(draws[0] < running / total)
        choice = np.where(hits[k - 1], k - 1, -1)
        for pos in range(k - 2, -1, -1):
            choice = np.where(hits[pos], pos, choice)
        chose = choice >= 0
        clicked = self._slots == choice
        chosen_item = (items * clicked).sum(axis=0)  # 0 where nothing was clicked
        # A purchase: never of an owned item, rarely once the need is met.
        purchases = self.purchases[sel]
        limit = self.buy_logit.take(state * n + chosen_item)
        limit = np.where(purchases >= self.need[sel], limit - p.need_met_purchase_penalty, limit)
        chosen_at = self._item_base[sel] + chosen_item
        bought = chose & (logits[0] < limit) & ~self._owned_flat.take(chosen_at)
        purchased = clicked & bought
        purchases = purchases + bought
        met = purchases >= self.need_to_leave[sel]
        dismissed = logits[1 : 1 + k] < self.dismiss_logit.take(st) + dismiss_boredom * seen
        dismissed &= ~clicked if shown is None else shown & ~clicked
        n_dismissed = slot_count(dismissed.T)

        constrained = self.constrained.take(state)
        complies = self.complies.take(st)
        # ``safe_n``: items shown, at least 1 (a divisor for averages over the slate).
        if shown is None:
            safe_n = self._slate_sizes[:m]
            compliance = np.where(constrained, slot_count(complies.T) / k, 1.0)
        else:
            n_shown = slot_count(shown.T)
            complying = slot_count((complies & shown).T)
            safe_n = np.maximum(n_shown, 1)
            compliance = np.where(constrained & (n_shown > 0), complying / safe_n, 1.0)
        s = self.satisfaction[sel]
        s = (
            s
            + p.satisfaction_rate * ((total - 1.0) / total - s)
            + np.where(chose, p.click_lift, 0.0)
            + np.where(bought, p.purchase_lift, 0.0)
            - self.dismiss_drop.take(n_dismissed)
            + np.where(constrained, p.compliance_weight * (compliance - 0.5), 0.0)
        )
        s = np.minimum(np.maximum(s, 0.0), 1.0)
        leave = (
            p.leave_base
            + p.leave_slope * (p.leave_threshold - s)
            + self.leave_fatigue_at.take(moment)
        )
        left = logits[1 + k] < np.where(met, np.maximum(leave, p.need_met_leave_logit), leave)
        codes = self._reply_codes(
            persona, moment, state, items, shown, safe_n, seen, worn, chose, bought, chosen_item,
            dismissed, constrained, compliance, left, met, draws, log1p_wtp, chat_threshold,
        )  # fmt: skip
        self._record(sel, slots, at, cat_at, shown, seen, clicked, purchased, dismissed)
        keep = bought & ~self.consumable.take(chosen_item) if self.any_consumable else bought
        self._owned_flat.put(chosen_at[keep], True)
        self.purchases[sel] = purchases
        self.satisfaction[sel] = s
        return BatchReaction(
            clicked.T, purchased.T, dismissed.T, left, s, codes, chose, bought, n_dismissed
        )

    def _record(
        self,
        sel: slice | np.ndarray,
        slots: np.ndarray,
        at: np.ndarray,
        cat_at: np.ndarray,
        shown: np.ndarray | None,
        seen: np.ndarray,
        clicked: np.ndarray,
        purchased: np.ndarray,
        dismissed: np.ndarray,
    ) -> None:
        """``Session.record`` for every row: exposure, categories, turn, history (fatigue follows the turn).

        Slot arrays are slot-major ``(k, m)``; ``shown`` is ``None`` when no slot is empty.
        """
        d = self.dynamics
        all_rows = isinstance(sel, slice)
        cats = self.category_exposure
        if all_rows:
            cats *= d.category_decay
        else:
            cats[sel] = cats[sel] * d.category_decay
        turn_after = self.turn[sel] + 1
        stamp = self.visit_start[sel] + turn_after
        # Items in a slate are distinct, so exposure writes never collide.
        exposure = seen + np.where(clicked, 1.0 + d.click_exposure, 1.0)
        if shown is None:
            self._exposure_flat[at] = exposure
            self._exposed_at_flat[at] = stamp  # broadcast over the slots
        else:
            where = at[shown]
            self._exposure_flat[where] = exposure[shown]
            self._exposed_at_flat[where] = np.broadcast_to(stamp, at.shape)[shown]
        # Categories repeat within a slate: ``add.at`` adds repeated cells one index after
        # another, and the slot-major order puts a session's slots in slot order.
        shares = self.share if shown is None else np.where(shown, self.share, 0.0).reshape(-1)
        np.add.at(cats.reshape(-1), cat_at.reshape(-1), shares)
        self.turn[sel] = turn_after
        k = self.k
        history, feedback = self.history_items, self.history_feedback
        if all_rows:  # shifted in place (numpy copies an overlapping source first)
            history[k:] = history[:-k]
            history[:k] = slots
            feedback[1:] = feedback[:-1]
            feedback[0, :, 0], feedback[0, :, 1], feedback[0, :, 2] = clicked, purchased, dismissed
        else:
            history[:, sel] = np.concatenate([slots, history[:-k, sel]])
            newest = np.stack([clicked, purchased, dismissed], axis=1)
            feedback[..., sel] = np.concatenate([newest[None], feedback[:-1, ..., sel]])

    def fatigue(self) -> np.ndarray:
        """Each session's fatigue now (a new array)."""
        return self.fatigue_at.take(self.persona * (self.max_turns + 1) + self.turn)

    def observed_history(self) -> tuple[np.ndarray, np.ndarray]:
        """New ``(num_envs, window * k)`` item indices + 1 and ``(num_envs, window, k, 3)``
        feedback, newest first: the single env's ``history_items`` and ``history_feedback``."""
        items = np.add(self.history_items.T, 1, order="C")
        feedback = np.ascontiguousarray(self.history_feedback.transpose(3, 0, 1, 2))
        return items, feedback.astype(np.float32)

    def _reply_codes(
        self,
        persona: np.ndarray,
        moment: np.ndarray,
        state: np.ndarray,
        items: np.ndarray,
        shown: np.ndarray | None,
        safe_n: np.ndarray,
        seen: np.ndarray,
        worn: np.ndarray,
        chose: np.ndarray,
        bought: np.ndarray,
        chosen_item: np.ndarray,
        dismissed: np.ndarray,
        constrained: np.ndarray,
        compliance: np.ndarray,
        left: np.ndarray,
        met: np.ndarray,
        draws: np.ndarray,
        log1p_wtp: np.ndarray,
        chat_threshold: np.ndarray,
    ) -> np.ndarray:
        """The phrase codes of each reply: ``UtilityBrain._reply``'s choices, as arrays.

        Slot arrays are slot-major ``(k, m)``, ``draws`` is ``(width, m)``, ``moment`` is
        the flat (persona, turn) index; returns ``(m, REPLY_PARTS)``. Tables are read with
        ``take`` at flat indices (several times cheaper than multi-array indexing), and
        each part is written into its row in place: at ~1,000 sessions a step's cost is
        the number of numpy calls, so every call saved counts.
        """
        k, m, n_items = self.k, len(persona), self.disliked.shape[1]
        u_pick, u_chat = draws[3 + k], draws[4 + k]
        # Template line indices of both draws at once: ``(2, m)`` per line count.
        by_count = {n: _template_index(draws[3 + k : 5 + k], n) for n in self._line_counts}
        lines = self.brain.templates.lines

        def pick(kind: str) -> np.ndarray:
            return by_count[len(lines[kind])]

        codes = np.full((REPLY_PARTS, m), -1, dtype=np.int64)
        requests = self.ignored_codes  # by u_pick as the reply, by u_chat after a click
        asked = requests.take(state * requests.shape[1] + pick("ignored"))
        ignored = constrained & (compliance < 0.5)

        # Why nothing was clicked: a disliked thing, boredom, price, or nothing (an empty
        # slate has no dismissals, boredom or price, so it gets "nothing" by these rules).
        # Empty slots count as repeated and over budget: "every shown item" ignores them.
        main = codes[0]
        main[:] = self.plain_codes["nothing"].take(pick("nothing")[0])
        excess = np.maximum(self.log1p_price.take(items) - log1p_wtp, 0.0)
        over = excess > 0.0
        repeated = seen > 0.0
        shown_worn = _where_shown(shown, worn, 0.0)
        shown_excess = _where_shown(shown, excess, 0.0)
        if shown is not None:
            over |= ~shown
            repeated |= ~shown
        bored, pricey = shown_worn[0], shown_excess[0]  # zero signs never change a comparison
        all_over, all_repeated = over[0], repeated[0]
        for pos in range(1, k):
            bored = bored + shown_worn[pos]
            pricey = pricey + shown_excess[pos]
            all_over = all_over & over[pos]
            all_repeated = all_repeated & repeated[pos]
        bored = bored / safe_n
        pricey = self.params.price_weight * pricey / safe_n
        is_pricey = (pricey > 0.5) & all_over
        np.copyto(main, self.plain_codes["pricey"].take(pick("pricey")[0]), where=is_pricey)
        is_bored = (bored > 0.6) & (bored >= pricey)
        seen_code = self.plain_codes["seen"].take(pick("seen")[0])
        samey_code = self.plain_codes["samey"].take(pick("samey")[0])
        np.copyto(main, np.where(all_repeated, seen_code, samey_code), where=is_bored)
        # The dislike line of each slot's item (-1: not disliked); the first dismissed wins.
        liking_at = persona * n_items + items
        named = self.dislike_codes.take(pick("dislike")[0] * self.disliked.size + liking_at)
        hated = dismissed & (named >= 0)
        for pos in range(k - 1, -1, -1):
            np.copyto(main, named[pos], where=hated[pos])

        np.copyto(main, asked[0], where=ignored)
        click = self.click_codes.take(pick("click")[0] * n_items + chosen_item)
        np.copyto(main, click, where=chose)
        buy = self.purchase_codes.take(pick("purchase")[0] * n_items + chosen_item)
        np.copyto(main, buy, where=bought)
        np.copyto(codes[1], asked[1], where=ignored & chose)
        codes[2] = self.voiced_next.take(moment)
        # No taste words: the taste table holds -1. No remark about a taste the user
        # dismissed an item of in this turn.
        n_words = self.n_words.take(moment)
        word = np.minimum((u_pick * n_words).astype(np.int64), 2)
        taste_t = _template_index(u_chat / self.params.chat_rate, len(lines["taste"]))
        taste = self.taste_codes
        taste_at = (moment * taste.shape[2] + taste_t) * taste.shape[3] + word
        token = self.taste_token.take(moment * 3 + word)
        has = self.item_tokens.take(items * self.n_token_columns + token) & dismissed
        contradicted = has[0]
        for pos in range(1, k):
            contradicted = contradicted | has[pos]
        np.copyto(codes[3], taste.take(taste_at), where=(u_chat < chat_threshold) & ~contradicted)
        leaving = self.plain_codes["leaving"].take(pick("leaving")[1])
        done = self.plain_codes["done"].take(pick("done")[1])
        np.copyto(codes[4], np.where(met, done, leaving), where=left)
        return codes.T  # built part by part in contiguous rows
