"""Claude-played datasets: priced turns, and batch mode through the real anthropic SDK.

The Messages and Message Batches APIs are faked on 127.0.0.1 by
:class:`~simrec.llm.fake_server.FakeMessagesAPI`, which answers batch items like Messages
calls, ends a batch only after a few status checks and returns results in shuffled order.
Its default answer clicks the first item of the slate, so a result matched to the wrong
request would name items outside the slate and fail validation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llm_support import SECRET

from simrec.datagen import generate, load_dataset
from simrec.datagen.batches import BatchBrain
from simrec.errors import ConfigError
from simrec.llm import fake_server as fake
from simrec.llm.accounting import BATCH_DISCOUNT, DEFAULT_PRICES

pytest.importorskip("anthropic")

PRICE = DEFAULT_PRICES["claude-haiku-5-5"]  # the default model


def dollars(usage: dict[str, int]) -> float:
    return PRICE.cost(
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cache_read_input_tokens"],
        usage["cache_creation_input_tokens"],
    )


def claude(api: fake.FakeMessagesAPI, **extra) -> dict:
    """generate() options for Claude personas served by ``api``."""
    return {
        "max_turns": 3,
        "shard_size": 5,
        "brain": "anthropic",
        "brain_kwargs": {"base_url": api.url, "max_retries": 0, "timeout": 60.0, **extra},
    }


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)


def assert_no_secret(path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file


def test_a_claude_dataset_costs_what_the_api_reported(tmp_path):
    with fake.FakeMessagesAPI() as api:
        ds = generate("golf", "random", 5, 0, tmp_path / "run", **claude(api, concurrency=4))
    turns = ds.turns
    assert (turns["brain"] == "anthropic").all() and len(turns) == api.calls
    assert turns["input_tokens"].sum() == api.usage["input_tokens"]
    assert turns["cost_usd"].sum() == pytest.approx(dollars(api.usage))
    assert ds.manifest["usage"]["cost_usd"] == pytest.approx(dollars(api.usage))
    assert dollars(api.usage) > 0
    assert_no_secret(tmp_path)


def test_simrec_generate_reports_what_the_claude_run_cost(tmp_path, monkeypatch, capsys):
    from simrec.cli import main

    cache = tmp_path / "golf.sqlite"
    with fake.FakeMessagesAPI(default=fake.text("no tool call")) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        args = ["generate", "golf", "--brain", "anthropic", "--sessions", "3", "--max-turns", "2"]
        args += ["--cache", "record", "--cache-path", str(cache), "--on-invalid", "skip"]
        assert main([*args, "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    turns = out.split(" turns, ")[0].rsplit(" ", 1)[-1]
    assert f"invalid responses: {turns} of {turns} turns" in out  # never a tool call
    assert f"input {api.usage['input_tokens']:,}," in out
    assert f"estimated cost: ${dollars(api.usage):.4f}" in out and "latency per turn ms" in out
    assert SECRET not in out and cache.is_file()  # the LLM options reached the brain
    assert_no_secret(tmp_path)


def test_simrec_generate_refuses_llm_options_without_the_anthropic_brain(tmp_path, capsys):
    from simrec.cli import main

    code = main(["generate", "golf", "--sessions", "2", "--out", str(tmp_path / "run"),
                 "--cache", "replay"])  # fmt: skip
    assert code == 2 and "--cache applies only with --brain anthropic" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_key_in_brain_kwargs_is_refused_because_the_manifest_records_them(tmp_path):
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        generate("golf", "random", 2, 0, tmp_path / "run", brain="anthropic",
                 brain_kwargs={"api_key": SECRET})  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_batch_mode_matches_shuffled_results_retries_errors_and_repairs_at_half_price(tmp_path):
    invalid = fake.tool({"clicked": ["not-in-the-slate"], "reply": "hm", "leave": False})
    with fake.FakeMessagesAPI(script=[fake.error(529, kind="overloaded_error"), invalid]) as api:
        ds = generate("golf", "popularity", 5, 0, tmp_path / "run", batch=True, batch_poll=0.01,
                      **claude(api))  # fmt: skip
        live_calls = api.calls - sum(len(b) for b in api.batches.values())
    turns, inter = ds.turns, ds.interactions
    assert not turns["invalid_response"].any() and (turns["brain"] == "anthropic").all()
    # one click per turn, on the first slot: every result reached its own request
    clicks = inter[inter["clicked"]]
    assert len(clicks) == len(turns) and (clicks["position"] == 0).all()
    steps = int(turns["turn"].max())
    assert len(api.batches) == steps + 1  # one batch per step, plus the errored item again
    assert live_calls == 1  # the invalid answer's repair
    live = {k: api.usage[k] - api.batch_usage[k] for k in api.usage}
    expected = BATCH_DISCOUNT * dollars(api.batch_usage) + dollars(live)
    assert turns["cost_usd"].sum() == pytest.approx(expected)
    assert ds.manifest["usage"]["cost_usd"] == pytest.approx(expected)
    assert not (tmp_path / "run" / "_batches.json").exists()  # the ledger is cleaned up
    assert_no_secret(tmp_path)


def test_items_that_keep_failing_are_reported_and_handled_by_the_fallback(tmp_path):
    victim: list[str] = []

    def overloaded_for_the_first_request(body, n):
        key = json.dumps(body, sort_keys=True)
        victim[:] = victim or [key]
        if key == victim[0]:
            return fake.error(529, kind="overloaded_error")(body, n)
        return fake.react_first(body, n)

    with fake.FakeMessagesAPI(default=overloaded_for_the_first_request) as api:
        ds = generate("golf", "popularity", 5, 0, tmp_path / "run", batch=True, batch_poll=0.01,
                      **claude(api))  # fmt: skip
    bad = ds.turns[ds.turns["invalid_response"]]
    # popularity shows the same first slate to every visit of a persona: same request
    assert len(bad) >= 1 and (bad["brain"] == "anthropic->utility").all()
    assert (bad["turn"] == 1).all() and bad["persona_id"].nunique() == 1
    assert (bad["cost_usd"] == 0.0).all()
    assert ds.manifest["usage"]["invalid_responses"] == len(bad)
    tries = sum(victim[0] == json.dumps(r, sort_keys=True) for r in api.requests)
    assert tries == 3 * len(bad)  # the first try and two resubmissions each


def test_a_recorded_batch_run_regenerates_from_the_cache_at_no_cost(tmp_path, monkeypatch):
    cache = str(tmp_path / "golf.sqlite")
    with fake.FakeMessagesAPI() as api:
        recorded = generate("golf", "popularity", 5, 0, tmp_path / "a", batch=True,
                            batch_poll=0.01, **claude(api, cache="record", cache_path=cache))  # fmt: skip
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # replay needs neither key nor server
    replayed = generate("golf", "popularity", 5, 0, tmp_path / "b", batch=True, batch_poll=0.01,
                        brain="anthropic", max_turns=3, shard_size=5,
                        brain_kwargs={"cache": "replay", "cache_path": cache})  # fmt: skip
    assert recorded.turns["cost_usd"].sum() > 0 and replayed.turns["cost_usd"].sum() == 0
    columns = [c for c in recorded.turns.columns if c != "cost_usd"]
    assert replayed.turns[columns].equals(recorded.turns[columns])
    assert replayed.interactions.equals(recorded.interactions)
    assert_no_secret(tmp_path)


def test_a_restart_mid_batch_picks_the_pending_batch_up(tmp_path):
    from simrec.env import RecSessionEnv
    from simrec.presets import find_preset

    with fake.FakeMessagesAPI() as api:
        options = {"base_url": api.url, "max_retries": 0}

        def step(on_submitted=None):
            env = RecSessionEnv(
                **{**find_preset("golf").kwargs, "brain": "anthropic", "brain_kwargs": options}
            )
            env.reset(seed=3)
            brain = BatchBrain(env.brain, ledger, poll_interval=0.01, on_submitted=on_submitted)
            return brain.react([env.session], [[0, 1, 2, 3, 4]], [None], [env.np_random])[0]

        def crash(batch_id):
            raise KeyboardInterrupt(batch_id)

        ledger = tmp_path / "_batches.json"
        with pytest.raises(KeyboardInterrupt):
            step(on_submitted=crash)
        assert len(api.batches) == 1 and json.loads(ledger.read_text())
        reaction = step()  # a new process would build the same request again
        assert len(api.batches) == 1  # no second submission: the pending batch was reused
        assert reaction.clicked == [True, False, False, False, False]


def test_simrec_generate_batch_killed_mid_batch_resumes_without_paying_twice(tmp_path):
    root = Path(__file__).resolve().parents[1]
    args = ["golf", "--brain", "anthropic", "--batch", "--batch-poll", "0.01", "--policy",
            "popularity", "--sessions", "4", "--shard-size", "4", "--max-turns", "3"]  # fmt: skip

    def command(api, out, *extra):
        env = {**os.environ, "PYTHONPATH": str(root), "ANTHROPIC_BASE_URL": api.url}
        cmd = [sys.executable, "-m", "simrec.cli", "generate", *args, "--out", str(out), *extra]
        return cmd, env

    with fake.FakeMessagesAPI() as api:
        cmd, env = command(api, tmp_path / "ref")
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        submitted = len(api.batches)
    with fake.FakeMessagesAPI(batch_polls=10**9) as api:  # the first batch never ends ...
        cmd, env = command(api, tmp_path / "run")
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
        ledger = tmp_path / "run" / "_batches.json"
        deadline = time.monotonic() + 600  # a safety net, not a race: the run waits
        while not ledger.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # ... so the run dies waiting for it
        proc.wait()
        assert proc.returncode == -signal.SIGKILL and len(api.batches) == 1
        api.batch_polls = 1
        cmd, env = command(api, tmp_path / "run", "--resume")
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        assert len(api.batches) == submitted  # the pending batch was picked up, not resent
    ref, run = load_dataset(tmp_path / "ref"), load_dataset(tmp_path / "run")
    assert run.interactions.equals(ref.interactions) and run.turns.equals(ref.turns)
    assert run.turns["cost_usd"].sum() == pytest.approx(ref.turns["cost_usd"].sum())
