"""``simrec fidelity`` end to end on a small grounded log, for the utility brain and others."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simrec.cli import main
from simrec.fidelity import Protocol, run_fidelity
from simrec.grounding import ground_log, read_movielens
from simrec.reaction import Reaction
from tests.grounding_logs import make_log, write_ml100k

FIELDS = (
    "accuracy_1_1", "accuracy_1_3", "accuracy_1_9", "f1_1_1", "f1_1_3", "f1_1_9",
    "accuracy_1_1_popular_negatives", "auc", "ndcg_10", "genre_tv", "kendall_tau",
    "liked_popularity_percentile", "held_out_popularity_percentile", "baselines",
    "policy_ranking", "protocol", "data", "brain", "simrec_version", "ranking_scope",
    "genre_distribution", "popularity_distribution", "split",
)  # fmt: skip


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    root = tmp_path_factory.mktemp("fid")
    folder = write_ml100k(make_log(n_users=60, events_per_user=20), root / "log")
    ground_log(read_movielens(folder), root / "preset", "synthetic", dim=12)
    return root / "preset"


def test_the_utility_brain_on_grounded_personas_beats_random_and_reports_every_field(preset):
    report = run_fidelity(preset, protocol=Protocol(env_sessions=40))
    assert set(FIELDS) <= set(report)
    assert set(report["baselines"]) == {"random", "popularity", "mf"}
    assert report["auc"] > report["baselines"]["random"]["auc"] + 0.1
    assert report["accuracy_1_1"] > report["baselines"]["random"]["accuracy_1_1"] + 0.1
    assert report["data"]["users"] == 60 and report["data"]["held_out_events"] == 60 * 4
    assert report["split"] == {"method": "temporal", "seed": None, "test_share": 0.2}
    assert len(report["policy_ranking"]["policies"]) == 5
    assert -1.0 <= report["kendall_tau"] <= 1.0
    genres = report["genre_distribution"]
    assert sum(genres["real"].values()) == pytest.approx(1.0)
    assert sum(genres["simulated"].values()) == pytest.approx(1.0)
    popularity = report["popularity_distribution"]
    assert len(popularity["bins"]) == len(popularity["real"]) + 1 == 11
    assert sum(popularity["simulated"]) == pytest.approx(1.0)
    again = run_fidelity(preset, protocol=Protocol(env_sessions=40))
    assert again == report  # seeded: the same figures every run


def test_a_random_split_preset_is_measured_and_named_as_such(preset, tmp_path, capsys):
    folder = write_ml100k(make_log(n_users=60, events_per_user=20), tmp_path / "log")
    shuffled = tmp_path / "random"
    ground_log(read_movielens(folder), shuffled, "synthetic", dim=12, split="random", split_seed=2)
    out = tmp_path / "f.json"
    args = ["--sessions", "10", "--users", "20", "--out", str(out)]
    assert main(["fidelity", str(shuffled), *args]) == 0
    assert "random split, seed 2" in " ".join(capsys.readouterr().out.split())
    report = json.loads(out.read_text())
    assert report["split"] == {"method": "random", "seed": 2, "test_share": 0.2}
    assert report["data"]["held_out_events"] == 20 * 4  # the same counts as the temporal split
    assert main(["fidelity", str(preset), *args]) == 0
    assert "temporal split" in " ".join(capsys.readouterr().out.split())
    temporal = json.loads(out.read_text())
    assert temporal["split"]["method"] == "temporal"
    assert temporal["accuracy_1_1"] != report["accuracy_1_1"]  # other held-out events


def test_a_user_sample_bounds_the_work(preset):
    report = run_fidelity(
        preset, protocol=Protocol(users=10, env_sessions=10, policies=("random", "ease"))
    )
    assert report["data"]["users"] == 10 and report["data"]["held_out_events"] == 40


class ClicksEvenItems:
    """A stand-in for an LLM brain: clicks a one-item slate when the item index is even."""

    name = "even"
    deterministic = True

    def __init__(self):
        self.calls = 0

    def react(self, sessions, slates, messages, rngs):
        self.calls += 1
        return [
            Reaction([s[0] % 2 == 0], [False], [False], False, 0.5, "ok", self.name) for s in slates
        ]


def test_other_brains_are_asked_one_item_slates_of_the_candidates(preset, monkeypatch):
    brain = ClicksEvenItems()
    monkeypatch.setattr("simrec.fidelity.report.make_brain", lambda name, **kw: brain)
    report = run_fidelity(
        preset, brain="even", protocol=Protocol(users=5, env_sessions=5, policies=("random",))
    )
    assert report["ranking_scope"] == "candidates" and 0 < brain.calls <= 5 * 4 * 11
    # every call is a coin on item parity: accuracies stay near a half
    assert 0.2 < report["accuracy_1_1"] < 0.8


def test_the_cli_prints_a_table_and_writes_fidelity_json(preset, capsys, tmp_path):
    out = tmp_path / "f.json"
    assert (
        main(["fidelity", str(preset), "--sessions", "10", "--users", "20", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "accuracy 1:1" in printed and "Kendall tau" in printed
    data = json.loads(out.read_text())
    assert data["protocol"]["users"] == 20 and np.isfinite(data["accuracy_1_1"])
    assert main(["fidelity", str(tmp_path)]) == 2
    assert "no catalog.parquet" in capsys.readouterr().err


def test_an_llm_brain_records_through_the_cache_then_replays_without_the_api(preset, tmp_path):
    from llm_support import brain_kwargs

    from simrec.llm import fake_server as fake

    def likes_even_ids(items):
        item = items[0]
        clicked = [item["id"]] if int(item["id"]) % 2 == 0 else []
        return {"clicked": clicked, "purchased": [], "dismissed": [], "reply": "Hm.",
                "leave": False, "satisfaction": 0.5}  # fmt: skip

    protocol = Protocol(users=3, env_sessions=5, policies=("random", "ease"))
    cache = str(tmp_path / "fidelity.sqlite")
    with fake.FakeMessagesAPI(default=fake.answer(likes_even_ids)) as api:
        kwargs = brain_kwargs(api.url, cache="record", cache_path=cache)
        recorded = run_fidelity(preset, brain="anthropic", brain_kwargs=kwargs, protocol=protocol)
        calls = api.calls
    assert calls > 0 and recorded["ranking_scope"] == "candidates"
    replay = {"cache": "replay", "cache_path": cache}  # the server is gone: every answer is cached
    assert (
        run_fidelity(preset, brain="anthropic", brain_kwargs=replay, protocol=protocol) == recorded
    )
