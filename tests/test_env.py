"""The Gymnasium contract of every registered env, determinism, and clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import simrec
from simrec.catalog import Catalog
from simrec.env import RecSessionEnv, history_dtype, user_history
from simrec.errors import ActionError, ConfigError, PersonaError
from simrec.presets import find_preset, load_preset
from tests.conftest import make_persona, small_catalog

SIMREC_IDS = sorted(env_id for env_id in gym.registry if env_id.startswith("simrec/"))


@pytest.fixture(scope="module")
def fake_claude():
    """A fake Messages API for the LLM-played ids (no network; the brain talks to 127.0.0.1)."""
    from simrec.llm.fake_server import FakeMessagesAPI

    with FakeMessagesAPI() as server:
        yield server


def make(env_id: str, request: pytest.FixtureRequest | None = None, **kwargs) -> gym.Env:
    if env_id == "simrec/RecSession-v0":
        kwargs = {"catalog": small_catalog(), "personas": [make_persona()], **kwargs}
    if gym.spec(env_id).nondeterministic:
        assert request is not None, "LLM-played ids need the fake_claude fixture"
        url = request.getfixturevalue("fake_claude").url
        kwargs = {
            "brain_kwargs": {"api_key": "sk-test", "base_url": url, "max_retries": 0},
            **kwargs,
        }
    return gym.make(env_id, **kwargs)


def test_presets_are_registered_on_import():
    assert {"simrec/RecSession-v0", "simrec/Golf-v0", "simrec/Books-v0", "simrec/Retail-v0"} <= set(
        SIMREC_IDS
    )


@pytest.mark.parametrize("env_id", SIMREC_IDS)
def test_check_env_passes_without_warnings(env_id, request):
    env = make(env_id, request, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", SIMREC_IDS)
def test_observations_stay_in_the_observation_space(env_id, request):
    env = make(env_id, request)
    env.action_space.seed(0)
    obs, info = env.reset(seed=0)
    for _ in range(60):
        assert env.observation_space.contains(obs)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        if terminated or truncated:
            obs, info = env.reset()


def trajectory(env_id: str, seed: int, steps: int = 40) -> list:
    env = make(env_id)
    policy = np.random.default_rng(1234)
    n = env.unwrapped.catalog.__len__()
    obs, info = env.reset(seed=seed)
    out = [("reset", info["persona_id"], info["reply"])]
    for _ in range(steps):
        action = policy.choice(n, size=env.unwrapped.slate_size, replace=False)
        obs, reward, terminated, truncated, info = env.step(action)
        r = info["reaction"]
        out.append(
            (
                action.tolist(),
                r.clicked,
                r.purchased,
                r.dismissed,
                r.reply,
                r.satisfaction,
                reward,
                terminated,
                truncated,
                obs["reply"].tobytes(),
                obs["history_feedback"].tobytes(),
            )
        )
        if terminated or truncated:
            obs, info = env.reset()
            out.append(("reset", info["persona_id"], info["reply"]))
    return out


@pytest.mark.parametrize("env_id", ["simrec/Golf-v0", "simrec/Books-v0", "simrec/Retail-v0"])
def test_same_seed_same_trajectory_bit_for_bit(env_id):
    assert trajectory(env_id, seed=7) == trajectory(env_id, seed=7)


def test_different_seeds_give_different_trajectories():
    assert trajectory("simrec/Golf-v0", seed=1) != trajectory("simrec/Golf-v0", seed=2)


def test_episode_ends_when_user_leaves_or_at_the_turn_limit():
    env = make("simrec/Golf-v0", max_turns=5)
    env.action_space.seed(3)
    endings = []
    for seed in range(30):
        env.reset(seed=seed)
        for turn in range(1, 6):
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            assert info["turn"] == turn
            assert info["reaction"].left == terminated
            if terminated or truncated:
                endings.append((turn, terminated, truncated))
                break
    assert all(
        truncated == (turn == 5 and not terminated) for turn, terminated, truncated in endings
    )
    assert any(t for _, t, _ in endings) and any(tr for _, _, tr in endings)


def test_step_after_the_end_needs_a_reset():
    env = RecSessionEnv(small_catalog(), [make_persona()], max_turns=1)
    env.reset(seed=0)
    env.step(np.arange(5))
    with pytest.raises(ActionError, match="reset"):
        env.step(np.arange(5))


def test_custom_catalog_and_personas_through_gym_make(tmp_path: Path):
    catalog_file = tmp_path / "items.csv"
    small_catalog().save(catalog_file)
    persona_file = tmp_path / "tess.yaml"
    persona_file.write_text(make_persona().to_yaml())
    env = gym.make(
        "simrec/RecSession-v0",
        catalog=str(catalog_file),
        personas=str(tmp_path / "tess.yaml"),
        slate_size=3,
        max_turns=4,
    )
    obs, info = env.reset(seed=0)
    assert info["persona_id"] == "tester"
    assert env.action_space.nvec.tolist() == [60, 60, 60]
    obs, reward, *_ = env.step(np.array([0, 1, 2]))
    assert obs["history_items"][:3].tolist() == [1, 2, 3]  # item index + 1, newest slate first


def test_reset_options_choose_the_persona():
    pool = [make_persona(id="ann"), make_persona(id="bob")]
    env = RecSessionEnv(small_catalog(), pool)
    assert {env.reset(seed=s, options={"persona": "bob"})[1]["persona_id"] for s in range(5)} == {
        "bob"
    }
    assert {env.reset(seed=s)[1]["persona_id"] for s in range(20)} == {"ann", "bob"}
    with pytest.raises(ConfigError, match="unknown persona 'zed'"):
        env.reset(options={"persona": "zed"})


def test_duplicate_slate_entries_are_shown_once_and_counted():
    env = RecSessionEnv(small_catalog(), [make_persona()])
    env.reset(seed=0)
    obs, _, _, _, info = env.step(np.array([4, 4, 7, 4, 9]))
    assert info["duplicates"] == 2
    assert info["slate"] == [4, -1, 7, -1, 9]
    assert not any(info["reaction"].clicked[p] or info["reaction"].dismissed[p] for p in (1, 3))
    assert obs["history_items"][:5].tolist() == [5, 0, 8, 0, 10]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.array([0, 1, 2, 3]), "expected shape \\(5,\\) of item indices, got \\(4,\\)"),
        (np.array([0, 1, 2, 3, 60]), "slot 4 holds item index 60, out of range \\[0, 59\\]"),
        (np.array([-1, 1, 2, 3, 4]), "slot 0 holds item index -1"),
        (np.array([0.0, 1.0, 2.0, 3.0, 4.0]), "expected integer item indices"),
        ("abc", "expected shape \\(5,\\) of item indices, got \\(\\)"),
    ],
)
def test_bad_slates_are_clear_errors(action, message):
    env = RecSessionEnv(small_catalog(), [make_persona()])
    env.reset(seed=0)
    with pytest.raises(ActionError, match=message):
        env.step(action)


def test_reward_weights_are_configurable_and_checked():
    env = RecSessionEnv(
        small_catalog(), [make_persona()], reward_weights={"click": 0.0, "purchase": 10.0}
    )
    env.reset(seed=0)
    for _ in range(20):
        _, reward, terminated, truncated, info = env.step(np.arange(5))
        r = info["reaction"]
        assert reward == pytest.approx(10.0 * sum(r.purchased) - 0.25 * sum(r.dismissed))
        if terminated or truncated:
            break
    with pytest.raises(ConfigError, match="reward_weights.klick: unknown"):
        RecSessionEnv(small_catalog(), [make_persona()], reward_weights={"klick": 1.0})


def test_bad_constructor_arguments_are_clear_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="slate_size: expected an integer in \\[1, 60\\]"):
        RecSessionEnv(small_catalog(), [make_persona()], slate_size=61)
    with pytest.raises(ConfigError, match="personas: expected a non-empty list"):
        RecSessionEnv(small_catalog(), [])
    with pytest.raises(ConfigError, match="catalog: expected"):
        RecSessionEnv(42, [make_persona()])
    for spec, problem in [
        ({"domain": "golf", "seed": "x"}, "'catalog.generate.seed': expected an integer >= 0"),
        ({"domain": "golf", "n_itmes": 5}, "'catalog.generate.n_itmes': unknown field"),
        ({"domain": "gulf"}, "'catalog.generate.domain': expected one of books, golf, retail"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            RecSessionEnv({"generate": spec}, [make_persona()])
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: oops\ndomain: test\nbio: x\ntastes: {tags: {sunny: 1}}\npatience: 1.7\n")
    with pytest.raises(PersonaError, match="bad.yaml:5: field 'patience'"):
        RecSessionEnv(small_catalog(), str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text(make_persona(tastes={"tags": {"sunnyy": 1.0}}).to_yaml())
    with pytest.raises(PersonaError, match="sunnyy"):
        RecSessionEnv(small_catalog(), str(typo))


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown preset 'golfx'; available: books, golf, retail"):
        find_preset("golfx")
    with pytest.raises(gym.error.NameNotFound):
        gym.make("simrec/Golfx-v0")


def test_preset_file_errors_name_file_line_and_field(tmp_path: Path):
    preset = tmp_path / "mine.yaml"
    preset.write_text(
        "id: Mine-v0\ncatalog: {generate: {domain: golf}}\npersonas: personas/golf\nslate_sise: 4\n"
    )
    with pytest.raises(ConfigError, match="mine.yaml:4: field 'slate_sise': unknown field"):
        load_preset(preset)
    preset.write_text("id: mine\ncatalog: {generate: {domain: golf}}\npersonas: personas/golf\n")
    with pytest.raises(ConfigError, match="mine.yaml:1: field 'id': expected a versioned name"):
        load_preset(preset)


def test_render_ansi_shows_the_transcript():
    env = gym.make("simrec/Golf-v0", render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("[golf-")
    _, _, _, _, info = env.step(np.arange(5))
    text = env.render()
    catalog = env.unwrapped.catalog
    assert "turn 1:" in text and catalog.titles[0] in text and info["reply"] in text


def test_ground_truth_is_kept_under_one_key():
    env = gym.make("simrec/Golf-v0")
    _, info = env.reset(seed=0)
    assert set(info["ground_truth"]) == {"satisfaction", "fatigue", "active_constraint"}
    assert "satisfaction" not in info and "fatigue" not in info


def test_array_info_carries_the_same_numbers_as_the_full_info_and_nothing_else():
    full = gym.make("simrec/Golf-v0")
    arrays = gym.make("simrec/Golf-v0", info_format="arrays")
    (_, info), (_, numeric) = full.reset(seed=4), arrays.reset(seed=4)
    personas = [p.persona_id for p in full.unwrapped.personas]
    assert personas[numeric["persona_index"]] == info["persona_id"]
    assert not numeric["clicked"].any()  # no slate shown yet
    obs_keys = set(full.observation_space.keys())
    for slate in ([0, 1, 2, 3, 3], [4, 5, 6, 7, 8], [9, 10, 11, 12, 13]):
        *_, info = full.step(slate)
        *_, numeric = arrays.step(slate)
        assert numeric["clicked"].tolist() == info["reaction"].clicked
        assert numeric["purchased"].tolist() == info["reaction"].purchased
        assert numeric["dismissed"].tolist() == info["reaction"].dismissed
        assert numeric["ground_truth_satisfaction"] == info["ground_truth"]["satisfaction"]
        assert numeric["ground_truth_fatigue"] == info["ground_truth"]["fatigue"]
        for key in ("session_id", "duplicates", "hallucinated"):
            assert numeric[key] == info[key]
        assert not set(numeric) & obs_keys
        assert all(np.asarray(v).dtype.kind in "biuf" for v in numeric.values())
    with pytest.raises(ConfigError, match=r"info_format: expected one of \['full', 'arrays'\]"):
        gym.make("simrec/Golf-v0", info_format="tensors")


def test_version_is_exposed():
    assert simrec.__version__


def test_gymnasium_sync_and_async_vectorisation_work_unchanged():
    for mode in ("sync", "async"):
        envs = gym.make_vec("simrec/Golf-v0", num_envs=3, vectorization_mode=mode)
        envs.action_space.seed(0)
        envs.reset(seed=0)
        for _ in range(25):  # long enough for steering requests to switch on in some sessions
            _, rewards, _, _, infos = envs.step(envs.action_space.sample())
        assert rewards.shape == (3,) and "reply" in infos
        envs.close()


@pytest.mark.parametrize("session_id", ["abc", -1, 1.5, True])
def test_reset_refuses_a_session_id_that_is_not_a_non_negative_integer(session_id):
    env = gym.make("simrec/Golf-v0")
    with pytest.raises(
        ConfigError, match="reset options: session_id: expected a non-negative integer"
    ):
        env.reset(seed=0, options={"session_id": session_id})
    env.reset(seed=0, options={"session_id": np.int64(7)})
    assert env.unwrapped.session_id == 7


# -- grounded personas: latent affinity and the user's history ------------------------------------
def test_latent_taste_adds_to_affinity_and_drives_clicks():
    from simrec.session import BoundPersona
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=60, d=4)
    persona = make_grounded_persona(d=4)
    bound = BoundPersona(persona, catalog)
    expected = catalog.embeddings @ np.asarray(persona.taste_embedding)
    np.testing.assert_array_equal(bound.affinity, expected)
    # A user whose latent taste points at items 0-4 clicks them far more than others.
    embedding = np.zeros((60, 2))
    embedding[:5, 0] = 1.0
    embedding[5:, 1] = 1.0
    frame = catalog.to_frame().assign(embedding=list(embedding))
    loving = Catalog.from_frame(frame)
    fan = make_grounded_persona(d=2, taste_embedding=[4.0, -4.0])
    env = RecSessionEnv(loving, [fan], slate_size=5, max_turns=1)
    clicks = {"loved": 0, "other": 0}
    for seed in range(200):
        env.reset(seed=seed)
        loved = seed % 2 == 0
        slate = np.arange(5) if loved else np.arange(5, 10)
        _, reward, *_ = env.step(slate)
        clicks["loved" if loved else "other"] += reward > 0
    assert clicks["loved"] > 80 > 10 > clicks["other"]


def test_the_reset_info_gives_the_users_history_padded_to_the_pools_longest():
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog()
    pool = [
        make_grounded_persona("u1", history=("it-010", "it-002")),
        make_grounded_persona("u2", history=("it-001", "it-003", "it-005", "it-007")),
        make_grounded_persona("u3"),
    ]
    env = RecSessionEnv(catalog, pool)
    assert env.history_size == 4
    _, info = env.reset(seed=0, options={"persona": "u1"})
    assert info["user_history"].dtype == np.int8  # 60 items: the narrowest that holds them
    assert info["user_history"].tolist() == [10, 2, -1, -1]
    assert info["user_history_length"] == 2
    assert user_history(info).tolist() == [10, 2]
    _, info = env.reset(seed=0, options={"persona": "u3"})
    assert info["user_history"].tolist() == [-1] * 4 and user_history(info).shape == (0,)
    *_, info = env.step(np.arange(5))
    assert "user_history" not in info  # a visit's history is the reset's
    assert user_history(info).shape == (0,)
    _, info = gym.make("simrec/Golf-v0").reset(seed=0)
    assert info["user_history"].shape == (0,)  # hand-written personas have none
    assert info["user_history_length"] == 0


@pytest.mark.parametrize(
    ("n_items", "dtype"),
    [
        (1, np.int8),
        (128, np.int8),
        (129, np.int16),
        (1_682, np.int16),
        (32_768, np.int16),
        (32_769, np.int32),
        (2**31, np.int32),
        (2**31 + 1, np.int64),
    ],
)
def test_history_rows_come_in_the_narrowest_integer_dtype_holding_every_item(n_items, dtype):
    assert history_dtype(n_items) == dtype
    info = np.iinfo(history_dtype(n_items))
    assert info.min <= -1 and n_items - 1 <= info.max


def test_a_history_reaching_the_catalogs_last_item_reads_back_whole():
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=200)  # past int8: indices up to 199
    ids = [str(i) for i in catalog.item_ids]
    persona = make_grounded_persona("u1", history=(ids[199], ids[128], ids[0]))
    env = RecSessionEnv(catalog, [persona])
    _, info = env.reset(seed=0)
    assert info["user_history"].dtype == np.int16
    assert user_history(info).tolist() == [199, 128, 0]
    assert user_history(info).dtype == np.int64  # what consumers get, whatever the rows' dtype


def test_info_names_the_visit_by_its_session_id():
    env = RecSessionEnv(small_catalog(), [make_persona()], max_turns=2)
    _, info = env.reset(seed=0, options={"session_id": 41})
    assert info["session_id"] == 41
    _, _, _, _, info = env.step(np.arange(5))
    assert info["session_id"] == 41
    _, info = env.reset()
    assert info["session_id"] == 42  # one more than the last
    _, info = env.reset(seed=9)
    assert info["session_id"] == 9  # a seeded visit is its seed's
