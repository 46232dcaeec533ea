"""Answer validation: every rule, all problems at once, never a silent coercion."""

from __future__ import annotations

import pytest

from simrec.llm.validation import InvalidAnswer, parse_reaction

IDS = ["a", "b", None, "d"]
OK = {
    "clicked": ["b"],
    "purchased": ["b"],
    "dismissed": ["d"],
    "reply": " Nice. ",
    "leave": False,
    "satisfaction": 0.7,
}


def problems(data) -> str:
    with pytest.raises(InvalidAnswer) as info:
        parse_reaction(data, IDS)
    return str(info.value)


def test_valid_answer_maps_ids_to_slots():
    p = parse_reaction(OK, IDS)
    assert p.clicked == [False, True, False, False] and p.purchased == [False, True, False, False]
    assert p.dismissed == [False, False, False, True]
    assert (p.reply, p.left, p.satisfaction) == ("Nice.", False, 0.7)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"clicked": ["zz"]}, "clicked names id(s) not in this slate: 'zz'"),
        ({"clicked": [], "purchased": ["b"]}, "purchased 'b' without clicking it"),
        ({"dismissed": ["b"]}, "'b' is both clicked and dismissed"),
        ({"reply": ""}, "reply must be a non-empty string"),
        ({"reply": None}, "reply must be a non-empty string"),
        ({"leave": "false"}, "leave must be true or false"),
        ({"satisfaction": 1.5}, "satisfaction must be a number from 0 to 1"),
        ({"satisfaction": True}, "satisfaction must be a number from 0 to 1"),
        ({"clicked": "b"}, "clicked must be a list of item id strings"),
        ({"clicked": ["b", "b"]}, "clicked lists id(s) more than once: 'b'"),
        ({"mood": "happy"}, "unknown field(s): mood"),
        (
            {"reply": "x" * 200_000},
            "reply must be at most 1000 characters (what a user says in a chat), got 200,000",
        ),
    ],
)
def test_each_rule_is_enforced(change, expected):
    assert expected in problems({**OK, **change})


def test_missing_fields_and_several_problems_are_reported_together():
    message = problems({"clicked": ["zz"], "reply": ""})
    assert "missing field(s): purchased, dismissed, leave, satisfaction" in message
    assert "'zz'" in message and "reply must be" in message


def test_empty_slot_ids_are_never_valid_targets():
    assert "not in this slate: 'None'" in problems({**OK, "clicked": ["None"], "purchased": []})
