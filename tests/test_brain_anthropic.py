"""AnthropicBrain through the real SDK against a fake Messages API on 127.0.0.1.

Each scripted server behaviour from issue 3 has a test: a valid reaction, malformed
JSON, ids not in the slate, purchase without click, an empty reply, 429 with
retry-after, 529, a permanent 500, a timeout, a refused connection; then record/replay,
the API key never leaking, concurrency and accounting.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from llm_support import SECRET, brain_kwargs, persona, session, small_catalog

import simrec  # noqa: F401  (registers envs and brains)
from simrec.brains import make_brain
from simrec.brains.anthropic import DEFAULT_MODEL, AnthropicBrain
from simrec.brains.utility import UtilityBrain
from simrec.errors import CacheMissError, ConfigError, LLMConfigError, LLMResponseError
from simrec.llm import fake_server as fake
from simrec.llm.accounting import Price
from simrec.llm.cli_support import format_usage_report

SLATE = [0, 1, 2, 3]  # ids c0..c3


def react_once(brain: AnthropicBrain, slate=SLATE, seed: int = 0, s=None):
    s = s or session()
    return brain.react([s], [slate], [None], [np.random.default_rng(seed)])[0]


@pytest.fixture
def api():
    with fake.FakeMessagesAPI() as server:
        yield server


# -- valid answers ---------------------------------------------------------------------------
def test_valid_tool_call_becomes_per_slot_reaction(api):
    answer = {
        "clicked": ["c2", "c0"],
        "purchased": ["c2"],
        "dismissed": ["c3"],
        "reply": "Course 2 is lovely, booking it.",
        "leave": True,
        "satisfaction": 0.8,
    }
    api.script = [fake.tool(answer)]
    brain = AnthropicBrain(**brain_kwargs(api.url))
    r = react_once(brain)
    assert r.clicked == [True, False, True, False]
    assert r.purchased == [False, False, True, False]
    assert r.dismissed == [False, False, False, True]
    # The model said how the slate felt (0.8); the session's satisfaction (0.6) moves halfway.
    assert (r.left, r.satisfaction, r.reply) == (True, 0.7, "Course 2 is lovely, booking it.")
    assert r.brain == "anthropic" and not r.invalid_response
    assert r.input_tokens == api.usage["input_tokens"] > 0
    assert r.cache_write_tokens == api.usage["cache_creation_input_tokens"] > 0
    body = api.requests[0]
    assert body["model"] == DEFAULT_MODEL
    assert body["tool_choice"]["name"] == "react_to_slate" and body["tools"][0]["strict"] is True
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_empty_slots_are_not_shown_and_stay_false(api):
    api.script = [
        fake.tool(
            {
                "clicked": ["c1"],
                "purchased": [],
                "dismissed": [],
                "reply": "ok",
                "leave": False,
                "satisfaction": 0.5,
            }
        )
    ]
    r = react_once(AnthropicBrain(**brain_kwargs(api.url)), slate=[0, 1, -1, -1])
    assert r.clicked == [False, True, False, False]
    assert len(fake.slate_items(api.requests[0])) == 2


# -- invalid answers: repair, then the declared fallback -------------------------------------
GOOD = {
    "clicked": ["c0"],
    "purchased": [],
    "dismissed": [],
    "reply": "Fine.",
    "leave": False,
    "satisfaction": 0.6,
}


def test_malformed_json_is_repaired_once_showing_the_error(api):
    api.script = [fake.tool('{"clicked": ["c0", '), fake.tool(GOOD)]
    brain = AnthropicBrain(**brain_kwargs(api.url))
    r = react_once(brain)
    assert r.clicked[0] and not r.invalid_response
    assert api.calls == 2
    repair = api.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    result = repair[2]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert "not a JSON object" in result["content"] and "c0, c1, c2, c3" in result["content"]
    assert brain.ledger.summary().repaired == 1
    assert brain.ledger.summary().invalid_responses == 0


def test_text_instead_of_tool_call_twice_falls_back_to_utility_flagged(api):
    api.script = [fake.text('{"clicked": ["c0"'), fake.text("I like them all!")]
    brain = AnthropicBrain(**brain_kwargs(api.url, on_invalid="utility"))
    s = session()
    r = react_once(brain, s=s, seed=7)
    expected = UtilityBrain().react_one(session(), SLATE, np.random.default_rng(7))
    assert r.invalid_response and r.brain == "anthropic->utility"
    assert (r.clicked, r.purchased, r.dismissed, r.reply) == (
        expected.clicked,
        expected.purchased,
        expected.dismissed,
        expected.reply,
    )
    assert r.input_tokens > 0  # the two failed calls are still paid for and counted
    summary = brain.ledger.summary()
    assert summary.invalid_responses == 1 and summary.fallbacks == {"utility": 1}


def test_ids_not_in_slate_skip_policy_gives_flagged_no_op(api):
    bad = {**GOOD, "clicked": ["c7"], "purchased": ["zzz"]}
    api.script = [fake.tool(bad), fake.tool(bad)]
    brain = AnthropicBrain(**brain_kwargs(api.url, on_invalid="skip"))
    s = session()
    r = react_once(brain, s=s)
    assert r.invalid_response and r.brain == "anthropic->skip"
    assert not any(r.clicked + r.purchased + r.dismissed) and not r.left
    assert r.satisfaction == s.satisfaction and r.reply == ""
    assert "'c7'" in api.requests[1]["messages"][2]["content"][0]["content"]
    assert brain.ledger.summary().fallbacks == {"skip": 1}


def test_purchase_without_click_raise_policy_names_persona_and_rule(api):
    bad = {**GOOD, "clicked": [], "purchased": ["c1"]}
    api.script = [fake.tool(bad), fake.tool(bad)]
    brain = AnthropicBrain(**brain_kwargs(api.url, on_invalid="raise"))
    with pytest.raises(
        LLMResponseError, match=r"'walker' \(session 0\), turn 1.*a purchase implies a click"
    ):
        react_once(brain)


def test_empty_reply_and_clicked_dismissed_are_rejected(api):
    bad = {**GOOD, "reply": "   ", "dismissed": ["c0"]}
    api.script = [fake.tool(bad), fake.tool(GOOD)]
    brain = AnthropicBrain(**brain_kwargs(api.url))
    r = react_once(brain)
    note = api.requests[1]["messages"][2]["content"][0]["content"]
    assert "reply must be a non-empty string" in note and "both clicked and dismissed" in note
    assert r.reply == "Fine." and not r.invalid_response


# -- transport faults: SDK retries, then the fallback -----------------------------------------
def test_429_with_retry_after_is_honoured_then_succeeds(api):
    api.script = [fake.error(429, retry_after=0.3, kind="rate_limit_error"), fake.tool(GOOD)]
    brain = AnthropicBrain(**brain_kwargs(api.url))
    start = time.perf_counter()
    r = react_once(brain)
    assert time.perf_counter() - start >= 0.3
    assert api.calls == 2 and not r.invalid_response and r.clicked[0]
    assert brain.ledger.summary().retries == 1


def test_529_overloaded_then_succeeds(api):
    api.script = [fake.error(529, kind="overloaded_error"), fake.tool(GOOD)]
    r = react_once(AnthropicBrain(**brain_kwargs(api.url)))
    assert api.calls == 2 and not r.invalid_response


def test_permanent_500_exhausts_retries_then_falls_back(api):
    api.default = fake.error(500)
    brain = AnthropicBrain(**brain_kwargs(api.url, max_retries=2))
    r = react_once(brain)
    assert api.calls == 3  # one attempt and two SDK retries
    assert r.invalid_response and r.brain == "anthropic->utility"
    assert brain.ledger.summary().errors == {"http_500": 1}


def test_answer_slower_than_timeout_falls_back_quickly(api):
    api.script = [fake.slow(6.0)]
    brain = AnthropicBrain(**brain_kwargs(api.url, timeout=0.3, max_retries=0, on_invalid="skip"))
    r = react_once(brain)
    # it gave up at its own timeout instead of waiting for the 6 s answer (which would have
    # been a valid reaction): the outcome says so, whatever the machine's speed
    assert r.invalid_response and brain.ledger.summary().errors == {"timeout": 1}
    assert api.calls == 1


def test_refused_connection_falls_back():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    brain = AnthropicBrain(**brain_kwargs(f"http://127.0.0.1:{port}", max_retries=0))
    r = react_once(brain)
    assert r.invalid_response and brain.ledger.summary().errors == {"connection": 1}


def test_rejected_key_is_a_config_error_not_a_fallback(api):
    api.default = fake.error(401, kind="authentication_error")
    brain = AnthropicBrain(**brain_kwargs(api.url, on_invalid="utility"))
    with pytest.raises(LLMConfigError, match="HTTP 401") as info:
        react_once(brain)
    assert SECRET not in str(info.value)


# -- configuration ----------------------------------------------------------------------------
def test_missing_key_is_one_clear_line(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(LLMConfigError) as info:
        AnthropicBrain()
    message = str(info.value)
    assert "\n" not in message
    assert "ANTHROPIC_API_KEY is not set" in message and "export ANTHROPIC_API_KEY=" in message


def test_unknown_or_bad_options_name_the_option():
    with pytest.raises(ConfigError, match="bad brain_kwargs.*colour"):
        make_brain("anthropic", colour="red")
    with pytest.raises(ConfigError, match="on_invalid: expected one of raise, utility, skip"):
        AnthropicBrain(api_key="x", on_invalid="ignore")
    with pytest.raises(ConfigError, match="cache='replay' needs cache_path"):
        AnthropicBrain(cache="replay")
    for bad in (float("nan"), float("inf"), 0, -1):
        with pytest.raises(ConfigError, match="timeout: expected a positive number of seconds"):
            AnthropicBrain(api_key="x", timeout=bad)


def test_persona_models_pick_the_model_per_persona(api):
    brain = AnthropicBrain(**brain_kwargs(api.url, persona_models={"walker": "claude-sonnet-5-5"}))
    react_once(brain)
    react_once(brain, s=session(persona("other")))
    assert [b["model"] for b in api.requests] == ["claude-sonnet-5-5", DEFAULT_MODEL]


def test_core_import_works_without_the_sdk():
    code = (
        "import sys; sys.modules['anthropic'] = None\n"
        "import gymnasium as gym, simrec\n"
        "env = gym.make('simrec/Golf-v0'); env.reset(seed=0)\n"
        "from simrec.brains import make_brain\n"
        "try:\n"
        "    make_brain('anthropic', api_key='x')\n"
        "except simrec.SimrecError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "pip install 'simrec[llm]'" in out.stdout


def test_claude_presets_are_registered_nondeterministic():
    spec = gym.spec("simrec/GolfClaude-v0")
    assert spec.nondeterministic and spec.kwargs["brain"] == "anthropic"
    assert not gym.spec("simrec/Golf-v0").nondeterministic


# -- record / replay -------------------------------------------------------------------------
def claude_env(brain_kw: dict, max_turns: int = 4) -> gym.Env:
    """The small catalog and persona, played by Claude with ``brain_kw``, slates of 4."""
    return gym.make(
        "simrec/RecSession-v0",
        catalog=small_catalog(),
        personas=[persona()],
        slate_size=4,
        max_turns=max_turns,
        brain="anthropic",
        brain_kwargs=brain_kw,
    )


def run_episodes(brain_kw: dict, episodes: int = 2, seed: int = 3) -> list[dict]:
    """Event rows of ``episodes`` random-policy episodes (one row per step)."""
    env = claude_env(brain_kw)
    env.action_space.seed(seed)
    rows = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done = False
        while not done:
            action = env.action_space.sample()
            _, reward, terminated, truncated, info = env.step(action)
            rows.append(
                {
                    "slate": info["slate"],
                    "reward": reward,
                    "reply": info["reply"],
                    **info["reaction"].to_dict(),
                }
            )
            done = terminated or truncated
    env.unwrapped.brain.close()
    return rows, env.unwrapped.brain.ledger.summary()


def test_record_then_replay_gives_identical_event_logs(tmp_path):
    path = tmp_path / "golf.sqlite"
    bad = {**GOOD, "clicked": ["nope"]}
    with fake.FakeMessagesAPI(script=[fake.react_first, fake.tool(bad), fake.tool(bad)]) as api:
        recorded, rec_usage = run_episodes(
            brain_kwargs(api.url, cache="record", cache_path=str(path))
        )
        calls = api.calls
    assert calls == rec_usage.api_calls > 3
    assert any(r["invalid_response"] for r in recorded)  # the fallback is part of the log
    replayed, usage = run_episodes({"cache": "replay", "cache_path": str(path)})  # server is down
    paid = [r.pop("cost_usd") for r in recorded]
    assert [r.pop("cost_usd") for r in replayed] == [0.0] * len(replayed)  # replays are free
    assert replayed == recorded
    assert sum(paid) == pytest.approx(rec_usage.cost_usd) and rec_usage.cost_usd > 0
    assert usage.api_calls == 0 and usage.cache_hits == calls
    assert [p.name for p in tmp_path.iterdir()] == ["golf.sqlite"]  # one portable file


def test_replay_of_an_unrecorded_run_is_a_clear_miss(tmp_path):
    path = tmp_path / "golf.sqlite"
    with fake.FakeMessagesAPI() as api:
        run_episodes(brain_kwargs(api.url, cache="record", cache_path=str(path)), episodes=1)
    with pytest.raises(CacheMissError, match=r"replay cache miss in .*golf\.sqlite.*'walker'"):
        run_episodes({"cache": "replay", "cache_path": str(path)}, episodes=1, seed=99)


def test_identical_requests_at_different_places_get_separate_samples(tmp_path):
    """Two sessions shown the same first slate send identical bodies: each gets its own
    answer (its sample is its session and turn), and each replays its own answer."""
    path = str(tmp_path / "c.sqlite")
    with fake.FakeMessagesAPI() as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, cache="record", cache_path=path))
        first = [react_once(brain, s=session(session_id=i)).reply for i in (0, 1)]
        again = react_once(brain, s=session(session_id=0)).reply  # the same place: recorded
        brain.close()
    assert api.requests[0] == api.requests[1]  # identical bodies ...
    assert first[0] != first[1] and api.calls == 2  # ... separate answers, one call each
    assert again == first[0]
    replay = AnthropicBrain(cache="replay", cache_path=path)
    assert [react_once(replay, s=session(session_id=i)).reply for i in (1, 0)] == first[::-1]


def test_api_key_never_reaches_cache_logs_or_outputs(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "k.sqlite"
    with fake.FakeMessagesAPI(
        script=[fake.error(429, retry_after=0.01), fake.text("hm"), fake.text("hm")]
    ) as api:
        rows, summary = run_episodes(brain_kwargs(api.url, cache="record", cache_path=str(path)))
    secret = SECRET.encode()
    for file in tmp_path.iterdir():
        assert secret not in file.read_bytes(), file.name
    captured = capsys.readouterr()
    assert SECRET not in caplog.text and SECRET not in captured.out + captured.err
    assert SECRET not in repr(rows) and SECRET not in format_usage_report(None)
    assert any(r["invalid_response"] for r in rows) and caplog.text  # logs were written


# -- concurrency ------------------------------------------------------------------------------
def test_sixteen_sessions_have_all_their_calls_in_flight_at_once():
    """Each answer is held until 16 calls are in flight (or 10 s pass): a brain that sent
    them one after another would see peak 1 and a 10 s wait per call, whatever the
    machine's speed. (Throughput itself is measured in benchmarks/bench_llm_brain.py.)"""
    turns = 3
    with fake.FakeMessagesAPI(gather=16) as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, concurrency=16, timeout=60.0))
        sessions = [session(session_id=i) for i in range(16)]
        rngs = [np.random.default_rng(i) for i in range(16)]
        for turn in range(turns):
            slate = [turn % 8, (turn + 1) % 8, (turn + 2) % 8, (turn + 3) % 8]
            reactions = brain.react(sessions, [slate] * 16, [None] * 16, rngs)
            for s, r in zip(sessions, reactions, strict=True):
                assert not r.invalid_response
                s.record(slate, r)
        brain.close()
    assert api.calls == 16 * turns and api.peak_in_flight == 16 and not api.gather_timeouts


