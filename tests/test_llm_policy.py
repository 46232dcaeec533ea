"""One LLM policy object serving many visits: concurrent rounds of calls (episodes run at
once, vector sub-envs), visits keyed by session id, replays that do not depend on the
layout, usage taken per visit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import small_catalog
from llm_policy_support import env, options, personas, ranking

from simrec.errors import ConfigError
from simrec.llm import fake_server as fake
from simrec.policies.batching import act_together
from simrec.policies.llm_reranker import LLMRerankerPolicy
from simrec.policies.llm_scripted import scripted_messages
from simrec.runner import run_sessions
from simrec.vector import RecSessionVectorEnv

pytest.importorskip("anthropic")


def vector(n: int, **kwargs) -> RecSessionVectorEnv:
    return RecSessionVectorEnv(
        n, small_catalog(), personas(), slate_size=4, **{"max_turns": 3, **kwargs}
    )


def play_vector(policy, envs, seed: int, visits: int) -> dict[int, list[list[int]]]:
    """Step ``envs`` until ``visits`` visits ended; each visit's slates by session id."""
    shown: dict[int, list[list[int]]] = {}
    obs, infos = envs.reset(seed=seed)
    ended = 0
    while ended < visits:
        sids = infos["session_id"].copy()
        resetting = policy._resetting.copy()
        actions = policy.act(obs, infos)
        obs, rewards, terminated, truncated, infos = envs.step(actions)
        policy.update(obs, rewards, infos, terminated, truncated)
        for i, sid in enumerate(sids.tolist()):
            if not resetting[i]:
                shown.setdefault(sid, []).append(actions[i].tolist())
        ended += int((terminated | truncated)[[s < 2**32 for s in sids.tolist()]].sum())
    return shown


def test_a_vector_step_sends_every_sub_envs_call_at_once():
    with fake.FakeMessagesAPI(gather=6, default=scripted_messages()) as api:
        envs = vector(6)
        policy = LLMRerankerPolicy(envs, **options(api.url, concurrency=6))
        obs, infos = envs.reset(seed=0)
        slates = policy.act(obs, infos)
        policy.close()
    assert slates.shape == (6, 4) and api.calls == 6
    assert api.peak_in_flight == 6 and not api.gather_timeouts  # one call's latency a step


def test_episodes_run_one_at_a_time_replay_a_vector_recording(tmp_path):
    path = str(tmp_path / "policy.sqlite")
    with fake.FakeMessagesAPI(default=scripted_messages()) as api:
        envs = vector(4)
        policy = LLMRerankerPolicy(envs, **options(api.url, cache="record", cache_path=path))
        recorded = play_vector(policy, envs, seed=10, visits=4)
        policy.close()
    single = env(max_turns=3)
    replay = LLMRerankerPolicy(single, cache="replay", cache_path=path, candidates=10)
    shown: dict[int, list[list[int]]] = {}
    run_sessions(
        single,
        replay,
        4,
        seed=10,
        on_step=lambda e, info: shown.setdefault(info["session_id"], []).append(info["slate"]),
    )
    replay.close()
    assert sorted(shown) == [10, 11, 12, 13]  # sub-env i's first visit is session 10 + i
    assert shown == {sid: recorded[sid][: len(shown[sid])] for sid in shown}
    assert all(len(recorded[sid]) == len(shown[sid]) for sid in shown)
    assert replay.ledger.summary("policy").api_calls == 0
    assert replay.ledger.summary("policy").cache_hits == sum(map(len, shown.values()))


def test_a_sub_env_whose_visit_ended_gets_no_call_on_its_reset_step():
    with fake.FakeMessagesAPI(default=ranking(lambda c: c)) as api:
        envs = vector(3, max_turns=2)
        policy = LLMRerankerPolicy(envs, **options(api.url))
        obs, infos = envs.reset(seed=0)
        for _ in range(3):  # turn 1, turn 2 (every visit ends), the resets
            before = api.calls
            actions = policy.act(obs, infos)
            obs, rewards, terminated, truncated, infos = envs.step(actions)
            policy.update(obs, rewards, infos, terminated, truncated)
        policy.close()
    assert before == 6 and api.calls == 6  # the reset step called nobody
    assert infos["turn"].tolist() == [0, 0, 0]
    assert all(sid >= 2**32 for sid in infos["session_id"].tolist())  # the second visits


def test_a_vector_policy_must_be_told_which_visits_ended():
    with fake.FakeMessagesAPI(default=ranking(lambda c: c)) as api:
        envs = vector(2)
        policy = LLMRerankerPolicy(envs, **options(api.url))
        obs, infos = envs.reset(seed=0)
        obs, rewards, terminated, truncated, infos = envs.step(policy.act(obs, infos))
        with pytest.raises(ConfigError, match=r"call policy.update\(obs, rewards, infos"):
            policy.act(obs, infos)
        with pytest.raises(ConfigError, match="needs the step's terminated and truncated"):
            policy.update(obs, rewards, infos)
        policy.close()


def test_one_policy_object_serves_many_episodes_in_one_round():
    with fake.FakeMessagesAPI(gather=3, default=ranking(lambda c: c[::-1])) as api:
        policy = LLMRerankerPolicy(env(), **options(api.url, concurrency=3))
        lanes = [env() for _ in range(3)]
        starts = [lane.reset(seed=s, options={"session_id": s}) for s, lane in enumerate(lanes)]
        actions = act_together([policy] * 3, [o for o, _ in starts], [i for _, i in starts])
        peak, api.gather = api.peak_in_flight, 0
        alone = LLMRerankerPolicy(env(), **options(api.url))
        again = [alone.act(*start) for start in starts]
        policy.close()
        alone.close()
    assert peak == 3 and not api.gather_timeouts
    assert [a.tolist() for a in actions] == [a.tolist() for a in again]  # order-independent
    assert sorted(policy._visits) == [0, 1, 2]


