"""OpenAIBrain through the real ``openai`` SDK against Chat Completions servers on 127.0.0.1
that answer like vLLM and like Ollama: structured output negotiated per server, the same
validation, repair, cache, accounting, retries and key hygiene as the Claude brain."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from llm_support import SECRET, persona, session

from simrec.brains.openai import OpenAIBrain
from simrec.cli import main
from simrec.errors import ConfigError, LLMConfigError
from simrec.llm import fake_openai_server as fake

pytest.importorskip("openai")

SLATE = [0, 1, 2, 3]
GOOD = {"clicked": ["c2"], "purchased": ["c2"], "dismissed": [], "reply": "Course 2, booked.",
        "leave": False, "satisfaction": 0.8}  # fmt: skip


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def brain(api, **extra) -> OpenAIBrain:
    return OpenAIBrain(
        base_url=f"{api.url}/v1", model="qwen3-8b", max_retries=2, timeout=60.0, **extra
    )


def react(b, s=None):
    return b.react([s or session()], [SLATE], [None], [np.random.default_rng(0)])[0]


def test_a_vllm_server_answers_in_json_schema_mode_without_a_key():
    with fake.FakeChatCompletionsAPI(
        "vllm", script=[fake.answer({"ok": True}), fake.answer(GOOD)]
    ) as api:
        b = brain(api)
        r = react(b)
        b.close()
    probe, call = api.requests
    assert probe["response_format"]["json_schema"]["name"] == "probe"  # one probe, honoured
    assert call["response_format"]["json_schema"]["name"] == "react_to_slate"
    assert "tools" not in call and call["messages"][0]["role"] == "system"
    assert r.clicked == [False, False, True, False] and r.purchased[2] and r.brain == "openai"
    assert r.input_tokens == call_usage(api, 1)["prompt_tokens"] and r.output_tokens > 0


def call_usage(api, i):
    """What the server reported for request ``i`` (its prompt is deterministic)."""
    return {"prompt_tokens": fake.tokens(json.dumps(api.requests[i]["messages"]) + "[]"
                                         + json.dumps(api.requests[i].get("response_format") or {}))}  # fmt: skip


def test_an_ollama_server_that_ignores_response_format_is_asked_with_tools():
    with fake.FakeChatCompletionsAPI("ollama", tool_models=["qwen3-8b"]) as api:
        b = brain(api)
        r = react(b)
        b.close()
    assert [("response_format" in q, "tools" in q) for q in api.requests] == [
        (True, False),  # json_schema probe: answered in prose, so not honoured
        (False, True),  # tools probe: a tool call
        (False, True),  # the reaction, as a function call
    ]
    assert r.clicked[0] and not r.invalid_response


def test_a_model_without_tools_or_schemas_answers_json_in_text():
    with fake.FakeChatCompletionsAPI("ollama") as api:  # no tool support at all
        b = brain(api)
        r = react(b)
        b.close()
    call = api.requests[-1]
    assert "tools" not in call and "response_format" not in call
    assert '"react_to_slate"' not in call["messages"][0]["content"]
    assert "matching this JSON schema" in call["messages"][0]["content"]  # the schema in the prompt
    assert r.clicked[0] and not r.invalid_response  # parsed from the fenced JSON


def test_an_invalid_answer_is_repaired_once_with_the_problems():
    bad = {**GOOD, "clicked": ["zz"], "purchased": []}
    script = [fake.answer({"ok": True}), fake.answer(bad), fake.answer(GOOD)]
    with fake.FakeChatCompletionsAPI("vllm", script=script) as api:
        b = brain(api)
        r = react(b)
        summary = b.ledger.summary()
        b.close()
    repair = api.requests[2]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-1]["role"] == "user"
    assert "'zz'" in repair[-1]["content"] and "c0, c1, c2, c3" in repair[-1]["content"]
    assert r.clicked[2] and summary.repaired == 1 and summary.invalid_responses == 0


def test_record_then_replay_with_no_server_including_the_probe(tmp_path):
    path = str(tmp_path / "q.sqlite")
    with fake.FakeChatCompletionsAPI("ollama", tool_models=["qwen3-8b"]) as api:
        b = brain(api, cache="record", cache_path=path)
        recorded = [react(b, session(session_id=i)).reply for i in range(3)]
        b.close()
    replay = OpenAIBrain(model="qwen3-8b", cache="replay", cache_path=path)
    assert [react(replay, session(session_id=i)).reply for i in range(3)] == recorded
    assert replay.ledger.summary().api_calls == 0
    replay.close()


def test_a_remote_server_needs_the_key_named_by_api_key_env(monkeypatch, tmp_path):
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY is not set"):
        OpenAIBrain(model="m", base_url="https://llm.example.invalid/v1")
    with pytest.raises(LLMConfigError, match="MY_LLM_KEY is not set"):
        OpenAIBrain(model="m", base_url="https://llm.example.invalid/v1", api_key_env="MY_LLM_KEY")
    monkeypatch.setenv("MY_LLM_KEY", SECRET)
    path = tmp_path / "k.sqlite"
    with fake.FakeChatCompletionsAPI("vllm") as api:
        b = brain(api, api_key_env="MY_LLM_KEY", cache="record", cache_path=str(path))
        react(b)
        b.close()
    assert SECRET.encode() not in path.read_bytes()
    with pytest.raises(ConfigError, match="structured_output: expected one of auto"):
        OpenAIBrain(model="m", base_url="http://127.0.0.1:9/v1", structured_output="xml")
    with pytest.raises(ConfigError, match="model: expected a model id"):
        OpenAIBrain(base_url="http://127.0.0.1:9/v1")


def test_server_errors_map_to_the_same_types_as_claude():
    with fake.FakeChatCompletionsAPI("vllm", models=["other"]) as api:
        b = brain(api)
        with pytest.raises(
            LLMConfigError, match=r"HTTP 404 \(The model `qwen3-8b` does not exist.\)"
        ):
            react(b)
        b.close()
    script = [fake.answer({"ok": True}), fake.error(429, retry_after=0.2), fake.answer(GOOD)]
    with fake.FakeChatCompletionsAPI("vllm", script=script) as api:
        b = brain(api)
        start = time.perf_counter()
        r = react(b)
        assert time.perf_counter() - start >= 0.2  # retry-after honoured
        assert not r.invalid_response and b.ledger.summary().retries == 1
        b.close()


def test_vllm_refuses_auto_tool_choice_without_the_flag_as_vllm_does():
    import openai

    with fake.FakeChatCompletionsAPI("vllm") as api:
        client = openai.OpenAI(api_key="x", base_url=f"{api.url}/v1", max_retries=0)
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(
                model="qwen3-8b",
                messages=[{"role": "user", "content": "hi"}],
                tools=[
                    {
                        "type": "function",
                        "function": {"name": "f", "parameters": {"type": "object"}},
                    }
                ],
            )
        client.close()
    assert info.value.body["message"] == (
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
    )


def test_simrec_run_against_a_local_server(capsys):
    with fake.FakeChatCompletionsAPI("vllm") as api:
        code = main(["run", "golf", "--brain", "openai", "--base-url", f"{api.url}/v1",
                     "--model", "qwen3-8b", "--episodes", "1", "--max-turns", "2", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "LLM calls:" in out and "no price for: qwen3-8b" in out
    assert main(["run", "golf", "--brain", "anthropic", "--structured-output", "text"]) == 2
    assert "--structured-output applies only with --brain openai" in capsys.readouterr().err


def test_personas_other_than_the_default_can_use_other_models():
    with fake.FakeChatCompletionsAPI("vllm", models=["qwen3-8b", "llama-4"]) as api:
        b = brain(api, persona_models={"other": "llama-4"})
        react(b, session(persona("other")))
        b.close()
    assert {q["model"] for q in api.requests} == {"llama-4"}


def test_a_vllm_prefix_cache_serves_half_of_every_later_turn_of_a_persona():
    # vLLM caches prompt prefixes block by block: the instructions and schema every call
    # shares, a persona's card, and the past turns of its visit, which only grow.
    with fake.FakeChatCompletionsAPI("vllm", prefix_cache=True) as api:
        b = brain(api, structured_output="json_schema")
        runner = persona(
            "runner",
            identity={"name": "Sam Runner", "age": 34, "occupation": "chef"},
            bio="Plays fast, nine holes before the dinner service.",
        )
        visits = [session(persona("walker")), session(runner, session_id=1)]
        rngs = [np.random.default_rng(i) for i in range(2)]
        shares = []
        for turn in range(4):
            slates = [[turn % 4, (turn + 1) % 4, (turn + 2) % 4, (turn + 3) % 4]] * 2
            reactions = b.react(visits, slates, [None] * 2, rngs)
            for s, slate, r in zip(visits, slates, reactions, strict=True):
                shares.append((turn, r.cache_read_tokens / (r.input_tokens + r.cache_read_tokens)))
                s.record(slate, r)
        b.close()
    # Nothing was cached before the first call (the two first calls go out together).
    assert min(share for turn, share in shares if turn == 0) == 0.0
    assert all(share >= 0.5 for turn, share in shares if turn > 0), shares
    assert b.ledger.summary().cache_read_tokens == api.usage["cached_tokens"] > 0