def test_the_vector_env_sends_every_sub_sessions_call_at_once():
    with fake.FakeMessagesAPI(gather=8) as api:
        envs = gym.make_vec(
            "simrec/GolfClaude-v0",
            num_envs=8,
            brain_kwargs=brain_kwargs(api.url, concurrency=8),
        )
        envs.reset(seed=0)
        envs.action_space.seed(0)
        for _ in range(2):
            _, _, _, _, info = envs.step(envs.action_space.sample())
        envs.close()
    assert api.peak_in_flight == 8  # a vector step has all its sub-sessions' calls in flight
    assert api.calls > 8  # (a sub-env whose user left resets instead of calling)
    assert len(set(info["reply"].tolist())) > 1  # each sub-session got its own answer


# -- accounting -------------------------------------------------------------------------------
def test_tokens_and_cost_add_up_to_the_servers_usage(api):
    api.script = [fake.tool(GOOD), fake.text("no"), fake.tool(GOOD), fake.error(529)]
    price = Price(input=1.0, output=2.0, cache_read=0.5, cache_write=3.0)
    brain = AnthropicBrain(**brain_kwargs(api.url, prices={DEFAULT_MODEL: price}))
    reactions = [react_once(brain, seed=i) for i in range(4)]
    s = brain.ledger.summary()
    assert s.input_tokens == api.usage["input_tokens"] == sum(r.input_tokens for r in reactions)
    assert s.output_tokens == api.usage["output_tokens"] == sum(r.output_tokens for r in reactions)
    assert s.cache_read_tokens == api.usage["cache_read_input_tokens"]
    assert s.cache_write_tokens == api.usage["cache_creation_input_tokens"]
    expected = (
        1.0 * s.input_tokens
        + 2.0 * s.output_tokens
        + 0.5 * s.cache_read_tokens
        + 3.0 * s.cache_write_tokens
    ) / 1e6
    assert s.cost_usd == pytest.approx(expected)
    assert (s.steps, s.repaired, s.api_calls) == (4, 1, 5)
    assert s.latency_ms_p50 > 0 and s.latency_ms_p99 >= s.latency_ms_p50
    report = format_usage_report(brain.ledger)
    assert "LLM calls: 5 sent (1 retried attempts)" in report and f"${s.cost_usd:.4f}" in report


