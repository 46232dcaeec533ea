"""The native vector env: Gymnasium's vector contract, and bit-identical to N single envs."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import simrec  # noqa: F401  (registers the envs)
from simrec.env import RecSessionEnv, user_history
from simrec.errors import ActionError, ConfigError
from simrec.reaction import Reaction
from simrec.vector import RecSessionVectorEnv
from tests.conftest import make_persona, small_catalog

PRESETS = ["simrec/Golf-v0", "simrec/Books-v0", "simrec/Retail-v0"]


def actions(rng: np.random.Generator, num_envs: int, n_items: int, step: int) -> np.ndarray:
    """Random slates with some repeated indices (de-duplication must match too)."""
    batch = rng.integers(0, n_items, size=(num_envs, 5))
    if step % 4 == 0:
        batch[:, 3] = batch[:, 1]
    batch[:, 4] = rng.integers(0, 6, size=num_envs)  # popular-ish items repeat across turns
    return batch


def assert_same_history(info: dict, i: int, single_info: dict) -> None:
    """Sub-env ``i`` of a vector info carries the single env's ``user_history`` iff it did."""
    started = "user_history" in single_info
    assert bool(info.get("_user_history", np.zeros(i + 1, dtype=bool))[i]) == started
    if started:
        assert info["user_history"].dtype == single_info["user_history"].dtype
        np.testing.assert_array_equal(info["user_history"][i], single_info["user_history"])
        assert info["user_history_length"][i] == single_info["user_history_length"]
        np.testing.assert_array_equal(user_history(info, i), user_history(single_info))


def compare_with_single_envs(vec, singles, seed: int, steps: int) -> dict[str, int]:
    """Step ``vec`` and the single envs side by side; assert every output is identical."""
    n = len(singles)
    obs, info = vec.reset(seed=seed)
    done = np.zeros(n, dtype=bool)
    seen = {"resets": 0, "terminated": 0, "truncated": 0, "purchases": 0, "dismissals": 0}
    for i, env in enumerate(singles):
        single_obs, single_info = env.reset(seed=seed + i)
        assert info["reply"][i] == single_info["reply"]
        assert_same_history(info, i, single_info)
        for key in single_obs:
            np.testing.assert_array_equal(obs[key][i], single_obs[key])
    rng = np.random.default_rng(seed)
    for step in range(steps):
        batch = actions(rng, n, len(singles[0].catalog), step)
        obs, rewards, terminated, truncated, info = vec.step(batch)
        for i, env in enumerate(singles):
            if done[i]:
                single_obs, single_info = env.reset()
                expected = (0.0, False, False)
                seen["resets"] += 1
            else:
                single_obs, reward, term, trunc, single_info = env.step(batch[i])
                expected = (reward, term, trunc)
                r = single_info["reaction"]
                assert info["clicked"][i].tolist() == r.clicked
                assert info["purchased"][i].tolist() == r.purchased
                assert info["dismissed"][i].tolist() == r.dismissed
                seen["purchases"] += sum(r.purchased)
                seen["dismissals"] += sum(r.dismissed)
                seen["terminated"] += term
                seen["truncated"] += trunc
            done[i] = expected[1] or expected[2]
            assert (rewards[i], bool(terminated[i]), bool(truncated[i])) == expected
            for key in single_obs:
                np.testing.assert_array_equal(obs[key][i], single_obs[key], err_msg=key)
            assert info["reply"][i] == single_info["reply"]
            assert_same_history(info, i, single_info)
            assert info["persona_id"][i] == single_info["persona_id"]
            assert info["turn"][i] == single_info["turn"]
            assert info["duplicates"][i] == single_info["duplicates"]
            truth = single_info["ground_truth"]
            assert info["ground_truth"]["satisfaction"][i] == truth["satisfaction"]
            assert info["ground_truth"]["fatigue"][i] == truth["fatigue"]
    return seen