def test_usage_is_taken_per_visit():
    with fake.FakeMessagesAPI(default=ranking(lambda c: c)) as api:
        policy = LLMRerankerPolicy(env(), **options(api.url))
        lanes = [env() for _ in range(2)]
        starts = [lane.reset(seed=s, options={"session_id": s}) for s, lane in enumerate(lanes)]
        policy.act_many([o for o, _ in starts], [i for _, i in starts])
        first, second = policy.take_usage(0), policy.take_usage(1)
        policy.close()
    summary = policy.ledger.summary("policy")
    assert first["input_tokens"] > 0 and second["input_tokens"] > 0
    assert first["input_tokens"] + second["input_tokens"] == summary.input_tokens
    assert first["output_tokens"] + second["output_tokens"] == summary.output_tokens
    assert first["cost_usd"] + second["cost_usd"] == pytest.approx(summary.cost_usd)
    assert policy.take_usage(0)["input_tokens"] == 0  # taken once


def test_an_info_without_a_session_id_is_refused():
    policy = LLMRerankerPolicy(env())
    with pytest.raises(ConfigError, match="info has no 'session_id'"):
        policy.act({}, {"turn": 0, "reply": ""})


def test_a_step_the_policy_did_not_see_is_caught_up_from_the_info():
    with fake.FakeMessagesAPI(default=ranking(lambda c: c)) as api:
        e = env()
        policy = LLMRerankerPolicy(e, **options(api.url))
        obs, info = e.reset(seed=0)
        obs, _, _, _, info = e.step(policy.act(obs, info))  # no update() call
        policy.act(obs, info)
        policy.close()
    visit = policy._visits[0]
    assert visit.turn == 1 and visit.steps[0].reply == info["reply"]
    assert np.array_equal(visit.steps[0].slate, info["slate"])


@pytest.mark.parametrize("name", ["llm_reranker", "llm_conversational"])
def test_each_llm_policy_shows_valid_distinct_slates_reproducibly(name):
    from simrec.policies import make_policy

    runs = []
    with fake.FakeMessagesAPI(default=scripted_messages()) as api:
        for _ in range(2):
            e = env(conversational=name == "llm_conversational")
            policy = make_policy(name, e, seed=3, **options(api.url))
            interactions, _ = run_sessions(e, policy, 3, seed=0).frames()
            policy.close()
            runs.append(interactions)
            for slate in interactions.groupby(["session_id", "turn"])["item_index"].apply(list):
                assert len(slate) == 4 and len(set(slate)) == 4 and min(slate) >= 0
    assert runs[0].equals(runs[1])


def test_a_policy_of_your_own_is_a_template_file_a_schema_and_a_parser(tmp_path):
    from simrec.llm.request import InvalidAnswer
    from simrec.policies.llm_policy import Choice, LLMPolicy
    from simrec.policies.llm_prompts import ids_schema, load_policy_template, output_schema

    shipped = (
        Path(__file__).parents[1] / "simrec/policies/templates/llm-reranker.yaml"
    ).read_text()
    template = tmp_path / "pick-one.yaml"
    template.write_text(shipped.replace("name: llm-reranker", "name: pick-one"))

    class PickOne(LLMPolicy):
        name = "pick_one"
        template_name = str(template)

        def schema(self):
            return output_schema(self.template, {"ranking": ids_schema("ids")})

        def parse(self, data, visit, candidates):
            if not data.get("ranking"):
                raise InvalidAnswer(["empty"])
            return Choice(self.ranked(data["ranking"], candidates))

    with fake.FakeMessagesAPI(default=ranking(lambda c: c[::-1])) as api:
        e = env()
        policy = PickOne(e, **options(api.url))
        obs, info = e.reset(seed=0)
        slate = policy.act(obs, info)
        policy.close()
    assert len(slate) == 4 and api.requests[0]["tools"][0]["name"] == "rank_candidates"
    assert load_policy_template(str(template)).tag == "pick-one@1"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nversion: 1\n")
    with pytest.raises(ConfigError, match="broken.yaml: missing field"):
        load_policy_template(str(broken))


def test_each_turn_logs_what_its_slate_cost_the_policy_whatever_the_concurrency(tmp_path):
    path = str(tmp_path / "p.sqlite")
    with fake.FakeMessagesAPI(default=scripted_messages()) as api:
        policy = LLMRerankerPolicy(env(), **options(api.url, cache="record", cache_path=path))
        together = run_sessions(env(), policy, 4, seed=0, concurrency=3).frames()[1]
        policy.close()
    spent = policy.ledger.summary("policy")
    assert together["policy_input_tokens"].sum() == spent.input_tokens == api.usage["input_tokens"]
    assert together["policy_output_tokens"].sum() == spent.output_tokens
    assert together["policy_cost_usd"].sum() == pytest.approx(spent.cost_usd)
    assert (together["policy_input_tokens"] > 0).all() and (together["input_tokens"] == 0).all()
    replay = LLMRerankerPolicy(env(), cache="replay", cache_path=path, candidates=10)
    alone = run_sessions(env(), replay, 4, seed=0).frames()[1]
    replay.close()
    columns = ["reply", "policy_input_tokens", "policy_output_tokens", "policy_latency_ms"]
    pd.testing.assert_frame_equal(alone[columns], together[columns])  # the recording's figures
    assert (alone["policy_cost_usd"] == 0).all()  # replayed calls cost nothing
