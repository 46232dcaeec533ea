"""Exports: RecBole atomic files and Minari episodes that those tools can read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simrec.cli import main
from simrec.datagen import generate, load_dataset
from simrec.datagen.exports import to_minari, to_recbole
from simrec.errors import DatasetError

RECBOLE_TYPES = {"token", "token_seq", "float", "float_seq"}


def read_atomic(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a RecBole atomic file the way RecBole does: tab-separated, ``field:type`` header."""
    header = path.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    types = dict(h.split(":") for h in header)
    assert set(types.values()) <= RECBOLE_TYPES, types
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    frame.columns = [h.split(":")[0] for h in header]
    for field, kind in types.items():
        if kind == "float":
            frame[field] = frame[field].astype(float)
    return frame, types


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "golf-run"
    generate("golf", "random", 12, 3, out, max_turns=6, shard_size=5)
    return out


def test_recbole_files_hold_every_shown_item_with_its_feedback(dataset, tmp_path):
    ds = load_dataset(dataset)
    paths = to_recbole(ds, tmp_path, "golf")
    assert [p.name for p in paths] == ["golf.inter", "golf.item", "golf.user"]
    inter, types = read_atomic(tmp_path / "golf" / "golf.inter")
    items, _ = read_atomic(tmp_path / "golf" / "golf.item")
    users, _ = read_atomic(tmp_path / "golf" / "golf.user")
    assert types["user_id"] == "token" and types["item_id"] == "token"
    shown = ds.interactions[ds.interactions["item_index"] >= 0]
    assert len(inter) == len(shown)
    assert inter["clicked"].sum() == shown["clicked"].sum()
    assert inter["reward"].sum() == pytest.approx(shown["reward"].sum())
    assert set(inter["item_id"]) <= set(items["item_id"]) and len(items) == len(ds.items)
    assert (
        set(inter["user_id"]) == set(users["user_id"]) == set(ds.sessions["session_id"].astype(str))
    )
    assert (np.diff(inter["timestamp"]) > 0).all()
    assert items["tags"].str.contains("|", regex=False).sum() == 0

    to_recbole(ds, tmp_path, "golf-personas", user="persona")
    by_persona, _ = read_atomic(tmp_path / "golf-personas" / "golf-personas.inter")
    assert set(by_persona["user_id"]) == set(ds.sessions["persona_id"])


