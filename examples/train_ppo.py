"""Train PPO (stable-baselines3) on simrec/Golf-v0 and compare it with random and popularity.

The policy outputs one score per catalog item (``ScoreSlateWrapper``: the env shows the
top-k), sees the default numeric observation (recent slates, their feedback, the turn,
an encoding of the user's last reply), and is rewarded for clicks and purchases. After
training, the learned policy, a random policy and the popularity policy each play the
same held-out sessions (seeds never used in training) and the mean returns are printed
with 95% intervals.

Run::

    python examples/train_ppo.py                    # default budget (a few minutes, CPU)
    python examples/train_ppo.py --total-timesteps 10000 --eval-episodes 100

The trained model is saved (``--save-path``, default ``ppo-golf.zip``); a scenario runs it
beside the baselines with ``ppo: {policy: "stable_baselines3:PPO", load: ppo-golf.zip}``
(its score-vector actions are recognised and turned into slates; ``action_form: score`` says so
explicitly).

Needs the RL extra: ``pip install -e ".[rl]"``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import time
from dataclasses import dataclass, fields

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import simrec  # noqa: F401  (registers the envs)
from simrec.events import sessions_frame
from simrec.policies import make_policy
from simrec.runner import run_sessions
from simrec.wrappers import ScoreSlateWrapper


@dataclass
class Args:
    env_id: str = "simrec/Golf-v0"
    """the simrec env to train and evaluate on"""
    total_timesteps: int = 60_000
    """environment steps of training (user turns, summed over the parallel envs)"""
    num_envs: int = 8
    """parallel training envs (stable-baselines3 DummyVecEnv)"""
    num_steps: int = 128
    """steps per env in each rollout (a rollout is num_envs * num_steps turns)"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    gamma: float = 0.9
    """discount factor; sessions last about ten turns"""
    n_epochs: int = 10
    """optimisation epochs per rollout"""
    batch_size: int = 256
    """minibatch size"""
    log_std_init: float = -1.0
    """initial log standard deviation of the Gaussian over item scores (lower: less random slates at first)"""
    seed: int = 0
    """seed of training (envs, network initialisation)"""
    eval_episodes: int = 200
    """held-out sessions per policy in the evaluation"""
    eval_seed: int = 1_000_000
    """first held-out seed: evaluation sessions use eval_seed, eval_seed + 1, ..."""
    threads: int = 1
    """torch CPU threads"""
    save_path: str = "ppo-golf.zip"
    """where the trained model is saved (a scenario loads it: policy: stable_baselines3:PPO, load: ppo-golf.zip)"""


def parse_args() -> Args:
    """Command-line flags from the fields of :class:`Args`, with their docstrings as help."""
    tree = ast.parse(inspect.getsource(Args))
    body = tree.body[0].body  # type: ignore[attr-defined]
    helps = {
        node.target.id: body[i + 1].value.value
        for i, node in enumerate(body[:-1])
        if isinstance(node, ast.AnnAssign) and isinstance(body[i + 1], ast.Expr)
    }
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(Args):
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
            help=f"{helps.get(f.name, '')} (default: {f.default})",
        )  # fmt: skip
    return Args(**vars(parser.parse_args()))


def train(args: Args) -> PPO:
    """PPO on ``args.env_id`` with the score-vector action."""
    torch.set_num_threads(args.threads)
    envs = make_vec_env(
        lambda: ScoreSlateWrapper(gym.make(args.env_id)), n_envs=args.num_envs, seed=args.seed
    )
    model = PPO(
        "MultiInputPolicy",
        envs,
        n_steps=args.num_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        learning_rate=args.learning_rate,
        gamma=args.gamma,
        policy_kwargs={"log_std_init": args.log_std_init},
        seed=args.seed,
        device="cpu",
    )
    return model.learn(total_timesteps=args.total_timesteps)


class ModelPolicy:
    """The trained model as a simrec policy (its actions are item scores)."""

    def __init__(self, model: PPO) -> None:
        self.model = model

    def act(self, observation, info):
        action, _ = self.model.predict(observation, deterministic=True)
        return action


def session_returns(env: gym.Env, policy, args: Args) -> np.ndarray:
    """Return of each held-out session of ``policy`` in ``env``."""
    log = run_sessions(env, policy, episodes=args.eval_episodes, seed=args.eval_seed)
    return sessions_frame(log.frames()[1])["return"].to_numpy()


def mean_and_interval(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its normal 95% interval."""
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))


def evaluate(model: PPO, args: Args) -> dict[str, np.ndarray]:
    """Returns of PPO, random and popularity on the same held-out sessions."""
    env = gym.make(args.env_id)
    return {
        "ppo": session_returns(ScoreSlateWrapper(gym.make(args.env_id)), ModelPolicy(model), args),
        "random": session_returns(env, make_policy("random", env, seed=args.eval_seed), args),
        "popularity": session_returns(env, make_policy("popularity", env), args),
    }


def main(args: Args) -> dict[str, np.ndarray]:
    start = time.perf_counter()
    model = train(args)
    trained = time.perf_counter() - start
    model.save(args.save_path)
    returns = evaluate(model, args)
    print(
        f"{args.env_id}: PPO with the score-vector action, {args.total_timesteps:,} training "
        f"steps ({trained:.0f} s); {args.eval_episodes} held-out sessions "
        f"(seeds {args.eval_seed}..{args.eval_seed + args.eval_episodes - 1})"
    )
    print(f"{'policy':<12} {'mean return':>12} {'95% interval':>14}")
    for name, values in returns.items():
        mean, half = mean_and_interval(values)
        print(f"{name:<12} {mean:>12.2f} {'±':>6} {half:.2f}")
    print(f"model saved to {args.save_path}")
    return returns


if __name__ == "__main__":
    main(parse_args())
