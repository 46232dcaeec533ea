"""Grounding end to end in Python: personas, catalog, preset; the held-out part never leaks."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import simrec  # noqa: F401  (registers the envs)
from simrec.env import user_history
from simrec.grounding import ground, ground_log, read_movielens, read_table
from simrec.grounding.generic import TableColumns
from simrec.grounding.split import TEST
from simrec.persona import load_personas
from simrec.presets import find_preset
from tests.grounding_logs import GENRES, make_log, write_ml100k, write_table


@pytest.fixture(scope="module")
def grounded(tmp_path_factory):
    folder = write_ml100k(make_log(), tmp_path_factory.mktemp("log") / "ml")
    return ground(read_movielens(folder), dim=8)


def test_every_user_becomes_a_persona_with_latent_taste_history_traits_and_profile(grounded):
    personas = {p.persona_id: p for p in grounded.personas}
    assert len(personas) == 40 and grounded.catalog.embedding_dim == 8
    user = personas["user-3"]  # likes GENRES[2] (Drama)
    assert len(user.taste_embedding) == 8 and user.tastes == {}
    assert len(user.history) == 12  # 15 events, the last 3 held out
    assert user.profile.top_categories[0] == GENRES[2]
    assert user.age == 23 and user.occupation == "writer"
    assert 0.0 <= user.novelty_seeking <= 1.0 and user.profile.favourite_titles
    assert all(
        0.0 <= getattr(user.profile, k) <= 1.0 for k in ("mainstreamness", "activity", "strictness")
    )


def test_a_purchase_log_sets_each_persona_s_need_and_willingness_to_pay(tmp_path):
    log = make_log()
    log.items["price"] = 5.0 + np.arange(len(log.items))  # item "k" costs 4 + k
    events, items = write_table(log, tmp_path)
    columns = TableColumns(rating=None, price="price")  # every row a purchase
    personas = {p.persona_id: p for p in ground(read_table(events, items, columns)).personas}
    needs = []
    for user, events_of in log.events.groupby("user"):
        before = events_of.sort_values("timestamp").iloc[:12]  # the last 3 of 15 held out
        days = before["timestamp"].floordiv(86_400).nunique()
        paid = np.sort(4.0 + before["item"].astype(int).to_numpy())[int(0.9 * 11)]
        persona = personas[f"user-{user}"]
        assert persona.need == pytest.approx(min(12 / days, 20.0), abs=1e-4)
        assert persona.willingness_to_pay == pytest.approx(paid)
        needs.append(persona.need)
    assert len(set(needs)) > 1  # one day or two


def test_ratings_set_no_need_and_a_log_without_prices_no_willingness_to_pay(grounded):
    # Ratings come in bursts after the fact, not on visits: the need comes from traits.
    assert all(p.need is None and p.willingness_to_pay is None for p in grounded.personas)


def test_grounded_users_prefer_their_own_genre_in_the_brain(grounded):
    from simrec.brains.utility import UtilityBrain
    from simrec.session import BoundPersona, Session, SessionDynamics

    catalog, brain = grounded.catalog, UtilityBrain()
    wins = 0
    for persona in grounded.personas:
        liked = GENRES[(int(persona.persona_id.split("-")[1]) - 1) % len(GENRES)]
        theirs = np.array([liked in tags for tags in catalog.tags])
        session = Session(BoundPersona(persona, catalog), 1, 1, SessionDynamics())
        p = brain.click_probabilities(session, np.arange(len(catalog)))
        wins += p[theirs].mean() > 1.2 * p[~theirs].mean()
    assert wins >= 0.9 * len(grounded.personas)


def test_held_out_events_cannot_leak_into_anything_grounded(tmp_path):
    log = make_log()
    base = ground(read_movielens(write_ml100k(log, tmp_path / "a")), dim=8)
    # Change every held-out event to an item its user never chose: nothing may move.
    changed = log.events.copy()
    split = base.split
    rng = np.random.default_rng(1)
    for u, user_id in enumerate(split.user_ids.tolist()):
        rows = changed.index[changed.user == user_id]
        held = rows[-int((split.part[split.user == u] == TEST).sum()) :]
        unused = sorted(set(log.items.item) - set(changed.loc[rows, "item"]))
        changed.loc[held, "item"] = rng.choice(unused, size=len(held), replace=False)
        changed.loc[held, "rating"] = 1
    other = ground(
        read_movielens(write_ml100k(type(log)(changed, log.items), tmp_path / "b")), dim=8
    )
    assert not np.array_equal(other.split.item, base.split.item)  # the held-out part did change
    np.testing.assert_array_equal(other.catalog.embeddings, base.catalog.embeddings)
    np.testing.assert_array_equal(other.catalog.popularity, base.catalog.popularity)
    assert other.personas == base.personas  # tastes, histories, traits, profiles
    assert other.summary["calibration"] == base.summary["calibration"]


def test_the_preset_directory_runs_in_gym_simrec_run_and_load_personas(tmp_path):
    folder = write_ml100k(make_log(), tmp_path / "ml")
    preset_path = ground_log(read_movielens(folder), tmp_path / "preset", "synthetic", dim=8)
    preset = find_preset(str(preset_path))
    assert preset.env_id == "simrec/SyntheticGrounded-v0"
    env = gym.make("simrec/RecSession-v0", **preset.kwargs)
    _, info = env.reset(seed=0)
    assert len(user_history(info)) == 12
    _, reward, *_ = env.step(np.arange(5))
    for mode in ("vector_entry_point", "sync"):  # the native vector env and Gymnasium's own
        vec = gym.make_vec("simrec/RecSession-v0", 4, vectorization_mode=mode, **preset.kwargs)
        _, vec_info = vec.reset(seed=0)
        assert (vec_info["user_history_length"] == 12).all()
        assert [len(user_history(vec_info, i)) for i in range(4)] == [12] * 4
        vec.step(np.tile(np.arange(5), (4, 1)))
    assert len(load_personas(tmp_path / "preset" / "personas.parquet")) == 40
    for name in ("catalog.parquet", "events.parquet", "grounding.json"):
        assert (tmp_path / "preset" / name).is_file()


def test_scenarios_and_generate_run_on_a_grounded_preset(tmp_path):
    from simrec.cli import main

    folder = write_ml100k(make_log(), tmp_path / "ml")
    ground_log(read_movielens(folder), tmp_path / "preset", "synthetic", dim=8)
    scenario = tmp_path / "grounded.yaml"
    scenario.write_text(
        "name: grounded\nenv: preset/preset.yaml\nepisodes: 8\nseeds: 2\nhorizon: 4\n"
        "policies: {random: random, ease: ease}\n"
        "assertions:\n  - ease.cold_start.ctr_at_4 >= 0\n"
    )
    # 0 or 1 (the assertion's verdict on so few sessions is not the point); 2 = could not run
    assert main(["scenario", "run", str(scenario), "--out", str(tmp_path / "results")]) in (0, 1)
    result = json.loads((tmp_path / "results" / "grounded.json").read_text())
    assert "ease" in json.dumps(result) and "random" in json.dumps(result)
    out = tmp_path / "generated"
    args = [
        "generate",
        str(tmp_path / "preset" / "preset.yaml"),
        "--sessions",
        "6",
        "--out",
        str(out),
    ]
    assert main([*args, "--policy", "ease"]) == 0
    assert (out / "manifest.json").is_file()