@pytest.mark.parametrize("env_id", PRESETS)
def test_vector_env_matches_single_envs_bit_for_bit_across_autoresets(env_id):
    vec = gym.make_vec(env_id, num_envs=12, max_turns=8)
    assert isinstance(vec, RecSessionVectorEnv)
    singles = [gym.make(env_id, max_turns=8).unwrapped for _ in range(12)]
    seen = compare_with_single_envs(vec, singles, seed=5, steps=40)
    assert min(seen.values()) > 0, seen  # resets, both endings, purchases and dismissals happened


def test_steering_requests_match_in_the_vector_env():
    says = "Only alpha things from now on, please."
    pool = [
        make_persona(
            id="steerer",
            intents=[
                {
                    "at_turn": 2,
                    "says": says,
                    "constraint": {"field": "category", "op": "==", "value": "alpha"},
                }
            ],
            drifts=[{"at_turn": 4, "tastes": {"tags": {"quiet": 2.0}}, "says": "Quiet now."}],
            dislikes={"tags": ["loud"]},
            chattiness=0.9,
        ),
        make_persona(id="plain", patience=0.9),
    ]
    catalog = small_catalog()
    vec = RecSessionVectorEnv(6, catalog, pool, max_turns=10)
    singles = [RecSessionEnv(catalog, pool, max_turns=10) for _ in range(6)]
    compare_with_single_envs(vec, singles, seed=11, steps=40)
    replies = " ".join(vec.batch.phrases.texts)
    assert "As I said: " + says in replies and "Not loud, please." in replies


def test_make_vec_declares_next_step_autoreset_and_honours_it():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vec = gym.make_vec("simrec/Golf-v0", num_envs=4, max_turns=2)
    assert vec.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    vec.reset(seed=0)
    batch = np.tile(np.arange(5), (4, 1))
    vec.step(batch)
    _, _, terminated, truncated, _ = vec.step(batch)
    assert np.all(terminated | truncated)  # every visit ends by turn 2
    obs, rewards, terminated, truncated, info = vec.step(np.zeros((4, 5), dtype=np.int64))
    # The step after an end resets: its action (all-zero slates) is ignored.
    assert np.all(rewards == 0.0) and not terminated.any() and not truncated.any()
    assert np.all(info["turn"] == 0) and np.all(obs["history_items"] == 0)
    assert np.all(info["duplicates"] == 0)


def test_vector_env_keeps_gymnasium_vector_contract():
    vec = gym.make_vec("simrec/Golf-v0", num_envs=8)
    obs, info = vec.reset(seed=3)
    assert vec.observation_space.contains(obs)
    assert vec.single_observation_space == gym.make("simrec/Golf-v0").observation_space
    vec.action_space.seed(0)
    for _ in range(30):
        obs, rewards, terminated, truncated, info = vec.step(vec.action_space.sample())
        assert vec.observation_space.contains(obs)
        assert rewards.shape == (8,) and rewards.dtype == np.float64
        assert terminated.dtype == bool and truncated.dtype == bool
        assert info["reply"].shape == (8,) and info["_reply"].all()
    vec.close()
    assert vec.closed


def test_vector_env_seeding_is_reproducible_and_seed_dependent():
    def run(seed: int) -> list:
        vec = gym.make_vec("simrec/Golf-v0", num_envs=4)
        obs, info = vec.reset(seed=seed)
        out = [info["reply"].tolist()]
        rng = np.random.default_rng(0)
        for _ in range(15):
            obs, rewards, term, trunc, info = vec.step(rng.integers(0, 200, (4, 5)))
            out.append(
                (rewards.tolist(), term.tolist(), info["reply"].tolist(), obs["reply"].tobytes())
            )
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_bad_vector_actions_name_the_sub_env_and_slot():
    vec = gym.make_vec("simrec/Golf-v0", num_envs=3)
    vec.reset(seed=0)
    bad = np.zeros((3, 5), dtype=np.int64)
    bad[2, 4] = 200
    with pytest.raises(ActionError, match="sub-env 2 slot 4 holds item index 200"):
        vec.step(bad)
    with pytest.raises(ActionError, match="expected shape \\(3, 5\\)"):
        vec.step(np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ConfigError, match="num_envs"):
        gym.make_vec("simrec/Golf-v0", num_envs=0)


