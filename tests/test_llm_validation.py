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


def answer(data=None, blocks=None):
    content = (
        blocks
        if blocks is not None
        else [{"type": "tool_use", "id": "t", "name": "react_to_slate", "input": data}]
    )
    return {"content": content}


def problems(data=None, blocks=None) -> str:
    with pytest.raises(InvalidAnswer) as info:
        parse_reaction(answer(data, blocks), "react_to_slate", IDS)
    return str(info.value)


def test_valid_answer_maps_ids_to_slots():
    p = parse_reaction(answer(OK), "react_to_slate", IDS)
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
    ],
)
def test_each_rule_is_enforced(change, expected):
    assert expected in problems({**OK, **change})


def test_missing_fields_and_several_problems_are_reported_together():
    message = problems({"clicked": ["zz"], "reply": ""})
    assert "missing field(s): purchased, dismissed, leave, satisfaction" in message
    assert "'zz'" in message and "reply must be" in message


def test_answers_without_exactly_one_tool_call_are_invalid():
    assert "no react_to_slate tool call" in problems(blocks=[{"type": "text", "text": "{oops"}])
    assert "it wrote text instead: '{oops'" in problems(blocks=[{"type": "text", "text": "{oops"}])
    two = [{"type": "tool_use", "name": "react_to_slate", "input": OK}] * 2
    assert "2 tool calls" in problems(blocks=two)
    other = [{"type": "tool_use", "name": "buy_all", "input": OK}]
    assert "called tool 'buy_all'" in problems(blocks=other)
    assert "not a JSON object" in problems('{"clicked": [')


def test_empty_slot_ids_are_never_valid_targets():
    assert "not in this slate: 'None'" in problems({**OK, "clicked": ["None"], "purchased": []})
