"""The Anthropic backend: the request shape each Claude model accepts, answers read by block
type, and the fake API refusing what the real one refuses (status and error text)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from llm_support import SECRET, brain_kwargs, persona, session

from simrec.brains.anthropic import AnthropicBrain
from simrec.errors import LLMConfigError
from simrec.llm import fake_server as fake
from simrec.llm.backends import claude_models
from simrec.llm.backends.anthropic import AnthropicBackend
from simrec.llm.request import LLMRequest, OutputSchema, SystemBlock

pytest.importorskip("anthropic")

GOOD = {
    "clicked": ["c1"],
    "purchased": [],
    "dismissed": ["c3"],
    "reply": "Course 1 it is.",
    "leave": False,
    "satisfaction": 0.7,
}
SLATE = [0, 1, 2, 3]


def react(brain, s=None):
    return brain.react([s or session()], [SLATE], [None], [np.random.default_rng(0)])[0]


@pytest.mark.parametrize(
    ("model", "forced", "thinking", "effort"),
    [
        ("claude-haiku-5-5", True, {"type": "disabled"}, None),
        ("claude-sonnet-5-5", False, {"type": "between_tools"}, "low"),
        ("claude-opus-5-5", False, None, "low"),
        ("claude-fable-5-1", False, None, "low"),
    ],
)
def test_every_current_claude_model_plays_a_persona(model, forced, thinking, effort):
    with fake.FakeMessagesAPI(script=[fake.answer(GOOD)]) as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, model=model, on_invalid="raise"))
        r = react(brain)
        brain.close()
    body = api.requests[0]
    assert r.clicked == [False, True, False, False] and r.dismissed[3] and not r.invalid_response
    assert ("tool_choice" in body) is forced and (
        "output_config" in body and "format" in body["output_config"]
    ) is not forced
    assert body.get("thinking") == thinking
    assert (body.get("output_config") or {}).get("effort") == effort
    assert "temperature" not in body
    assert r.output_tokens == api.usage["output_tokens"] > 0


def test_a_thinking_model_answer_is_read_by_block_type_and_thinking_is_billed():
    with fake.FakeMessagesAPI(script=[fake.answer(GOOD)]) as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, model="claude-opus-5-5"))
        r = react(brain)
        brain.close()
    assert r.reply == "Course 1 it is."
    assert r.output_tokens >= fake.THINKING_TOKENS  # the thinking block came first
    assert api.requests[0]["max_tokens"] > 512  # thinking allowance on top of the answer budget


def test_invalid_json_output_is_repaired_with_a_user_turn():
    script = [fake.text('{"clicked": ["c1"'), fake.answer(GOOD)]
    with fake.FakeMessagesAPI(script=script) as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, model="claude-sonnet-5-5"))
        r = react(brain)
        brain.close()
    assert not r.invalid_response and r.clicked[1]
    repair = api.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "no JSON object in the answer" in repair[2]["content"][0]["text"]
    assert "c0, c1, c2, c3" in repair[2]["content"][0]["text"]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (
            {"model": "claude-sonnet-5-5", "tool_choice": {"type": "tool", "name": "x"}},
            400,
            'tool_choice: type "tool" and "any" are not supported for this model.',
        ),
        (
            {"model": "claude-opus-5-5", "thinking": {"type": "disabled"}},
            400,
            '"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" '
            'and "output_config.effort" to control thinking behavior.',
        ),
        (
            {"model": "claude-sonnet-5-5", "thinking": {"type": "disabled"}},
            400,
            '"thinking.type.disabled" is not supported for this model. Use "thinking.type.between_tools"',
        ),
        (
            {"model": "claude-haiku-5-5", "tool_choice": {"type": "any"}},
            400,
            "Thinking may not be enabled when tool_choice forces tool use.",
        ),
        (
            {"model": "claude-haiku-5-5", "temperature": 0.2},
            400,
            "`temperature` is deprecated for this model.",
        ),
        ({"model": "claude-nonexistent-1"}, 404, "model: claude-nonexistent-1"),
    ],
)
def test_the_fake_api_refuses_what_the_real_one_refuses(body, status, text):
    import anthropic
    import httpx2

    with fake.FakeMessagesAPI() as api:
        client = anthropic.Anthropic(api_key=SECRET, base_url=api.url, max_retries=0)
        full = {"max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **body}
        with pytest.raises(anthropic.APIStatusError) as info:  # (the SDK has no temperature)
            client.post("/v1/messages", body=full, cast_to=httpx2.Response)
        client.close()
    assert info.value.status_code == status
    assert text in info.value.body["error"]["message"]


def test_a_refused_request_shape_is_a_config_error_quoting_the_api(monkeypatch):
    # Pretend simrec still forced the tool on Sonnet 5.5, as before this layer existed.
    old = claude_models.claude_model("claude-haiku-5-5")
    monkeypatch.setitem(
        claude_models.CLAUDE_MODELS,
        "claude-sonnet-5-5",
        claude_models.ClaudeModel(
            "claude-sonnet-5-5", True, {"type": "disabled"}, False, None, False, 512, old.price
        ),
    )
    with fake.FakeMessagesAPI() as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, model="claude-sonnet-5-5"))
        with pytest.raises(
            LLMConfigError, match=r"HTTP 400 \(\"thinking.type.disabled\" is not supported"
        ):
            react(brain)
        brain.close()


def test_models_that_removed_sampling_refuse_a_temperature_before_any_call():
    backend = AnthropicBackend(offline=True)
    request = LLMRequest(
        "claude-opus-5-5",
        (SystemBlock("s"),),
        ({"role": "user", "content": "hi"},),
        temperature=0.3,
    )
    with pytest.raises(LLMConfigError, match="does not accept temperature 0.3"):
        backend.wire(request)
    assert (
        backend.wire(LLMRequest("claude-haiku-4-5", (), request.messages, temperature=0.3))[
            "temperature"
        ]
        == 0.3
    )


SCHEMA = OutputSchema("react_to_slate", "d", {"type": "object"})
FORCED = LLMRequest("claude-haiku-5-5", (), ({"role": "user", "content": "x"},), output=SCHEMA)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            [{"type": "text", "text": "{oops"}],
            "no react_to_slate tool call in the answer; it wrote text instead: '{oops'",
        ),
        ([{"type": "tool_use", "name": "react_to_slate", "input": {}}] * 2, "2 tool calls"),
        ([{"type": "tool_use", "name": "buy_all", "input": {}}], "called tool 'buy_all'"),
        ([{"type": "tool_use", "name": "react_to_slate", "input": '{"a": ['}], "not a JSON object"),
    ],
)
def test_a_forced_tool_answer_without_exactly_one_call_has_no_data(content, problem):
    answer = AnthropicBackend(offline=True).answer(
        {"content": content, "stop_reason": "end_turn"}, FORCED
    )
    assert answer.data is None and problem in answer.problem


def test_prompt_cache_reads_only_a_prefix_an_earlier_request_wrote():
    """Usage as the API reports it: the first turn writes the prefixes, a persona's later
    turns read instructions and card, another persona reads the shared instructions."""
    with fake.FakeMessagesAPI() as api:
        brain = AnthropicBrain(**brain_kwargs(api.url))
        walker = session()
        r1 = react(brain, walker)
        walker.record(SLATE, r1)
        r2 = react(brain, walker)
        other = react(
            brain,
            session(persona("other", identity={"name": "Ann Other", "age": 30}), session_id=1),
        )
        brain.close()
    assert r1.cache_read_tokens == 0 and r1.cache_write_tokens > 0
    assert r2.cache_read_tokens == r1.cache_write_tokens  # instructions and card
    assert r2.cache_write_tokens > 0  # the visit's first memory line, for turn 3 to read
    assert 0 < other.cache_read_tokens < r1.cache_write_tokens  # the instructions only
    card = fake.tokens(api.requests[2]["system"][1]["text"])
    assert other.cache_write_tokens == card  # it writes its own card
    system = json.dumps(api.requests[0]["system"])
    assert r1.input_tokens + r1.cache_write_tokens >= len(system) // 4  # system is input


def test_after_a_personas_first_turn_at_least_half_its_input_is_read_from_cache():
    import gymnasium as gym

    with fake.FakeMessagesAPI(default=stays) as api:
        env = gym.make("simrec/GolfClaude-v0", max_turns=8, brain_kwargs=brain_kwargs(api.url))
        shares = []
        for visit in range(3):
            env.reset(seed=visit, options={"session_id": visit})
            for turn in range(8):
                r = env.step([(turn * 5 + j) % 200 for j in range(5)])[4]["reaction"]
                if turn > 0:
                    prompt = r.input_tokens + r.cache_read_tokens + r.cache_write_tokens
                    shares.append(r.cache_read_tokens / prompt)
        env.unwrapped.brain.close()
    assert len(shares) == 21 and min(shares) >= 0.5, shares


def stays(body, n):
    """A valid reaction that never leaves."""
    items = fake.slate_items(body)
    return fake.answer(
        {
            "clicked": [items[0]["id"]],
            "purchased": [],
            "dismissed": [],
            "reply": "Hm.",
            "leave": False,
            "satisfaction": 0.5,
        }  # fmt: skip
    )(body, n)
