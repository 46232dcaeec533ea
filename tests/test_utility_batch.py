"""UtilityBatch internals: the phrase book (replies numbered and looked up in bulk), row subsets."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import simrec  # noqa: F401  (registers the envs)
from simrec.brains.utility_batch import REPLY_PARTS, PhraseBook
from simrec.replies import encode_reply


def phrase_book(n_phrases: int, key_mask: int | None = None) -> PhraseBook:
    book = PhraseBook()
    for i in range(n_phrases):
        book.add(f"phrase {i} says {'word ' * (i % 4)}".strip())
    if key_mask is not None:
        book._KEY_MASK = key_mask  # hashed keys of so few bits that they collide often
    book.freeze()
    return book


# Up to about 5,000 phrases a row's codes are the digits of its key; past that (grounded
# catalogs name thousands of titles) keys are hashed and hits checked; a 10-bit hash
# collides all the time, so the replies kept aside from the index are exercised too.
BOOKS = {"digits": (60, None), "hashed": (6000, None), "colliding": (6000, (1 << 10) - 1)}


def random_codes(rng: np.random.Generator, rows: int, n_phrases: int) -> np.ndarray:
    """Reply rows as the kernel makes them: a main phrase (sometimes none), the other
    parts often empty."""
    codes = rng.integers(-1, n_phrases, size=(rows, REPLY_PARTS))
    empty = rng.random((rows, REPLY_PARTS)) < [0.1] + [0.5] * (REPLY_PARTS - 1)
    return np.where(empty, -1, codes)


@pytest.mark.parametrize("kind", list(BOOKS))
def test_replies_are_numbered_once_and_carry_their_text_and_encoding(kind):
    n_phrases, key_mask = BOOKS[kind]
    book = phrase_book(n_phrases, key_mask)
    assert book._exact == (kind == "digits")
    rng = np.random.default_rng(0)
    seen: dict[tuple, int] = {}
    for _ in range(30):  # enough distinct replies to grow the index several times
        codes = random_codes(rng, 400, n_phrases)
        codes[300:] = codes[:100]  # repeats within a call
        ids = book.replies(codes)
        for row, reply in zip(codes.tolist(), ids.tolist(), strict=True):
            assert seen.setdefault(tuple(row), reply) == reply
    # Distinct rows have distinct numbers, except that a phrase alone is one reply
    # whichever part holds it.
    texts = {row: " ".join(book.texts[c] for c in row if c >= 0) for row in seen}
    replies = {row if sum(c >= 0 for c in row) > 1 else max(row) for row in seen}
    assert len(set(seen.values())) == len(replies) > 4096
    if kind == "colliding":
        assert len(book._clashed) > len(seen) // 2  # most replies' keys were taken
    singles = [row for row in seen if sum(c >= 0 for c in row) <= 1]
    assert len(singles) > 50 and any(row[0] < 0 for row in singles)
    for row in list(seen)[:: len(seen) // 200] + singles:
        reply, text = seen[row], texts[row]
        assert book.reply_texts[reply] == text
        expected = np.asarray(encode_reply(text), dtype=np.float32)
        np.testing.assert_array_equal(book.reply_vectors[reply], expected)


@pytest.mark.parametrize("kind", list(BOOKS))
def test_a_full_reply_cache_is_forgotten_and_refilled(kind):
    n_phrases, key_mask = BOOKS[kind]
    book = phrase_book(n_phrases, key_mask)
    book._MAX_REPLIES = 1000
    rng = np.random.default_rng(1)
    for _ in range(20):  # the cache fills and is cleared several times
        codes = random_codes(rng, 300, n_phrases)
        ids = book.replies(codes)
        assert book._n_replies - book._singles <= book._MAX_REPLIES  # composed ones
        for row, reply in zip(codes.tolist(), ids.tolist(), strict=True):
            assert book.reply_texts[reply] == " ".join(book.texts[c] for c in row if c >= 0)


def test_stepping_rows_in_parts_records_what_stepping_them_together_does():
    """Data generation steps subsets of rows; the state it leaves must not depend on that."""
    together, parts = (gym.make_vec("simrec/Golf-v0", num_envs=6) for _ in range(2))
    together.reset(seed=5)
    parts.reset(seed=5)
    a, b = together.unwrapped.batch, parts.unwrapped.batch
    rng = np.random.default_rng(0)
    rows = np.arange(6)
    for _ in range(4):  # more turns than the history window, so old entries shift out
        slates = np.stack([rng.permutation(200)[:5] for _ in rows])
        whole = a.step(rows, slates)
        first, second = b.step(rows[:2], slates[:2]), b.step(rows[2:], slates[2:])
        np.testing.assert_array_equal(
            whole.clicked, np.concatenate([first.clicked, second.clicked])
        )
    for name in ("turn", "satisfaction", "exposure", "exposed_at", "owned"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.fatigue(), b.fatigue())
    for x, y in zip(a.observed_history(), b.observed_history(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_draw_of_zero_is_a_sure_event_and_raises_no_numpy_warning():
    vec = gym.make_vec("simrec/Golf-v0", num_envs=2, slate_size=2)
    vec.reset(seed=0)
    batch = vec.unwrapped.batch
    first = batch.next_draw[0]  # session 0's next step of draws: make every one 0.0
    batch.streams.pool.reshape(-1)[first : first + batch.width] = 0
    # Two items session 0's user could buy (not disliked: a purchase never is).
    state = batch.state_of[batch.persona[0], 0]
    buyable = np.flatnonzero(np.isfinite(batch.buy_logit[state]))[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) must not warn
        _, _, terminated, _, info = vec.step(np.array([buyable, [2, 3]]))
    # A draw of 0 passes every test: it clicks the first slot, buys it, dismisses the
    # other and leaves.
    assert info["clicked"][0].tolist() == [True, False]
    assert info["purchased"][0].tolist() == [True, False]
    assert info["dismissed"][0].tolist() == [False, True]
    assert terminated[0]
