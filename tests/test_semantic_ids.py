"""Semantic-id hierarchies and slate resolution: what names an item, what is a hallucination."""

from __future__ import annotations

import numpy as np
import pytest

from simrec.catalog_gen import cached_catalog
from simrec.errors import ActionError
from simrec.semantic_ids import END, ResolvedSlate, SemanticIdHierarchy, SlateResolver

MIXED = ["a/b", "a/b/c", "a/d/e", "x", "a//b", "y/z/w/v"]
"""Ids of four depths: ``a/b`` is an item and a prefix of ``a/b/c``; ``a//b`` has an empty token."""


@pytest.mark.parametrize("domain", ["golf", "books", "retail"])
def test_every_shipped_id_round_trips_through_its_token_codes(domain):
    catalog = cached_catalog(domain, 200, 0)
    tree = SemanticIdHierarchy(catalog.semantic_ids)
    everything = np.arange(len(catalog))
    assert (tree.lookup(catalog.semantic_ids) == everything).all()
    assert (tree.decode_codes(tree.codes) == everything).all()
    assert [tree.spell(row) for row in tree.codes] == list(catalog.semantic_ids)
    assert (tree.item[tree.leaf] == everything).all()
    assert sorted(tree.item[tree.item >= 0]) == everything.tolist()
    # every node but the root hangs under its parent, children contiguous by token code
    for node in range(tree.n_nodes):
        kids = tree.children(node)
        assert (tree.parent[kids] == node).all()
        assert (np.diff(tree.token[kids]) > 0).all()


def test_mixed_depths_get_end_tokens_and_a_leaf_each():
    tree = SemanticIdHierarchy(MIXED)
    assert tree.depth == 4
    assert tree.vocabularies[0] == ("a", "x", "y")
    assert tree.vocabularies[1][0] is END and "" in tree.vocabularies[1]  # "x" ends here
    assert tree.vocabularies[2][0] is END  # "a/b" ends here, beside "a/b/c"
    assert (tree.decode_codes(tree.codes) == np.arange(len(MIXED))).all()
    assert [tree.spell(row) for row in tree.codes] == MIXED
    # "a/b" lives under an END child, so "a/b" then "c" is still reachable
    a_b = tree.paths[0][1]
    assert tree.item[a_b] == -1 and len(tree.children(a_b)) == 2


def test_token_codes_that_leave_the_tree_or_stop_early_name_nothing():
    tree = SemanticIdHierarchy(MIXED)
    code = {lvl: {t: c for c, t in enumerate(v)} for lvl, v in enumerate(tree.vocabularies)}
    end = 0
    rows = {
        ("a", "b", "c", end): 1,  # a/b/c
        ("a", "b", end, end): 0,  # a/b: END closes the id, later tokens ignored
        ("a", "b", "c", "v"): -1,  # a/b/c/v does not exist
        ("a", "d", end, end): -1,  # the prefix a/d is not an item
        ("x", end, "b", "v"): 3,  # x, then tokens after END are ignored
        ("x", "b", end, end): -1,  # x/b: nothing under x
        ("y", "z", "w", "v"): 5,
    }
    codes = np.array(
        [[w if w == end else code[lvl][w] for lvl, w in enumerate(row)] for row in rows]
    )
    assert tree.decode_codes(codes).tolist() == list(rows.values())


def test_ids_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        SemanticIdHierarchy(["a/b", "a/b"])


def resolver(k: int = 4) -> SlateResolver:
    return SlateResolver(SemanticIdHierarchy(MIXED), k)