class CountingBrain:
    """A stand-in for an LLM brain: clicks the slot its generator picks, records each call."""

    name = "counting"
    deterministic = True

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def react(self, sessions, slates, messages, rngs):
        self.batch_sizes.append(len(sessions))
        out = []
        for session, slate, rng in zip(sessions, slates, rngs, strict=True):
            k = len(slate)
            pick = int(rng.integers(k))
            clicked = [pos == pick and slate[pos] != -1 for pos in range(k)]
            left = session.turn >= 2 and rng.random() < 0.3
            reply = f"turn {session.turn + 1}: I like {session.catalog.titles[slate[pick]]}"
            out.append(Reaction(clicked, [False] * k, [False] * k, left, 0.5, reply, self.name))
        return out


def test_other_brains_get_one_batched_react_call_per_vector_step():
    catalog, pool = small_catalog(), [make_persona(id="a"), make_persona(id="b")]
    brain = CountingBrain()
    vec = RecSessionVectorEnv(5, catalog, pool, max_turns=4, brain=brain)
    assert vec.batch is None  # not the utility brain: the session path
    singles = [RecSessionEnv(catalog, pool, max_turns=4, brain=CountingBrain()) for _ in range(5)]
    seen = compare_with_single_envs(vec, singles, seed=2, steps=20)
    # One call per vector step (steps where every sub-env resets need none), carrying
    # every sub-session that is not being reset.
    assert 15 <= len(brain.batch_sizes) <= 20 and max(brain.batch_sizes) == 5
    assert sum(brain.batch_sizes) == 5 * 20 - seen["resets"]


def test_gymnasium_vector_wrappers_see_the_episodes_the_env_reports():
    vec = gym.wrappers.vector.RecordEpisodeStatistics(gym.make_vec("simrec/Golf-v0", num_envs=6))
    vec.reset(seed=4)
    rng = np.random.default_rng(1)
    running = np.zeros(6)
    finished = 0
    for _ in range(40):
        obs, rewards, terminated, truncated, info = vec.step(rng.integers(0, 200, (6, 5)))
        running += rewards
        done = terminated | truncated
        if done.any():
            assert np.allclose(info["episode"]["r"][done], running[done])
            finished += int(done.sum())
        running[done] = 0.0
    assert finished > 0


def test_session_clocks_restart_without_changing_anything(monkeypatch):
    # Visits leave item stamps behind instead of clearing them; clocks past the limit
    # restart at 0 (here every few turns) and clear the stamps.
    monkeypatch.setattr("simrec.brains.utility_batch._CLOCK_LIMIT", 5)
    vec = gym.make_vec("simrec/Golf-v0", num_envs=6, max_turns=4)
    singles = [gym.make("simrec/Golf-v0", max_turns=4).unwrapped for _ in range(6)]
    compare_with_single_envs(vec, singles, seed=9, steps=30)
    assert vec.batch.visit_start.max() <= 5 + 4


def test_stepping_before_reset_is_a_clear_error():
    envs = gym.make_vec("simrec/Golf-v0", num_envs=2)
    with pytest.raises(
        ActionError, match=r"step\(\) called before reset\(\); call reset\(\) first"
    ):
        envs.step(np.zeros((2, 5), dtype=np.int64))


def test_the_autoreset_mode_is_an_attribute_as_on_gymnasium_vector_envs():
    envs = gym.make_vec("simrec/Golf-v0", num_envs=2)
    assert envs.autoreset_mode is AutoresetMode.NEXT_STEP
    assert envs.metadata["autoreset_mode"] is envs.autoreset_mode


