"""The scripted user reads the persona-reaction prompt as a model would (card, state,
request, slate) and answers valid, deterministic reactions through both fake servers."""

from __future__ import annotations

import numpy as np
import pytest
from llm_support import SECRET, persona, session

from simrec.brains.anthropic import AnthropicBrain
from simrec.llm.fake_server import FakeMessagesAPI, request_text
from simrec.llm.prompts import build_request, load_template
from simrec.llm.scripted_user import react, read_request, scripted_messages
from simrec.reaction import Reaction

pytest.importorskip("anthropic")


def prompt(s, slate) -> str:
    request = build_request(
        load_template(), s, slate, None, model="m", max_tokens=100, recent_turns=None
    )
    body = {"system": [{"text": b.text} for b in request.system],
            "messages": [{"content": [{"text": b.text} for b in m["content"]]}
                         if not isinstance(m["content"], str) else m for m in request.messages]}  # fmt: skip
    return request_text(body)


def test_it_reads_the_card_the_state_the_request_and_the_slate():
    s = session()
    s.record([0, 1, 2, 3], Reaction([True, False, False, False], [False] * 4, [False] * 4,
                                    False, 0.6, "Nice.", "anthropic"))  # fmt: skip
    s.record([0, 1, 4, 5], Reaction([False] * 4, [False] * 4, [False] * 4, False, 0.5, "Hm.", "x"))
    reading = read_request(prompt(s, [0, 1, 6, 7]))
    assert reading.likes == {"links": 2.0, "walkable": 1.0}
    assert reading.dislikes == {"lively-clubhouse"}
    assert reading.traits["price_sensitivity"] == 1 and reading.turn == 3
    assert reading.repeats == {"Course 0", "Course 1"}
    assert "knee" in reading.request and [i["id"] for i in reading.items] == [
        "c0",
        "c1",
        "c6",
        "c7",
    ]


def test_it_prefers_what_the_card_likes_and_rejects_what_it_dislikes():
    text = prompt(session(), [1, 3, 0, 2])  # parkland/clubhouse first, links/walkable after
    clicks, dismissals = np.zeros(4), np.zeros(4)
    for k in range(200):
        answer = react(read_request(text), f"{k}".encode())
        for j, item in enumerate(["c1", "c3", "c0", "c2"]):
            clicks[j] += item in answer["clicked"]
            dismissals[j] += item in answer["dismissed"]
        assert set(answer["purchased"]) <= set(answer["clicked"])
        assert not set(answer["clicked"]) & set(answer["dismissed"])
    assert (
        clicks[2:].sum() > 3 * clicks[:2].sum() and dismissals[:2].sum() > 5 * dismissals[2:].sum()
    )
    assert react(read_request(text), b"same") == react(read_request(text), b"same")


def test_a_brain_plays_a_visit_against_it_through_the_sdk():
    with (
        FakeMessagesAPI(default=scripted_messages()) as api,
        AnthropicBrain(api_key=SECRET, base_url=api.url, max_retries=1) as brain,
    ):
        s = session(persona())
        for _ in range(4):
            (r,) = brain.react([s], [[0, 1, 2, 3]], [None], [np.random.default_rng(0)])
            assert not r.invalid_response and r.reply
            s.record([0, 1, 2, 3], r)
    assert api.calls == 4
