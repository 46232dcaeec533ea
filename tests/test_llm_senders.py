"""Sender processes: calls posted through the SDK in child processes answer, fail, count
and replay exactly as calls from the client's own threads, and the key stays out of the
children's arguments and environment (Linux: read from /proc)."""

from __future__ import annotations

import os

import pytest
from llm_support import SECRET
from test_llm_client import rank_request, valid_ranking

from simrec.brains.anthropic import AnthropicBrain
from simrec.errors import ArgumentError, ConfigError, LLMConfigError
from simrec.llm import LLMClient
from simrec.llm import fake_server as fake
from simrec.llm.backends import base
from simrec.llm.backends.senders import supported

pytest.importorskip("anthropic")
pytestmark = pytest.mark.skipif(
    not supported() or not os.path.exists("/proc/self/environ"), reason="Linux only"
)

RANKING = fake.tool(lambda items: {"ranking": ["b", "a", "c"]}, name="rank_items")


def run(senders: int, path: str) -> tuple[list, dict, list[dict]]:
    """Six calls, one at a time (the fake's prompt-cache accounting then does not depend
    on timing), then six at once: values, usage totals and the bodies the API received."""
    with (
        fake.FakeMessagesAPI(default=RANKING) as api,
        LLMClient(
            "anthropic",
            api_key=SECRET,
            base_url=api.url,
            cache="record",
            cache_path=path,
            concurrency=6,
            senders=senders,
        ) as client,
    ):
        assert (client.backend.transport.senders is not None) == (senders > 0)
        values = [client.complete(rank_request(s, 1), valid_ranking).value for s in range(6)]
        results = client.complete_many([rank_request(s, 2) for s in range(6)], [valid_ranking] * 6)
        values += [r.value for r in results]
        usage = client.ledger.summary("policy")
    totals = {k: getattr(usage, k) for k in ("api_calls", "input_tokens", "output_tokens")}
    return values, totals, sorted(api.requests, key=repr)


def test_calls_through_senders_answer_count_and_replay_as_calls_from_threads(tmp_path):
    threads = run(0, str(tmp_path / "threads.sqlite"))
    senders = run(2, str(tmp_path / "senders.sqlite"))
    assert senders == threads  # same answers, same accounting, same bodies sent
    assert threads[0][0] == ["b", "a", "c"]
    # A recording made through senders replays without them, with no cache miss.
    with LLMClient("anthropic", cache="replay", cache_path=str(tmp_path / "senders.sqlite")) as c:
        replayed = [c.complete(rank_request(s, 2), valid_ranking).value for s in range(6)]
    assert replayed == senders[0][6:]
    assert SECRET.encode() not in (tmp_path / "senders.sqlite").read_bytes()


def test_refusals_and_exhausted_retries_come_back_from_a_sender_unchanged():
    script = [fake.error(429, retry_after=0), fake.error(400, kind="invalid_request_error")]
    with (
        fake.FakeMessagesAPI(script=script) as api,
        LLMClient(
            "anthropic", api_key=SECRET, base_url=api.url, max_retries=0, senders=1
        ) as client,
    ):
        failed = client.complete(rank_request(0, 1), valid_ranking)
        assert not failed.ok and "rate_limit" in failed.problem
        assert failed.calls[0].error == "rate_limit"
        with pytest.raises(LLMConfigError, match="refused the request .* with HTTP 400") as info:
            client.complete(rank_request(1, 1), valid_ranking)
        assert info.value.status == 400
        # The key went over the socket: never into the child's arguments or environment.
        pid = client.backend.transport.senders._children[0].process.pid
        for part in ("cmdline", "environ"):
            with open(f"/proc/{pid}/{part}", "rb") as seen:
                assert SECRET.encode() not in seen.read()


def test_a_sender_that_dies_fails_the_calls_with_a_clear_error():
    with (
        fake.FakeMessagesAPI(default=RANKING) as api,
        LLMClient("anthropic", api_key=SECRET, base_url=api.url, senders=1) as client,
    ):
        assert client.complete(rank_request(0, 1), valid_ranking).ok
        process = client.backend.transport.senders._children[0].process
        process.kill()
        process.wait()
        with pytest.raises(LLMConfigError, match="sender process"):
            client.complete(rank_request(1, 1), valid_ranking)


def test_senders_are_used_by_default_only_with_cores_to_spare(monkeypatch):
    for cores, expected in ((1, 0), (2, 0), (3, 1), (4, 2), (32, 4)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert base.default_senders(64) == expected
    assert base.default_senders(16) == 0  # one process's threads keep up
    assert base.default_senders(64, http_client=object()) == 0  # cannot be shipped


def test_a_bad_sender_count_is_named():
    with pytest.raises(ConfigError, match="senders: expected an integer >= 0 or None"):
        LLMClient("anthropic", api_key=SECRET, senders=-1)
    with pytest.raises(ConfigError, match="senders: expected an integer >= 0 or None"):
        AnthropicBrain(api_key=SECRET, senders=-2)
    with pytest.raises(ArgumentError, match="argument 'senders'"):
        from simrec.policies.llm_policy import LLMPolicyConfig

        LLMPolicyConfig(senders=1.5)