def test_grounded_personas_match_in_the_vector_env_and_expose_their_history():
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=60, d=4)
    pool = [
        make_grounded_persona(f"u{i}", seed=i, history=tuple(f"it-{j:03d}" for j in range(i)))
        for i in range(5)
    ]
    vec = RecSessionVectorEnv(6, catalog, pool, max_turns=6)
    singles = [RecSessionEnv(catalog, pool, max_turns=6) for _ in range(6)]
    seen = compare_with_single_envs(vec, singles, seed=3, steps=30)
    assert seen["resets"] > 0  # autoresets carried their new visit's history too
    _, info = vec.reset(seed=0)
    assert info["user_history"].shape == (6, 4) and info["_user_history"].all()
    assert sorted(info["user_history_length"].tolist()) != [0] * 6


def test_histories_of_uneven_length_come_whole_in_a_dtype_that_holds_every_item():
    """A persona whose history is far longer than the others' (and one with none) in a
    catalog past int8's range: every started row reads its persona's whole history, the
    rows are padded with -1 to the longest, and the last item's index survives."""
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=300, d=4)
    ids = [str(i) for i in catalog.item_ids]
    histories = {"long": tuple(ids[::-1][:150]), "short": (ids[-1], ids[0]), "none": ()}
    pool = [make_grounded_persona(name, history=h) for name, h in histories.items()]
    expected = {name: [ids.index(item) for item in h] for name, h in histories.items()}
    vec = RecSessionVectorEnv(16, catalog, pool, max_turns=3)
    assert vec.history_size == 150
    _, info = vec.reset(seed=1)
    assert info["user_history"].dtype == np.int16 and info["user_history"].shape == (16, 150)
    assert set(info["persona_id"]) == set(histories)  # every kind of persona started
    for i, persona in enumerate(info["persona_id"]):
        assert user_history(info, i).tolist() == expected[persona]
        assert info["user_history_length"][i] == len(expected[persona])
        assert (info["user_history"][i, len(expected[persona]) :] == -1).all()
    assert expected["long"][0] == len(catalog) - 1  # the largest index, read back intact
    restarts = 0
    for step in range(12):
        *_, info = vec.step(np.tile(np.arange(5), (16, 1)) + step)
        started = info.get("_user_history", np.zeros(16, dtype=bool))
        restarts += int(started.sum())
        for i in np.flatnonzero(started):
            assert user_history(info, i).tolist() == expected[info["persona_id"][i]]
        if started.any():
            assert (info["user_history"][~started] == 0).all()  # as Gymnasium's vector envs
    assert restarts > 0
    singles = [RecSessionEnv(catalog, pool, max_turns=3) for _ in range(9)]
    compare_with_single_envs(RecSessionVectorEnv(9, catalog, pool, max_turns=3), singles, 4, 20)


def test_visits_own_their_history_as_in_the_single_env_past_the_owned_table_budget(
    monkeypatch,
):
    """A pool too large for a persona x item table of owned items marks each visit's
    history owned from a flat list instead: the visits stay those of the single env."""
    import simrec.brains.utility_batch as utility_batch
    from tests.conftest import grounded_catalog, make_grounded_persona

    monkeypatch.setattr(utility_batch, "OWNED_TABLE_MAX_BYTES", 0)
    catalog = grounded_catalog(n=60, d=4)
    ids = [str(i) for i in catalog.item_ids]
    pool = [make_grounded_persona(f"u{i}", seed=i, history=tuple(ids[i : 6 * i])) for i in range(5)]
    vec = RecSessionVectorEnv(6, catalog, pool, max_turns=6)
    assert vec.batch.owned_at_start is None
    singles = [RecSessionEnv(catalog, pool, max_turns=6) for _ in range(6)]
    seen = compare_with_single_envs(vec, singles, seed=2, steps=30)
    assert seen["resets"] > 0


