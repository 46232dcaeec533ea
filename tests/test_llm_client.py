"""The client layer as an LLM policy uses it: its own schema and validator, role 'policy'
accounted apart from the simulated users, concurrent calls, replay by place in the run."""

from __future__ import annotations

import json

import pytest
from llm_support import SECRET

from simrec.errors import CacheMissError, ConfigError
from simrec.llm import InvalidAnswer, LLMClient, LLMRequest, OutputSchema, SystemBlock, UsageLedger
from simrec.llm import fake_server as fake
from simrec.llm.accounting import format_ledger

pytest.importorskip("anthropic")

RANKING = OutputSchema(
    "rank_items",
    "The candidate ids, best first.",
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {"ranking": {"type": "array", "items": {"type": "string"}}},
        "required": ["ranking"],
    },
)
CANDIDATES = ["a", "b", "c"]


def rank_request(session: int, turn: int, role: str = "policy") -> LLMRequest:
    return LLMRequest(
        model="claude-haiku-5-5",
        system=(SystemBlock("You rank golf courses.", cache=True),),
        messages=({"role": "user", "content": f"Rank {CANDIDATES} for the user."},),
        output=RANKING,
        sample=("session", session, "turn", turn),
        role=role,
        prompt="rank@1",
        label=f"policy ranking (session {session}), turn {turn}",
    )


def valid_ranking(data):
    ranking = data.get("ranking")
    if sorted(ranking or []) != CANDIDATES:
        raise InvalidAnswer([f"ranking must order exactly {CANDIDATES}, got {ranking!r}"])
    return ranking


def test_a_policy_call_is_validated_repaired_and_accounted_apart(tmp_path):
    ledger = UsageLedger()
    script = [
        fake.tool({"ranking": ["a", "zz"]}, name="rank_items"),
        fake.tool({"ranking": ["c", "a", "b"]}, name="rank_items"),
    ]
    with fake.FakeMessagesAPI(script=script) as api:
        policy = LLMClient("anthropic", api_key=SECRET, base_url=api.url, ledger=ledger)
        users = LLMClient("anthropic", api_key=SECRET, base_url=api.url, ledger=ledger)
        result = policy.complete(rank_request(0, 1), valid_ranking)
        users.complete(rank_request(0, 1, role="user"))
        policy.close()
        users.close()
    assert result.ok and result.value == ["c", "a", "b"] and result.repaired
    assert "ranking must order exactly" in json.dumps(api.requests[1]["messages"][-1])
    ledger.add_step(repaired=True, role="policy")
    assert ledger.roles == ["user", "policy"]
    assert ledger.summary("policy").api_calls == 2 and ledger.summary("user").api_calls == 1
    assert ledger.summary().api_calls == 3
    assert (
        ledger.summary("policy").input_tokens + ledger.summary("user").input_tokens
        == api.usage["input_tokens"]
    )
    report = format_ledger(ledger)
    assert "simulated-user LLM calls: 1 sent" in report and "policy LLM calls: 2 sent" in report


def test_many_calls_are_in_flight_at_once_and_keep_their_order():
    with fake.FakeMessagesAPI(gather=8) as api:
        client = LLMClient("anthropic", api_key=SECRET, base_url=api.url, concurrency=8)
        results = client.complete_many([rank_request(i, 1) for i in range(8)])
        client.close()
    assert api.peak_in_flight == 8
    assert all(r.ok for r in results)


def test_a_policy_replay_is_keyed_on_its_place_in_the_run(tmp_path):
    path = str(tmp_path / "p.sqlite")
    answer = fake.tool(lambda items: {"ranking": ["b", "a", "c"]}, name="rank_items")
    with (
        fake.FakeMessagesAPI(default=answer) as api,
        LLMClient(
            "anthropic", api_key=SECRET, base_url=api.url, cache="record", cache_path=path
        ) as c,
    ):
        c.complete_many([rank_request(s, 1) for s in (0, 1)], [valid_ranking] * 2)
    with LLMClient("anthropic", cache="replay", cache_path=path) as replay:
        assert replay.complete(rank_request(1, 1), valid_ranking).value == ["b", "a", "c"]
        with pytest.raises(CacheMissError, match=r"policy ranking \(session 2\), turn 1"):
            replay.complete(rank_request(2, 1), valid_ranking)
        assert replay.ledger.summary("policy").cache_hits == 1
    assert SECRET.encode() not in (tmp_path / "p.sqlite").read_bytes()


def test_bad_options_are_named():
    with pytest.raises(ConfigError, match="unknown LLM backend 'gemini'"):
        LLMClient("gemini")
    with pytest.raises(ConfigError, match="concurrency: expected an integer >= 1"):
        LLMClient("anthropic", api_key=SECRET, concurrency=0)
    with pytest.raises(ConfigError, match="role: expected one of user, policy"):
        LLMRequest("m", (), ({"role": "user", "content": "x"},), role="critic")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"timeout": float("nan")},
            "LLMClient: argument 'timeout': expected a finite number, got nan",
        ),
        ({"timeout": "60"}, "LLMClient: argument 'timeout': expected a finite number, got '60'"),
        ({"timeout": 0.0}, "LLMClient: expected timeout > 0 seconds"),
        ({"max_retries": -1}, "LLMClient: expected timeout > 0 seconds, max_retries >= 0"),
        ({"max_retries": 2.5}, "LLMClient: argument 'max_retries': expected an integer, got 2.5"),
    ],
)
def test_nonsense_timeouts_and_retry_budgets_are_refused_up_front(kwargs, message):
    # `--timeout nan` used to be accepted; every call then failed as "Connection error"
    with pytest.raises(ConfigError) as info:
        LLMClient("anthropic", **kwargs)
    assert str(info.value).startswith(message)
