"""Data generation: same rows as the env loop, stable dtypes, formats, manifest, safe writes."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simrec
from simrec.brains import UtilityBrain, register_brain
from simrec.cli import main
from simrec.datagen import (
    DATASET_TURN_DTYPES,
    PERSONA_DTYPES,
    SESSION_DTYPES,
    TABLES,
    LaneStepper,
    TokenPrices,
    formats,
    generate,
    load_dataset,
)
from simrec.env import RecSessionEnv
from simrec.errors import ActionError, ConfigError, DatasetError
from simrec.events import INTERACTION_DTYPES, sessions_frame
from simrec.policies import PolicyUsage, make_policy
from simrec.presets import find_preset
from simrec.runner import run_sessions

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"max_turns": 6}


def dir_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` by relative name."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def dtypes_of(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items()}


@pytest.mark.parametrize("backend", ["single", "vector"])
@pytest.mark.parametrize("policy", ["random", "popularity"])
def test_generated_rows_equal_the_env_loop_with_the_same_seeds(policy, backend):
    ds = generate(
        "golf", policy, sessions=24, seed=7, shard_size=5, lanes=3, backend=backend, **SMALL
    )
    env = RecSessionEnv(**{**find_preset("golf").kwargs, **SMALL})
    interactions, turns = run_sessions(env, make_policy(policy, env, seed=7), 24, seed=7).frames()
    pd.testing.assert_frame_equal(ds.interactions, interactions, check_exact=True)
    pd.testing.assert_frame_equal(ds.turns.drop(columns="cost_usd"), turns, check_exact=True)
    assert sorted(ds.sessions["session_id"]) == list(range(7, 31))


def test_tables_have_the_documented_dtypes_and_consistent_totals():
    ds = generate("golf", "random", sessions=20, seed=0, shard_size=8, **SMALL)
    assert dtypes_of(ds.interactions) == INTERACTION_DTYPES
    assert dtypes_of(ds.turns) == DATASET_TURN_DTYPES
    assert dtypes_of(ds.sessions) == SESSION_DTYPES
    assert dtypes_of(ds.personas) == PERSONA_DTYPES
    assert ds.manifest["rows"] == {t: len(ds.table(t)) for t in TABLES}
    per_session = ds.turns.groupby("session_id")["reward"].sum().to_numpy()
    np.testing.assert_allclose(ds.sessions["return"].to_numpy(), per_session)
    assert set(ds.interactions["item_id"].dropna()) <= set(ds.items["item_id"])
    assert set(ds.sessions["persona_id"]) <= set(ds.personas["persona_id"])
    assert (ds.turns["cost_usd"] == 0).all() and ds.manifest["usage"]["cost_usd"] == 0


def test_docs_list_every_column_of_every_table():
    text = (ROOT / "docs" / "datasets.md").read_text()
    for dtypes in (INTERACTION_DTYPES, DATASET_TURN_DTYPES, SESSION_DTYPES, PERSONA_DTYPES):
        for column, dtype in dtypes.items():
            assert f"| `{column}` | {dtype} |" in text, column


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_every_format_round_trips_values_and_dtypes_exactly(tmp_path, fmt):
    memory = generate("golf", "random", sessions=12, seed=3, shard_size=5, **SMALL)
    ds = generate("golf", "random", 12, 3, tmp_path / "run", format=fmt, shard_size=5, **SMALL)
    loaded = load_dataset(tmp_path / "run")
    for name in TABLES:
        pd.testing.assert_frame_equal(loaded.table(name), memory.table(name), check_exact=True)
        pd.testing.assert_frame_equal(ds.table(name), memory.table(name), check_exact=True)
    assert sorted(p.name for p in (tmp_path / "run" / "turns").iterdir()) == [
        f"part-0000{i}.{fmt}" for i in range(3)
    ]
    # awkward text survives: empty reply vs missing, quotes, commas, newlines, tabs
    turns = memory.turns.head(3).copy()
    turns["reply"] = pd.array(["", 'said "hi", then\nleft\t!', None], dtype="string")
    file = tmp_path / f"t.{fmt}"
    file.write_bytes(formats.encode(turns, fmt))
    back = formats.decode(file, fmt, DATASET_TURN_DTYPES)
    pd.testing.assert_frame_equal(back, turns.reset_index(drop=True), check_exact=True)


def test_manifest_records_config_versions_usage_and_checksums(tmp_path):
    ds = generate("golf", "popularity", 10, 5, tmp_path / "run", shard_size=4, **SMALL)
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert m == ds.manifest
    assert m["seed"] == 5 and m["config"]["policy"] == "popularity"
    assert m["config"]["env_kwargs"]["max_turns"] == 6
    assert len(m["config_hash"]) == 64
    assert m["brain"] == "utility" and m["model"] is None and m["prompt_version"] is None
    assert m["simrec_version"] == simrec.__version__
    assert m["dependencies"]["numpy"] == np.__version__
    for spec in m["tables"].values():
        for f in spec["files"]:
            data = (tmp_path / "run" / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    assert not (tmp_path / "run" / "_progress.json").exists()


@pytest.mark.parametrize(("first", "second"), [("single", "single"), ("single", "vector")])
def test_workers_lanes_and_backend_do_not_change_a_single_byte(tmp_path, first, second):
    generate("golf", "random", 30, 1, tmp_path / "a", shard_size=7, backend=first, **SMALL)
    generate(
        "golf", "random", 30, 1, tmp_path / "b", shard_size=7, workers=2, lanes=4,
        backend=second, **SMALL,
    )  # fmt: skip
    assert dir_digest(tmp_path / "a") == dir_digest(tmp_path / "b")


def test_vector_backend_matches_the_env_loop_over_long_sessions_with_requests():
    # 20 turns: drifts and steering requests switch on (constraint, satisfies_constraint)
    options = {"max_turns": 20, "shard_size": 40}
    single = generate("golf", "random", 120, 11, backend="single", **options)
    vector = generate("golf", "random", 120, 11, backend="vector", lanes=16, **options)
    assert vector.turns["constraint"].notna().any()
    assert vector.interactions["satisfies_constraint"].notna().any()
    for name in TABLES:
        pd.testing.assert_frame_equal(vector.table(name), single.table(name), check_exact=True)


class _Repeating:
    """Shows its first item twice (de-duplicated) and reads nothing."""

    observes = False

    def __init__(self, env, seed):
        self.k = env.unwrapped.slate_size

    def act(self, observation, info):
        return np.array([3, 3, *range(10, 10 + self.k - 2)])


def test_vector_backend_deduplicates_slates_like_the_env():
    single = generate("golf", _Repeating, 8, 0, backend="single", **SMALL)
    vector = generate("golf", _Repeating, 8, 0, backend="vector", **SMALL)
    assert (vector.turns["duplicates"] == 1).all()
    assert vector.interactions.loc[vector.interactions["position"] == 1, "item_id"].isna().all()
    pd.testing.assert_frame_equal(vector.interactions, single.interactions, check_exact=True)


class _OutOfRange(_Repeating):
    def act(self, observation, info):
        return np.array([0, 1, 2, 3, 10_000])


def test_vector_backend_rejects_a_bad_action_like_the_env():
    with pytest.raises(ActionError, match="slot 4 holds item index 10000, out of range"):
        generate("golf", _OutOfRange, 4, 0, backend="vector", **SMALL)


def test_auto_backend_runs_observing_policies_and_vector_refuses_them():
    auto = generate("golf", "greedy", 6, 2, shard_size=3, **SMALL)
    single = generate("golf", "greedy", 6, 2, shard_size=3, backend="single", **SMALL)
    pd.testing.assert_frame_equal(auto.turns, single.turns, check_exact=True)
    with pytest.raises(ConfigError, match="backend 'vector': policy 'greedy' reads observations"):
        generate("golf", "greedy", 2, 0, backend="vector", **SMALL)
    custom = generate("golf", lambda env, seed: make_policy("greedy", env, seed), 6, 2,
                      shard_size=3, **SMALL)  # fmt: skip
    pd.testing.assert_frame_equal(custom.turns, single.turns, check_exact=True)
    with pytest.raises(ConfigError, match="backend 'vector'.*reads observations"):
        generate("golf", lambda env, seed: make_policy("greedy", env, seed), 2, 0,
                 backend="vector", **SMALL)  # fmt: skip
    with pytest.raises(ConfigError, match="backend: expected one of auto, vector, single"):
        generate("golf", "random", 2, 0, backend="fast")


def test_load_detects_an_edited_file_naming_it(tmp_path):
    generate("golf", "random", 6, 0, tmp_path / "run", format="csv", shard_size=3, **SMALL)
    load_dataset(tmp_path / "run")
    victim = tmp_path / "run" / "turns" / "part-00001.csv"
    data = bytearray(victim.read_bytes())
    at = data.index(b",False,") + 1
    data[at : at + 5] = b"True "  # same size, different content
    victim.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"part-00001\.csv: checksum mismatch"):
        load_dataset(tmp_path / "run")
    victim.write_bytes(bytes(data[:-10]))
    with pytest.raises(DatasetError, match=r"part-00001\.csv: size .* differs"):
        load_dataset(tmp_path / "run")
    victim.unlink()
    with pytest.raises(DatasetError, match=r"part-00001\.csv: listed in the manifest but missing"):
        load_dataset(tmp_path / "run")
    with pytest.raises(DatasetError, match="not a simrec dataset"):
        load_dataset(tmp_path)


def edit_manifest(run: Path, edit) -> Path:
    """Apply ``edit`` to the manifest of ``run`` in place; returns the manifest's path."""
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2))
    return path


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("seed", lambda m: m.update(seed=m["seed"] + 1)),
        ("config", lambda m: m["config"].update(policy="popularity")),
        ("config", lambda m: m["config"].update(seed=m["config"]["seed"] + 1)),
        ("rows.turns", lambda m: m["rows"].update(turns=m["rows"]["turns"] + 1)),
        ("rows.interactions", lambda m: m["tables"]["interactions"]["files"][0].update(rows=1)),
    ],
)
def test_load_refuses_a_hand_edited_manifest_naming_the_field(tmp_path, field, edit):
    run = tmp_path / "run"
    generate("golf", "random", 6, 0, run, format="csv", shard_size=3, **SMALL)
    path = edit_manifest(run, edit)
    named = re.escape(f"{path}: {field}: ")
    with pytest.raises(DatasetError, match=rf"{named}.*edited after generation"):
        load_dataset(run)
    with pytest.raises(DatasetError, match=named):
        load_dataset(run, verify=False)