def test_a_catalog_too_large_for_exact_reply_keys_matches_the_single_env():
    """Thousands of titles (as a grounded catalog has) make more phrases than a reply's
    codes can be packed as digits of one 62-bit key: replies are looked up by hash."""
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=1500, d=4)
    pool = [
        make_grounded_persona(f"u{i}", seed=i, history=tuple(f"it-{j:03d}" for j in range(i)))
        for i in range(6)
    ]
    vec = RecSessionVectorEnv(8, catalog, pool, max_turns=6)
    phrases = vec.batch.phrases
    assert (len(phrases.texts) + 1) ** 5 >= 2**62 and not phrases._exact
    singles = [RecSessionEnv(catalog, pool, max_turns=6) for _ in range(8)]
    seen = compare_with_single_envs(vec, singles, seed=11, steps=40)
    assert seen["resets"] > 0 and seen["purchases"] > 0, seen
    assert phrases._n_replies > 50  # many distinct replies were numbered and found again


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gymnasiums_own_vector_envs_stack_grounded_histories_as_the_native_one(mode):
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog(n=60, d=4)
    pool = [
        make_grounded_persona(f"u{i}", seed=i, history=tuple(f"it-{j:03d}" for j in range(3 * i)))
        for i in range(5)
    ]
    kwargs = {"catalog": catalog, "personas": pool, "max_turns": 4}
    theirs = gym.make_vec("simrec/RecSession-v0", 4, vectorization_mode=mode, **kwargs)
    ours = gym.make_vec("simrec/RecSession-v0", 4, **kwargs)
    try:
        (_, a), (_, b) = theirs.reset(seed=5), ours.reset(seed=5)
        assert a["user_history"].shape == b["user_history"].shape == (4, 12)
        assert a["user_history"].dtype == b["user_history"].dtype == np.int8  # 60 items
        restarts = 0
        for step in range(12):
            for key in ("user_history", "_user_history", "user_history_length"):
                assert (key in a) == (key in b), (step, key)
                if key in a:
                    np.testing.assert_array_equal(a[key], b[key], err_msg=f"{step} {key}")
            for i in range(4):
                np.testing.assert_array_equal(user_history(a, i), user_history(b, i))
            restarts += int(a.get("_user_history", np.zeros(4, dtype=bool)).sum())
            slates = np.tile(np.arange(5), (4, 1)) + step
            *_, a = theirs.step(slates)
            *_, b = ours.step(slates)
        assert restarts > 4  # some sub-envs restarted mid-run and brought their history
    finally:
        theirs.close()
        ours.close()


@pytest.mark.parametrize("brain", ["utility", "other"])
def test_info_names_each_sub_envs_visit_by_its_session_id(brain):
    from simrec.brains.utility import UtilityBrain
    from simrec.vector import VISIT_STRIDE

    class Other(UtilityBrain):  # any brain but the utility one takes the per-session path
        pass

    vec = RecSessionVectorEnv(
        3, small_catalog(), [make_persona()], max_turns=2,
        brain=Other() if brain == "other" else "utility",
    )  # fmt: skip
    _, info = vec.reset(seed=7)
    assert info["session_id"].tolist() == [7, 8, 9] and info["_session_id"].all()
    if brain == "other":
        assert [s.session_id for s in vec.sessions] == [7, 8, 9]
    ids = []
    for _ in range(3):  # two turns, then every sub-env resets into its second visit
        _, _, _, _, info = vec.step(np.zeros((3, 5), dtype=np.int64) + np.arange(5))
        ids.append(info["session_id"].tolist())
    assert ids == [[7, 8, 9], [7, 8, 9], [7 + VISIT_STRIDE, 8 + VISIT_STRIDE, 9 + VISIT_STRIDE]]


def _visits(envs, steps: int, seed: int) -> list[tuple]:
    """(sub-env, reward, terminated, truncated, reply) of every step with a live episode; the
    slate depends only on the sub-env and its turn, so both autoreset modes show the same."""
    obs, _ = envs.reset(seed=seed)
    lanes = np.arange(envs.num_envs)[:, None]
    out, finished = [], np.zeros(envs.num_envs, dtype=bool)
    disabled = envs.autoreset_mode is AutoresetMode.DISABLED
    while len(out) < steps:
        if disabled and finished.any():
            obs, _ = envs.reset(options={"reset_mask": finished})
        turn = np.rint(obs["turn"] * envs.max_turns).astype(np.int64)
        slates = (turn * 37 + lanes * 13 + np.arange(5) * 11) % 200
        obs, rewards, term, trunc, info = envs.step(slates)
        for i in range(envs.num_envs):
            if disabled or info["turn"][i] > 0:  # NEXT_STEP: skip the autoreset steps
                out.append((i, rewards[i], term[i], trunc[i], info["reply"][i]))
        finished = term | trunc
    return out