def test_response_body_that_is_not_json_falls_back(api):
    api.default = lambda body, n: {"status": 200, "raw": b'{"content": [{"type": "tool_u'}
    brain = AnthropicBrain(**brain_kwargs(api.url, on_invalid="skip"))
    r = react_once(brain)
    assert r.invalid_response and brain.ledger.summary().errors == {"bad_response": 1}


def test_recorded_failures_replay_as_failures_but_are_retried_when_recording(tmp_path):
    path = str(tmp_path / "f.sqlite")
    with fake.FakeMessagesAPI() as api:
        api.default = fake.error(500)
        first = AnthropicBrain(
            **brain_kwargs(api.url, cache="record", cache_path=path, max_retries=0)
        )
        assert react_once(first).invalid_response
        first.close()
        replay = AnthropicBrain(cache="replay", cache_path=path)
        assert react_once(replay).brain == "anthropic->utility"  # the failure is replayed
        replay.close()
        api.default = fake.react_first
        again = AnthropicBrain(**brain_kwargs(api.url, cache="record", cache_path=path))
        healed = react_once(again)
        again.close()
    assert not healed.invalid_response and api.calls == 2
    assert react_once(AnthropicBrain(cache="replay", cache_path=path)).reply == healed.reply


def test_claude_preset_plays_the_shipped_golf_library(api):
    env = gym.make("simrec/GolfClaude-v0", brain_kwargs=brain_kwargs(api.url))
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["reaction"].brain == "anthropic" and info["reply"].startswith("(answer 1)")
    system = api.requests[0]["system"]
    assert env.unwrapped.session.persona.name in system[1]["text"]  # the card block
    assert env.unwrapped.session.persona.name not in system[0]["text"]  # shared instructions
    env.unwrapped.brain.close()