def test_minari_export_replays_the_recorded_episodes(dataset, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    ds = load_dataset(dataset)
    to_minari(ds, tmp_path, "golf-random")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    exported = minari.load_dataset("simrec/golf-random-v0")
    assert exported.total_episodes == len(ds.sessions)
    assert exported.total_steps == len(ds.turns)
    turns = ds.turns.groupby("session_id", sort=True)
    for episode, (sid, rows) in zip(exported.iterate_episodes(), turns, strict=True):
        np.testing.assert_array_equal(episode.rewards, rows["reward"].to_numpy())
        np.testing.assert_array_equal(episode.terminations, rows["left"].to_numpy())
        truncated = ~rows["left"].to_numpy() & (rows["turn"].to_numpy() == 6)
        np.testing.assert_array_equal(episode.truncations, truncated)
        slates = ds.interactions[ds.interactions["session_id"] == sid]["item_index"]
        slates = slates.to_numpy().reshape(-1, 5)
        np.testing.assert_array_equal(episode.actions[slates >= 0], slates[slates >= 0])
        np.testing.assert_allclose(episode.observations["turn"][:, 0], np.arange(len(rows) + 1) / 6)
        np.testing.assert_array_equal(episode.observations["history_items"][1][:5], slates[0] + 1)
    with pytest.raises(DatasetError, match="already exists"):
        to_minari(ds, tmp_path, "golf-random")


def test_export_command_writes_recbole_files(dataset, tmp_path, capsys):
    assert main(["export", "recbole", str(dataset), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "golf-run" / "golf-run.inter").exists()
    assert "golf-run.inter" in capsys.readouterr().out
    assert main(["export", "recbole", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "not a simrec dataset" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["golf-run"]


def test_recbole_files_round_trip_to_the_dataset_tables(dataset, tmp_path):
    ds = load_dataset(dataset)
    to_recbole(ds, tmp_path, "golf")
    inter, _ = read_atomic(tmp_path / "golf" / "golf.inter")
    items, _ = read_atomic(tmp_path / "golf" / "golf.item")
    shown = ds.interactions[ds.interactions["item_index"] >= 0].reset_index(drop=True)
    back = pd.DataFrame(
        {
            "session_id": inter["session_id"].astype("int64"),
            "turn": inter["turn"].astype("int64"),
            "position": inter["position"].astype("int64"),
            "item_id": inter["item_id"],
            "clicked": inter["clicked"].astype(bool),
            "purchased": inter["purchased"].astype(bool),
            "dismissed": inter["dismissed"].astype(bool),
            "reward": inter["reward"],
        }
    )
    expected = shown[back.columns].astype({c: back[c].dtype for c in back.columns})
    pd.testing.assert_frame_equal(back, expected.reset_index(drop=True), check_dtype=False)
    catalog = ds.items.set_index("item_id").loc[items["item_id"]]
    np.testing.assert_array_equal(items["price"].to_numpy(), catalog["price"].to_numpy())
    np.testing.assert_array_equal(items["popularity"].to_numpy(), catalog["popularity"].to_numpy())


def test_minari_export_records_the_env_so_it_can_be_recovered_and_stepped(
    dataset, tmp_path, monkeypatch
):
    minari = pytest.importorskip("minari")
    to_minari(load_dataset(dataset), tmp_path, "golf-env", author="tester", author_email="t@x",
              code_permalink="https://example.invalid/simrec")  # fmt: skip
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    exported = minari.load_dataset("simrec/golf-env-v0")
    assert exported.spec.env_spec is not None
    for env in (exported.recover_environment(), exported.recover_environment(eval_env=True)):
        obs, _ = env.reset(seed=3)
        assert env.observation_space.contains(obs)
        assert env.unwrapped.max_turns == 6  # the manifest's env, not a default one
        obs, reward, *_ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)


def test_minari_export_to_a_relative_path_works_and_shows_minaris_warnings(
    dataset, tmp_path, monkeypatch, capsys
):
    pytest.importorskip("minari")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="author"):  # not hidden: the user can supply one
        assert main(["export", "minari", str(dataset), "--out", "minari-rel"]) == 0
    assert "wrote Minari dataset 'golf-run'" in capsys.readouterr().out
    assert (tmp_path / "minari-rel" / "simrec" / "golf-run-v0" / "data").is_dir()
    assert sorted(os.listdir(tmp_path)) == ["minari-rel"]  # nothing left beside it


def test_a_failed_minari_export_leaves_nothing_that_blocks_a_retry(dataset, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    from minari.data_collector import EpisodeBuffer

    ds = load_dataset(dataset)
    original = EpisodeBuffer.__init__
    calls = {"n": 0}

    def failing(self, *args, **kwargs):  # the 5th episode cannot be built (e.g. disk full)
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("no space left on device")
        original(self, *args, **kwargs)

    monkeypatch.setattr(EpisodeBuffer, "__init__", failing)
    with pytest.raises(OSError, match="no space"):
        to_minari(ds, tmp_path / "out", "golf-random")
    assert not (tmp_path / "out" / "simrec" / "golf-random-v0").exists()
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "out"))
    assert "simrec/golf-random-v0" not in minari.list_local_datasets()

    create = minari.create_dataset_from_buffers

    def failing_write(*args, **kwargs):  # files written, then a failure before the end
        create(*args, **kwargs)
        raise RuntimeError("interrupted while writing")

    monkeypatch.setattr(EpisodeBuffer, "__init__", original)
    monkeypatch.setattr(minari, "create_dataset_from_buffers", failing_write)
    with pytest.raises(RuntimeError, match="interrupted"):
        to_minari(ds, tmp_path / "out", "golf-random")
    assert not (tmp_path / "out" / "simrec" / "golf-random-v0").exists()
    monkeypatch.undo()
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "out"))
    to_minari(ds, tmp_path / "out", "golf-random")  # the retry is not blocked
    assert minari.load_dataset("simrec/golf-random-v0").total_episodes == len(ds.sessions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.fixture(scope="module")
def hallucinating(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "golf-gen"
    generate("golf", "generative_unconstrained", 8, 0, out, max_turns=4, shard_size=4)
    return out


def test_exports_carry_hallucinated_slots(hallucinating, tmp_path, monkeypatch):
    ds = load_dataset(hallucinating)
    made_up = ds.interactions["hallucinated"].to_numpy().reshape(-1, 5)
    assert made_up.any() and made_up.all(axis=1).any()  # whole slates of made-up ids too
    to_recbole(ds, tmp_path, "gen")
    inter, _ = read_atomic(tmp_path / "gen" / "gen.inter")
    shown = ds.interactions["item_index"].to_numpy().reshape(-1, 5) >= 0
    expected = np.repeat(made_up.sum(axis=1), shown.sum(axis=1))
    np.testing.assert_array_equal(inter["slate_hallucinations"].to_numpy(), expected)

    minari = pytest.importorskip("minari")
    to_minari(ds, tmp_path, "gen")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    exported = minari.load_dataset("simrec/gen-v0")
    assert exported.action_space.start.tolist() == [-1] * 5
    actions = np.concatenate([e.actions for e in exported.iterate_episodes()])
    np.testing.assert_array_equal(actions == -1, made_up)
    rewards = np.concatenate([e.rewards for e in exported.iterate_episodes()])
    np.testing.assert_array_equal(rewards, ds.turns["reward"].to_numpy())