def test_disabled_autoreset_with_reset_masks_gives_the_same_visits_as_next_step():
    a = gym.make_vec("simrec/Golf-v0", num_envs=3)
    b = gym.make_vec("simrec/Golf-v0", num_envs=3, autoreset_mode=AutoresetMode.DISABLED)
    assert b.autoreset_mode is AutoresetMode.DISABLED
    assert b.metadata["autoreset_mode"] is AutoresetMode.DISABLED
    runs = [_visits(e, 150, 7) for e in (a, b)]
    for lane in range(3):
        first = [v for v in runs[0] if v[0] == lane]
        second = [v for v in runs[1] if v[0] == lane]
        n = min(len(first), len(second))
        assert n > 20 and first[:n] == second[:n]
        assert sum(v[2] or v[3] for v in first[:n]) >= 2  # across several visits


def test_disabled_autoreset_refuses_stepping_a_finished_sub_env_and_bad_masks():
    envs = gym.make_vec("simrec/Golf-v0", num_envs=2, autoreset_mode="Disabled", max_turns=1)
    with pytest.raises(ConfigError, match="the first reset restarts every sub-env"):
        envs.reset(options={"reset_mask": np.array([True, False])})
    envs.reset(seed=0)
    envs.step(np.tile(np.arange(5), (2, 1)))  # max_turns=1: both truncated
    with pytest.raises(ActionError, match=r"sub-envs \[0, 1\] finished their episodes"):
        envs.step(np.tile(np.arange(5), (2, 1)))
    with pytest.raises(ConfigError, match="reset_mask: expected 2 booleans"):
        envs.reset(options={"reset_mask": [1, 0]})
    envs.reset(options={"reset_mask": np.array([True, True])})
    envs.step(np.tile(np.arange(5), (2, 1)))
    with pytest.raises(ConfigError, match="'reset_mask' needs autoreset_mode"):
        gym.make_vec("simrec/Golf-v0", num_envs=2).reset(options={"reset_mask": np.ones(2, bool)})
    with pytest.raises(ConfigError, match="autoreset_mode: expected"):
        gym.make_vec("simrec/Golf-v0", num_envs=2, autoreset_mode=AutoresetMode.SAME_STEP)


def test_array_info_matches_gymnasiums_sync_vector_env_over_single_envs_bit_for_bit():
    native = gym.make_vec("simrec/Golf-v0", num_envs=4, max_turns=6, info_format="arrays")
    sync = gym.make_vec(
        "simrec/Golf-v0",
        num_envs=4,
        vectorization_mode="sync",
        max_turns=6,
        info_format="arrays",
    )
    (_, native_info), (_, sync_info) = native.reset(seed=9), sync.reset(seed=9)
    rng = np.random.default_rng(9)
    infos = [(native_info, sync_info)]
    for step in range(15):  # across ends and NEXT_STEP resets in both
        batch = actions(rng, 4, 200, step)
        infos.append((native.step(batch)[4], sync.step(batch)[4]))
    for native_info, sync_info in infos:
        assert native_info.keys() == sync_info.keys()
        for key, value in native_info.items():
            assert value.dtype != object, key  # numbers only: TorchRL stacks them as tensors
            if key != "session_id":  # numbered apart after an autoreset (VISIT_STRIDE)
                np.testing.assert_array_equal(value, sync_info[key], err_msg=key)
    observed = set(native.single_observation_space.keys())
    assert not {key for key in native_info if not key.startswith("_")} & observed
    assert any(info["clicked"].any() for info, _ in infos)