def test_reading_a_table_checks_its_files_row_counts_against_the_manifest(tmp_path):
    run = tmp_path / "run"
    generate("golf", "random", 6, 0, run, format="csv", shard_size=3, **SMALL)

    def move_a_row(manifest: dict) -> None:  # totals still agree; the files do not
        first, second = manifest["tables"]["turns"]["files"]
        first["rows"] += 1
        second["rows"] -= 1

    path = edit_manifest(run, move_a_row)
    ds = load_dataset(run)
    assert len(ds.interactions) == ds.manifest["rows"]["interactions"]
    named = re.escape(f"{path}: tables.turns: turns/part-00000.csv holds ")
    with pytest.raises(DatasetError, match=named):
        ds.table("turns")


def test_refuses_existing_output_without_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["generate", "golf", "--sessions", "4", "--out", str(out), "--max-turns", "3"]
    assert main(args) == 0
    first = dir_digest(out)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already exists and is not empty" in err and "--resume" in err and "--overwrite" in err
    assert dir_digest(out) == first
    assert main([*args, "--overwrite", "--seed", "9"]) == 0
    assert load_dataset(out).manifest["seed"] == 9
    assert main([*args, "--resume", "--seed", "9", "--policy", "popularity"]) == 2
    assert "differing: policy" in capsys.readouterr().err
    assert main([*args, "--resume", "--seed", "9"]) == 0  # a finished run: nothing to redo

    stranger = tmp_path / "photos"
    stranger.mkdir()
    (stranger / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(DatasetError, match="not a simrec dataset.*refusing to delete"):
        generate("golf", "random", 2, out=stranger, overwrite=True)
    assert (stranger / "cat.jpg").read_bytes() == b"meow"


def test_unwritable_output_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DatasetError, match="cannot write the output directory"):
        generate("golf", "random", 2, out=blocker / "run")
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_fails_cleanly(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(DatasetError, match="cannot write"):
            generate("golf", "random", 2, out=locked / "run")
    finally:
        locked.chmod(0o700)


def test_disk_full_mid_run_keeps_committed_shards_and_resume_completes(tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    generate("golf", "random", 20, 2, reference, shard_size=4, **SMALL)
    out = tmp_path / "run"
    real_fsync = os.fsync

    def fsync(fd):
        if "turns/.part-00003" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(formats.os, "fsync", fsync)
    with pytest.raises(DatasetError, match=r"No space left on device\. 3 of 5 shards are complete"):
        generate("golf", "random", 20, 2, out, shard_size=4, **SMALL)
    monkeypatch.undo()
    state = json.loads((out / "_progress.json").read_text())
    assert sorted(state["shards"]) == ["0", "1", "2"]
    for shard in state["shards"].values():
        for f in shard["files"].values():
            assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert not list(out.rglob("*.tmp"))
    with pytest.raises(DatasetError, match="has not finished.*--resume"):
        load_dataset(out)
    generate("golf", "random", 20, 2, out, shard_size=4, resume=True, **SMALL)
    assert dir_digest(out) == dir_digest(reference)


def test_resume_discards_uncommitted_leftovers(tmp_path):
    reference = tmp_path / "reference"
    generate("golf", "random", 12, 0, reference, shard_size=4, **SMALL)
    out = tmp_path / "run"
    generate("golf", "random", 12, 0, out, shard_size=4, **SMALL)
    state = {
        "config": load_dataset(out).manifest["config"],
        "config_hash": "",
        "static": {},
        "shards": {},
    }
    (out / "manifest.json").unlink()
    (out / "_progress.json").write_text(json.dumps(state))
    (out / "turns" / "part-00001.parquet").write_bytes(b"torn")
    (out / "turns" / ".part-00002.parquet.123.tmp").write_bytes(b"half")
    generate("golf", "random", 12, 0, out, shard_size=4, resume=True, **SMALL)
    assert dir_digest(out) == dir_digest(reference)


class _TokenBrain(UtilityBrain):
    """The utility brain plus the accounting an LLM brain reports, and batch sizes seen."""

    name = "token-test"
    model = "fake-model-1"
    prompt_version = "persona-reaction@3"
    concurrency = 4
    batches: list[int] = []

    def react(self, sessions, slates, messages, rngs):
        _TokenBrain.batches.append(len(sessions))
        return [
            replace(r, input_tokens=1000, output_tokens=100, latency_ms=5.0)
            for r in super().react(sessions, slates, messages, rngs)
        ]


register_brain("token-test", _TokenBrain)


def test_llm_accounting_cost_hook_and_batched_brain_calls(tmp_path):
    _TokenBrain.batches.clear()
    prices = TokenPrices(input=2.0, output=10.0)
    ds = generate(
        "golf", "random", 10, 0, tmp_path / "run", brain="token-test", cost=prices, **SMALL
    )
    turns = ds.turns
    np.testing.assert_allclose(turns["cost_usd"], 1000 * 2e-6 + 100 * 10e-6)
    usage = ds.manifest["usage"]
    assert usage["input_tokens"] == 1000 * len(turns)
    assert usage["cost_usd"] == pytest.approx(turns["cost_usd"].sum())
    assert ds.sessions["cost_usd"].sum() == pytest.approx(usage["cost_usd"])
    assert ds.manifest["model"] == "fake-model-1"
    assert ds.manifest["prompt_version"] == "persona-reaction@3"
    assert max(_TokenBrain.batches) == 4  # the brain's concurrency: 4 sessions per call

    _TokenBrain.reaction_cost = lambda self, reaction, session: 0.5
    try:
        hooked = generate("golf", "random", 3, 0, brain="token-test", **SMALL)
    finally:
        del _TokenBrain.reaction_cost
    assert (hooked.turns["cost_usd"] == 0.5).all()


def test_sessions_table_agrees_with_the_event_log_summary():
    ds = generate("golf", "random", sessions=15, seed=2, shard_size=4, **SMALL)
    summary = sessions_frame(ds.turns.drop(columns="cost_usd"))
    pd.testing.assert_frame_equal(
        ds.sessions[list(summary.columns)], summary.astype(ds.sessions.dtypes[summary.columns])
    )


def test_stepping_backend_is_pluggable():
    built = []

    def backend(env, policy_factory, lanes, cost):
        built.append(lanes)
        return LaneStepper(env, policy_factory, lanes=5, cost=cost)

    custom = generate("golf", "random", 9, 1, shard_size=4, backend=backend, **SMALL)
    default = generate("golf", "random", 9, 1, shard_size=4, **SMALL)
    assert built == [1]
    for name in TABLES:
        pd.testing.assert_frame_equal(custom.table(name), default.table(name), check_exact=True)


KILL_SWITCH = "kill-the-worker-of-session-13"
"""While this file is in the working directory, the worker that starts session 13 dies.

A file, not a module global: worker processes import this module afresh (they would
never see the test switch a global off), but they share the test's working directory.
"""


def _random_or_die(env, seed):
    if seed == 13 and Path(KILL_SWITCH).exists():
        os.kill(os.getpid(), 9)  # what the out-of-memory killer does to a worker
    return make_policy("random", env, seed=seed)


def test_a_worker_killed_mid_run_stops_the_run_cleanly_and_resume_finishes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    Path(KILL_SWITCH).touch()
    with pytest.raises(DatasetError, match=r"a worker process died.*--resume"):
        generate("golf", _random_or_die, 20, 0, out, shard_size=4, workers=2, **SMALL)
    assert not (out / "manifest.json").exists()
    Path(KILL_SWITCH).unlink()
    generate("golf", _random_or_die, 20, 0, out, shard_size=4, workers=2, resume=True, **SMALL)
    generate("golf", _random_or_die, 20, 0, tmp_path / "reference", shard_size=4, **SMALL)
    assert dir_digest(out) == dir_digest(tmp_path / "reference")


@pytest.mark.parametrize("out", ["fresh", "fresh/nested/dirs", "empty"])
def test_a_run_that_fails_on_its_config_leaves_nothing_behind(tmp_path, capsys, out):
    (tmp_path / "empty").mkdir()
    args = ["generate", "golf", "--sessions", "2", "--out", str(tmp_path / out)]
    assert main([*args, "--brain-kwargs", '{"outside_utilty": 2}']) == 2
    assert "unknown UtilityParams field(s): outside_utilty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["empty"]  # no dirs, no .lock


def test_two_runs_cannot_write_one_directory_at_once(tmp_path):
    import fcntl

    out = tmp_path / "run"
    out.mkdir()
    with open(out / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DatasetError, match="another simrec generate is writing to it"):
            generate("golf", "random", 2, out=out, resume=True)
    generate("golf", "random", 2, out=out, resume=True, **SMALL)  # the lock is free again
    assert not (out / ".lock").exists()


def test_an_llm_policy_generates_with_its_params_in_the_manifest(tmp_path, monkeypatch):
    from simrec.llm.fake_server import FakeMessagesAPI
    from simrec.policies.llm_scripted import scripted_messages

    path = str(tmp_path / "policy.sqlite")
    params = {"candidates": 12, "concurrency": 3, "cache": "record", "cache_path": path}
    with FakeMessagesAPI(default=scripted_messages()) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        ds = generate("golf", "llm_reranker", 6, 0, tmp_path / "a", max_turns=3,
                      shard_size=3, policy_params=params)  # fmt: skip
    assert api.peak_in_flight >= 2  # sessions stepped together: one round of calls a turn
    spent = ds.manifest["usage"]["policy"]
    assert spent["input_tokens"] == api.usage["input_tokens"] > 0  # the policy's calls, apart
    assert spent["output_tokens"] == api.usage["output_tokens"]
    assert spent["cache_read_tokens"] == api.usage["cache_read_input_tokens"]
    assert ds.manifest["usage"]["input_tokens"] == 0  # the offline users spent nothing
    assert ds.turns["policy_input_tokens"].gt(0).all() and spent["cost_usd"] > 0
    assert ds.sessions["policy_cost_usd"].sum() == pytest.approx(spent["cost_usd"])
    assert ds.manifest["config"]["policy_params"] == params
    assert ds.manifest["policy_model"] == "claude-haiku-5-5"
    assert ds.manifest["policy_prompt_version"] == "llm-reranker@1"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    replayed = generate("golf", "llm_reranker", 6, 0, tmp_path / "b", max_turns=3, shard_size=2,
                        workers=2, policy_params={**params, "cache": "replay"})  # fmt: skip
    pd.testing.assert_frame_equal(replayed.interactions, ds.interactions)
    assert replayed.manifest["usage"]["policy"]["cost_usd"] == 0  # replays are free
    assert "policy_params" not in generate("golf", "random", 2, 0, max_turns=2).manifest["config"]


def test_policy_params_never_take_a_key():
    with pytest.raises(ConfigError, match="policy_params.api_key: not accepted"):
        generate("golf", "llm_reranker", 2, 0, policy_params={"api_key": "sk"})


@pytest.mark.parametrize("policy", ["generative_constrained", "generative_unconstrained"])
def test_semantic_id_policies_generate_the_env_loop_rows_hallucinations_included(policy):
    ds = generate("golf", policy, sessions=12, seed=3, shard_size=5, lanes=2, **SMALL)
    env = RecSessionEnv(**{**find_preset("golf").kwargs, **SMALL})
    interactions, turns = run_sessions(env, make_policy(policy, env, seed=3), 12, seed=3).frames()
    pd.testing.assert_frame_equal(ds.interactions, interactions, check_exact=True)
    pd.testing.assert_frame_equal(ds.turns.drop(columns="cost_usd"), turns, check_exact=True)
    assert ds.interactions["emitted_id"].notna().all()
    assert ds.interactions["hallucinated"].any() == (policy == "generative_unconstrained")
    with pytest.raises(ConfigError, match="backend 'vector'.*emits semantic ids"):
        generate("golf", policy, sessions=2, backend="vector", **SMALL)


class TalkingPolicy:
    """Says which turn it is, names items by index, and reports what its 'LLM' cost."""

    def __init__(self, env, seed):
        self.k = env.slate_size
        self.turn = 0

    def act(self, observation, info):
        self.turn += 1
        return {"slate": np.arange(self.k) + self.turn, "message": f"Turn {self.turn} picks."}

    def take_usage(self):
        return PolicyUsage(input_tokens=50, output_tokens=5, latency_ms=3.0, cost_usd=0.01)


def test_conversational_datasets_log_messages_and_policy_usage_apart_from_the_user():
    env = {**find_preset("golf").kwargs, **SMALL, "conversational": True}
    ds = generate(env, TalkingPolicy, sessions=6, seed=0, lanes=3)
    turns, sessions = ds.turns, ds.sessions
    assert (turns["message"] == "Turn " + turns["turn"].astype(str) + " picks.").all()
    assert (turns["policy_input_tokens"] == 50).all() and (turns["input_tokens"] == 0).all()
    assert (sessions["policy_input_tokens"] == 50 * sessions["turns"]).all()
    assert (sessions["policy_output_tokens"] == 5 * sessions["turns"]).all()
    np.testing.assert_allclose(sessions["policy_cost_usd"], 0.01 * sessions["turns"])
    assert (sessions["cost_usd"] == 0).all()
    # policies without words run beside it: a bare slate says nothing
    quiet = generate(env, "random", sessions=2, seed=0)
    assert quiet.turns["message"].isna().all()
