"""The conversational LLM recommender: messages with slates, clarifying questions as
exploratory turns, the user's answer reaching the policy next turn, the rules on asking."""

from __future__ import annotations

import json

import pytest
from conftest import small_catalog
from llm_policy_support import candidate_ids, env, options, personas
from llm_support import SECRET

from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.llm import fake_server as fake
from simrec.llm.fake_server import Reply
from simrec.policies.llm_conversational import LLMConversationalPolicy
from simrec.policies.llm_scripted import read_prompt, request_text, scripted_messages
from simrec.runner import run_sessions

pytest.importorskip("anthropic")

ANSWER = "Gamma for sure, and only loud ones."


def turn(kind: str, message: str, pick=lambda c: c) -> object:
    """A responder answering ``next_turn`` with ``kind``, ``message`` and ``pick(candidates)``."""

    def respond(body: dict, n: int) -> Reply:
        data = {"kind": kind, "message": message, "ranking": pick(candidate_ids(body))}
        return fake.answer(data)(body, n)

    return respond


def user_who_answers(body: dict, n: int) -> Reply:
    """An LLM-played user: answers a question in the recommender's message, else browses."""
    text = request_text(body)
    asked = "<recommender_message>\n" in text and "?" in text.rsplit("<recommender_message>", 1)[1]
    first = fake.slate_items(body)[0]["id"]
    reply = ANSWER if asked else "Fine."
    data = {"clicked": [first], "purchased": [], "dismissed": [], "reply": reply}
    return fake.answer({**data, "leave": False, "satisfaction": 0.6})(body, n)


def test_it_needs_a_conversational_env():
    with pytest.raises(ConfigError, match="conversational=True"):
        LLMConversationalPolicy(env())


def test_a_question_turn_is_an_exploratory_slate_with_the_question():
    e = env(conversational=True)
    script = [turn("ask", "Alpha or gamma?", lambda c: c[::-1])]
    with fake.FakeMessagesAPI(script=script, default=turn("recommend", "Here you go.")) as api:
        policy = LLMConversationalPolicy(e, **options(api.url))
        obs, info = e.reset(seed=0, options={"session_id": 0})
        action = policy.act(obs, info)
        obs, _, _, _, info = e.step(action)
        follow = policy.act(obs, info)
        policy.close()
    assert action["message"] == "Alpha or gamma?" and info["message"] == "Alpha or gamma?"
    ids = [str(e.catalog.item_ids[i]) for i in action["slate"]]
    assert ids == candidate_ids(api.requests[0])[::-1][:4]  # every slot a real item
    assert follow["message"] == "Here you go."
    visit, _ = read_prompt(request_text(api.requests[1]))
    assert visit[1]["you_asked"] == "Alpha or gamma?"  # the model remembers it asked
    assert policy._visits[0].steps[0].asked
    assert "You may ask 1 more" in request_text(api.requests[0])
    assert "Do not ask questions now" in request_text(api.requests[1])


def test_an_llm_played_users_answer_reaches_the_policy_next_turn():
    with fake.FakeMessagesAPI(default=user_who_answers) as users:
        e = RecSessionEnv(
            small_catalog(),
            personas(),
            slate_size=4,
            max_turns=3,
            conversational=True,
            brain="anthropic",
            brain_kwargs={"api_key": SECRET, "base_url": users.url, "max_retries": 1},
        )
        script = [turn("ask", "Alpha, beta or gamma - which do you like?")]
        with fake.FakeMessagesAPI(script=script, default=turn("recommend", "Picked.")) as api:
            policy = LLMConversationalPolicy(e, **options(api.url))
            turns = run_sessions(e, policy, 1, seed=0).frames()[1]
            policy.close()
        e.close()
    assert turns["reply"].iloc[0] == ANSWER  # the user read the question and answered it
    visit, _ = read_prompt(request_text(api.requests[1]))
    assert visit[1]["you_asked"].startswith("Alpha, beta or gamma")
    assert visit[1]["user_said"] == ANSWER  # ... and the answer is what the policy sees next
    question = json.dumps(users.requests[0])
    assert "Alpha, beta or gamma - which do you like?" in question


def test_a_question_beyond_the_allowance_is_repaired_into_a_recommendation():
    e = env(conversational=True, max_turns=4)
    asks = turn("ask", "Loud or quiet?")
    script = [asks, asks, turn("recommend", "Loud ones, as you said.")]
    with fake.FakeMessagesAPI(script=script) as api:
        policy = LLMConversationalPolicy(e, **options(api.url, max_questions=1))
        obs, info = e.reset(seed=0)
        obs, _, _, _, info = e.step(policy.act(obs, info))
        second = policy.act(obs, info)
        policy.close()
    note = json.dumps(api.requests[2]["messages"][-1])
    assert "no questions are allowed now" in note
    assert second["message"] == "Loud ones, as you said."
    assert policy.ledger.summary("policy").repaired == 1


def test_no_question_on_the_last_turn_and_messages_are_checked():
    e = env(conversational=True, max_turns=1)
    long = "x" * 1001
    script = [turn("ask", "Loud?"), turn("recommend", long)]
    with fake.FakeMessagesAPI(script=script) as api:
        policy = LLMConversationalPolicy(e, **options(api.url))
        obs, info = e.reset(seed=0)
        action = policy.act(obs, info)  # both answers invalid: the fallback says nothing
        policy.close()
    first = json.dumps(api.requests[1]["messages"][-1])
    second = request_text(api.requests[1])
    assert "no questions are allowed now" in first
    assert "Do not ask questions now" in second
    assert action["message"] == ""
    assert policy.ledger.summary("policy").fallbacks == {"retriever": 1}


def test_the_scripted_model_asks_a_stranger_first_then_recommends():
    e = env(conversational=True, max_turns=4)
    with fake.FakeMessagesAPI(default=scripted_messages()) as api:
        policy = LLMConversationalPolicy(e, **options(api.url))
        messages = []
        run_sessions(e, policy, 2, seed=0, on_step=lambda env, info: messages.append(info))
        policy.close()
    first = [i["message"] for i in messages if i["turn"] == 1]
    assert all(m.startswith("To start: are you after") and m.endswith("of each.") for m in first)
    later = [i["message"] for i in messages if i["turn"] > 1]
    assert later and all(m.startswith("My picks") for m in later)
    assert policy.ledger.summary("policy").invalid_responses == 0