def test_an_httpx2_mock_transport_can_stand_in_for_the_server():
    import httpx2

    seen = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        body = fake.tool(GOOD)(json.loads(request.content), len(seen))["json"]
        return httpx2.Response(200, json=body)

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    brain = AnthropicBrain(api_key=SECRET, http_client=client, base_url="http://mock.invalid")
    r = react_once(brain)
    brain.close()
    assert r.clicked[0] and len(seen) == 1
    assert seen[0].url.path == "/v1/messages"
    auth = seen[0].headers.get("x-api-key", "") + seen[0].headers.get("authorization", "")
    assert SECRET in auth and SECRET.encode() not in seen[0].content  # a header, never the body


def test_a_run_whose_api_is_down_stops_instead_of_being_played_by_the_fallback():
    with socket.socket() as s:  # a port nobody listens on: every call is refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = claude_env(brain_kwargs(dead, max_retries=0, unreachable_after=3), max_turns=10)
    env.reset(seed=0)
    for _ in range(2):  # the first failures fall back, flagged
        _, _, _, _, info = env.step([0, 1, 2, 3])
        assert info["reaction"].invalid_response
    with pytest.raises(LLMConfigError, match="has not answered 3 calls in a row"):
        env.step([0, 1, 2, 3])
    env.unwrapped.brain.close()


def test_a_new_prompt_version_misses_the_recording_made_with_the_old_one(tmp_path):
    from dataclasses import replace

    path = str(tmp_path / "v.sqlite")
    slate = [[0, 1, 2, 3]]

    def react(brain):
        return brain.react([session()], slate, [None], [np.random.default_rng(0)])[0]

    with fake.FakeMessagesAPI() as api:
        brain = AnthropicBrain(**brain_kwargs(api.url, cache="record", cache_path=path))
        recorded = react(brain)
        recorded_version = brain.template.version
        brain.close()
    with AnthropicBrain(cache="replay", cache_path=path) as same:
        assert react(same) == replace(recorded, cost_usd=0.0)  # the same version replays
    with AnthropicBrain(cache="replay", cache_path=path) as bumped:
        bumped.template = replace(bumped.template, version=bumped.template.version + 1)
        with pytest.raises(CacheMissError, match=rf"persona-reaction@{recorded_version + 1}"):
            react(bumped)