@pytest.mark.parametrize(
    "made_up",
    [
        "a/q",  # unknown leaf
        "",  # empty string
        "a",  # a valid prefix that is not an item
        "a/d",  # a deeper valid prefix
        "a/b/",  # trailing separator
        "/a/b",  # leading separator
        " a/b",  # whitespace is not trimmed
        "A/B",  # case-sensitive
        "a//",  # malformed
        "desert/arizona/heroic/hard/premium/0",  # another catalog's id
        "y/z/w/v/extra",  # too deep
        "x" * 10_000,  # absurdly long
        "\u00e9/\u2603/\x00",  # any unicode, control characters too
    ],
)
def test_any_string_that_is_not_an_id_is_a_hallucination(made_up):
    resolved = resolver().from_ids(["a/b", made_up, "x", "a//b"])
    assert resolved.items.tolist() == [0, -1, 3, 4]
    assert resolved.hallucinated.tolist() == [False, True, False, False]
    assert resolved.emitted.tolist() == ["a/b", made_up, "x", "a//b"]


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ("a/b", "got the single value"),
        (["a/b", "x"], r"expected shape \(4,\)"),
        (["a/b", "x", None, "a//b"], r"slot \(2\) holds None"),
        (["a/b", "x", 3, "a//b"], r"slot \(2\) holds 3 \(int\)"),
        (["a/b", "x", b"a/b/c", "a//b"], r"holds b'a/b/c' \(bytes\)"),
        (["a/b", "x", ["a"], "a//b"], r"slot \(2\) holds \['a'\]"),
        ([["a/b"], ["x"], ["a/b/c"], ["a//b"]], r"expected shape \(4,\)"),
        (None, "expected shape"),
    ],
)
def test_actions_that_are_not_slates_of_strings_are_action_errors(action, problem):
    with pytest.raises(ActionError, match=problem):
        resolver().from_ids(action)


def test_numpy_string_arrays_and_batches_resolve():
    r = resolver(2)
    assert r.from_ids(np.array(["x", "nope"])).items.tolist() == [3, -1]
    batch = r.from_ids([["x", "a/b"], ["a", "y/z/w/v"], ["", ""]], batch=3)
    assert batch.items.tolist() == [[3, 0], [-1, 5], [-1, -1]]
    assert batch.hallucinated.sum(axis=1).tolist() == [0, 1, 2]
    with pytest.raises(ActionError, match=r"slot \(1, 0\) holds 7"):
        r.from_ids([["x", "a/b"], [7, "x"], ["", ""]], batch=3)


def test_token_actions_are_checked_against_each_level_vocabulary():
    r = resolver(2)
    tree = r.hierarchy
    resolved = r.from_tokens(tree.codes[[1, 3]])
    assert resolved.items.tolist() == [1, 3]
    assert resolved.emitted.tolist() == ["a/b/c", "x"]
    wrong = tree.codes[[1, 3]].copy()
    wrong[0, 0] = len(tree.vocabularies[0])
    with pytest.raises(ActionError, match="outside level 0's vocabulary"):
        r.from_tokens(wrong)
    with pytest.raises(ActionError, match="integer token codes"):
        r.from_tokens(tree.codes[[1, 3]].astype(float))
    with pytest.raises(ActionError, match="expected shape"):
        r.from_tokens(tree.codes[[1]])
    batch = r.from_tokens(np.stack([tree.codes[[0, 5]], tree.codes[[2, 2]]]), batch=2)
    assert batch.items.tolist() == [[0, 5], [2, 2]] and batch.emitted is None


def test_a_resolved_slate_passes_conversational_messages_through():
    r = resolver(2)
    action = r.resolve_action({"slate": ["x", "?"], "message": "hi"}, "semantic_id", True)
    assert action["message"] == "hi" and isinstance(action["slate"], ResolvedSlate)
    assert action["slate"].hallucinated.tolist() == [False, True]
    assert r.resolve_action([1, 2], "item_index", False) == [1, 2]


def test_hierarchies_too_wide_for_one_integer_key_decode_by_walking_the_tree():
    rng = np.random.default_rng(3)
    words = [f"t{i}" for i in range(30)]
    ids = sorted({"/".join(rng.choice(words, 14)) for _ in range(300)})
    tree = SemanticIdHierarchy(ids)
    assert tree._place is None  # 30**14 combinations: no mixed-radix key
    assert (tree.decode_codes(tree.codes) == np.arange(len(ids))).all()
    broken = tree.codes.copy()
    broken[:, -1] = (broken[:, -1] + 1) % len(tree.vocabularies[-1])
    assert (tree.decode_codes(broken) == -1).mean() > 0.9
