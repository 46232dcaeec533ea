"""A saved stable-baselines3 model runs in a scenario through ``policy: ... load: ...``."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from simrec.policies.adapters import SB3Policy
from simrec.scenario import load_scenario
from simrec.scenario_run import run_scenario

pytest.importorskip("stable_baselines3", reason="install simrec[rl] for the RL extras")


def test_a_saved_ppo_model_is_loaded_from_the_scenario_and_evaluated(tmp_path: Path):
    from stable_baselines3 import PPO

    model = PPO("MultiInputPolicy", gym.make("simrec/Golf-v0"), n_steps=64, seed=0, device="cpu")
    model.save(tmp_path / "ppo.zip")
    scenario = tmp_path / "rl.yaml"
    scenario.write_text(
        "env: golf\nepisodes: 2\nseeds: 2\nhorizon: 3\n"
        # users who never go home early: the 2-seed interval of session_length stays tight
        "brain_kwargs: {need_met_leave_logit: -100}\n"
        "policies:\n"
        "  ppo: {policy: 'stable_baselines3:PPO', load: ppo.zip, device: cpu}\n"
        "  random: random\n"
        "assertions:\n  - ppo.novelty.session_length <= 3\n"
    )
    loaded = load_scenario(scenario)
    assert loaded.policies["ppo"].load == str(tmp_path / "ppo.zip")
    result = run_scenario(loaded)
    assert result.passed, result.outcomes[0].message
    assert len(result.per_seed["ppo"]["cold_start"]["return"]) == 2
    slate = SB3Policy(model).act(*gym.make("simrec/Golf-v0").reset(seed=0))
    assert slate.shape == (5,) and slate.dtype.kind == "i"


def _score_model(path: Path) -> None:
    from stable_baselines3 import PPO

    from simrec.wrappers import ScoreSlateWrapper

    env = ScoreSlateWrapper(gym.make("simrec/Golf-v0"))
    PPO("MultiInputPolicy", env, n_steps=64, seed=0, device="cpu").save(path)


@pytest.mark.parametrize("form", ["", "    action_form: score\n"])
def test_a_model_trained_on_the_score_wrapper_runs_named_or_recognised(tmp_path, form):
    _score_model(tmp_path / "ppo.zip")
    scenario = tmp_path / "rl.yaml"
    scenario.write_text(
        "env: golf\nepisodes: 2\nseeds: 2\nhorizon: 3\n"
        # users who never go home early: the 2-seed interval of session_length stays tight
        "brain_kwargs: {need_met_leave_logit: -100}\n"
        "policies:\n"
        "  ppo:\n    policy: 'stable_baselines3:PPO'\n    load: ppo.zip\n    device: cpu\n"
        f"{form}"
        "  random: random\n"
        "assertions:\n  - ppo.novelty.session_length <= 3\n"
    )
    result = run_scenario(load_scenario(scenario))
    assert result.passed, result.outcomes[0].message
    assert len(result.per_seed["ppo"]["cold_start"]["return"]) == 2


def test_the_old_wrapper_key_still_works_with_a_warning_naming_its_line(tmp_path):
    from simrec.errors import ConfigError

    _score_model(tmp_path / "ppo.zip")
    scenario = tmp_path / "rl.yaml"
    head = (
        "env: golf\nseeds: 2\nhorizon: 3\npolicies:\n  ppo:\n    policy: 'stable_baselines3:PPO'\n"
    )
    scenario.write_text(
        head + "    load: ppo.zip\n    wrapper: score\nassertions:\n  - ppo.novelty.return >= 0\n"
    )
    with pytest.warns(
        FutureWarning, match=r"rl.yaml:8: field 'policies.ppo.wrapper': .*'action_form'"
    ):
        loaded = load_scenario(scenario)
    assert loaded.policies["ppo"].wrapper == "score"
    scenario.write_text(
        head + "    load: ppo.zip\n    wrapper: score\n    action_form: score\n"
        "assertions:\n  - ppo.novelty.return >= 0\n"
    )
    with pytest.raises(
        ConfigError, match="rl.yaml:8: field 'policies.ppo.wrapper': give 'action_form' only"
    ):
        load_scenario(scenario)


def test_a_model_whose_spaces_do_not_fit_is_a_clear_error(tmp_path):
    from stable_baselines3 import PPO

    from simrec.errors import ConfigError
    from simrec.policies.adapters import load_policy

    _score_model(tmp_path / "ppo.zip")
    smaller = gym.make("simrec/Golf-v0", slate_size=4)  # other observation sizes
    with pytest.raises(ConfigError, match="the model was trained on observations"):
        load_policy("stable_baselines3:PPO", smaller, load=tmp_path / "ppo.zip")
    PPO("MultiInputPolicy", gym.make("simrec/Golf-v0"), n_steps=64, device="cpu").save(
        tmp_path / "slates.zip"
    )
    golf = gym.make("simrec/Golf-v0")
    with pytest.raises(ConfigError, match="wrapper ScoreSlateWrapper takes actions Box"):
        load_policy("stable_baselines3:PPO", golf, load=tmp_path / "slates.zip", wrapper="score")


def test_an_unknown_wrapper_is_named_with_its_line(tmp_path):
    from simrec.errors import ConfigError

    scenario = tmp_path / "rl.yaml"
    scenario.write_text(
        "env: golf\nseeds: 2\nhorizon: 3\npolicies:\n"
        "  ppo: {policy: 'stable_baselines3:PPO', load: ppo.zip, action_form: scores}\n"
        "  mine: {policy: 'random', action_form: score}\n"
        "assertions:\n  - ppo.novelty.return >= 0\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"rl.yaml:6: field 'policies.mine.action_form': expected one of item_index, "
        r"semantic_id, semantic_tokens, or for a loaded model \('load:'\) an action wrapper",
    ):
        load_scenario(scenario)
    scenario.write_text(
        scenario.read_text().replace("  mine: {policy: 'random', action_form: score}\n", "")
    )
    with pytest.raises(
        ConfigError,
        match=r"rl.yaml:5: field 'policies.ppo.action_form': wrapper 'scores': expected one of: score",
    ):
        load_scenario(scenario)
