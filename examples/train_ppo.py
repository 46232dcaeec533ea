"""Train PPO (stable-baselines3) on simrec/Golf-v0 to personalise, and compare it with the baselines.

It trains and compares at one item per turn (``--slate-size 1``; ``0`` gives the preset's
five): with five slots a fixed slate holds something for every golf persona and even the
oracle earns barely more than the best fixed schedule (docs/rl.md measures it), so there
is nothing to personalise; with one item per turn, knowing the user is worth a lot.

The policy sees, for every catalog item, how it relates to what this user clicked, bought,
dismissed and said in this visit (``ScoreSlateWrapper(env, item_features=True)``; columns in
``simrec.rl.visit_features``), scores each item with one small network shared across items,
and draws its slate without replacement from those scores
(``simrec.rl.slate_policy.ItemScoringPolicy``). It is rewarded for clicks and purchases.

After training, every policy plays the same held-out visits (seeds never used in training or
in the schedule search) and the table gives mean returns with 95% intervals:

* the best fixed per-turn schedule: for each turn, the slate that earns most when shown to
  every user, searched over the catalog on training visits — the most a policy that does
  not personalise can earn; PPO's ratio to it (with a paired bootstrap interval) is the
  measure of personalisation;
* PPO's own most common slate per turn, replayed to every user: how much of PPO's return
  needs no personalisation;
* the oracle (it reads the hidden user: the ceiling), the steer-aware policy, LinUCB,
  MMR, random and popularity.

Run::

    python examples/train_ppo.py                        # about 7 CPU-minutes in all
    python examples/train_ppo.py --load ppo-golf.zip    # evaluate a saved model again

The trained model is saved (``--save-path``, default ``ppo-golf.zip``); a scenario runs it
beside the baselines with ``ppo: {policy: "stable_baselines3:PPO", load: ppo-golf.zip,
action_form: score}`` and ``slate_size: 1`` (the wrapper is found from the model's spaces if left out; it computes the
item features from the plain env's infos). The searched schedule is saved too
(``--schedule-path``); the ``fixed_schedule`` policy shows it.

Needs the RL extra: ``pip install -e ".[rl]"``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import simrec  # noqa: F401  (registers the envs)
from simrec.events import sessions_frame
from simrec.policies import make_policy
from simrec.policies.adapters import SB3Policy
from simrec.rl.schedules import Schedule, best_fixed_schedule, most_common_slates
from simrec.rl.slate_policy import ItemScoringPolicy
from simrec.runner import run_sessions
from simrec.wrappers import ScoreSlateWrapper

BASELINES = ("oracle", "steer_aware", "linucb", "mmr", "random", "popularity")
LABELS = {
    "ppo": "PPO (item features)",
    "best_fixed_schedule": "best fixed schedule",
    "ppo_most_common_slates": "PPO's most common slates, replayed",
    "oracle": "oracle (cheats: reads the hidden user)",
}
"""Table rows by key (other rows are the policies' own names)."""


@dataclass
class Args:
    env_id: str = "simrec/Golf-v0"
    """the simrec env to train and evaluate on"""
    slate_size: int = 1
    """items shown per turn (0: the preset's own, 5 for golf); see docs/rl.md for why 1"""
    total_timesteps: int = 61_440
    """environment steps of training (user turns, summed over the parallel envs)"""
    num_envs: int = 8
    """parallel training envs (stable-baselines3 DummyVecEnv)"""
    num_steps: int = 128
    """steps per env in each rollout (a rollout is num_envs * num_steps turns)"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    gamma: float = 0.9
    """discount factor; visits last a few to twenty turns"""
    n_epochs: int = 4
    """optimisation epochs per rollout"""
    batch_size: int = 256
    """minibatch size"""
    hidden: int = 32
    """width of the item scorer's hidden layers"""
    seed: int = 0
    """seed of training (envs, network initialisation, slate sampling)"""
    eval_episodes: int = 400
    """held-out visits per policy in the evaluation"""
    eval_seed: int = 1_000_000
    """first held-out seed: evaluation visits use eval_seed, eval_seed + 1, ..."""
    schedule_visits: int = 512
    """training visits (seeds 0, 1, ...) the fixed schedule is searched on and PPO's most common slates are taken from"""
    schedule_passes: int = 2
    """passes of the schedule search over every (turn, slot)"""
    baselines: str = ",".join(BASELINES)
    """built-in policies in the comparison, comma-separated ("" for none)"""
    threads: int = 1
    """torch CPU threads"""
    save_path: str = "ppo-golf.zip"
    """where the trained model is saved (a scenario loads it: policy: stable_baselines3:PPO, load: ppo-golf.zip, action_form: score)"""
    schedule_path: str = "golf-fixed-schedule.json"
    """where the searched schedule is saved (the fixed_schedule policy reads it)"""
    load: str = ""
    """evaluate this saved model instead of training one"""
    json_path: str = ""
    """also write the figures as JSON here (what benchmarks/figures.py keeps)"""


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
            help=f"{helps.get(f.name, '')} (default: {f.default!r})",
        )  # fmt: skip
    return Args(**vars(parser.parse_args()))


def env_kwargs(args: Args) -> dict[str, Any]:
    """Keyword arguments of every env the example makes (the slate size, when set)."""
    return {"slate_size": args.slate_size} if args.slate_size else {}


def make_env(args: Args) -> gym.Env:
    return gym.make(args.env_id, **env_kwargs(args))


def train(args: Args) -> PPO:
    """PPO on ``args.env_id`` with the score action and item features."""
    envs = make_vec_env(
        lambda: ScoreSlateWrapper(make_env(args), item_features=True),
        n_envs=args.num_envs,
        seed=args.seed,
    )
    model = PPO(
        ItemScoringPolicy,
        envs,
        n_steps=args.num_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        learning_rate=args.learning_rate,
        gamma=args.gamma,
        policy_kwargs={"slate_size": envs.get_attr("k")[0], "hidden": args.hidden},
        seed=args.seed,
        device="cpu",
    )
    return model.learn(total_timesteps=args.total_timesteps)


def run(
    policy: Any, args: Args, seed: int, episodes: int, env: gym.Env | None = None
) -> tuple[np.ndarray, Any]:
    """Return of each visit of ``policy`` (visits ``seed``, ``seed + 1``, …) and the log.

    ``env``: the env the policy was made with (the oracle reads its live session)."""
    log = run_sessions(env or make_env(args), policy, episodes=episodes, seed=seed)
    return sessions_frame(log.frames()[1])["return"].to_numpy(), log


def ppo_policy(model: PPO, args: Args) -> SB3Policy:
    """The model acting in the plain env, as a scenario runs it (``action_form: score``)."""
    return SB3Policy(model, env=make_env(args), wrapper="score")


def schedule_policy(schedule: Schedule, args: Args) -> Any:
    return make_policy("fixed_schedule", make_env(args), **schedule.as_policy_params())


def fixed_schedule_returns(args: Args) -> np.ndarray:
    """Search the best fixed schedule on the training visits, save it, and return what it
    earns on the held-out visits."""
    best = best_fixed_schedule(
        args.env_id, range(args.schedule_visits), args.schedule_passes, env_kwargs(args)
    )
    best.save(args.schedule_path)
    return run(schedule_policy(best, args), args, args.eval_seed, args.eval_episodes)[0]


def evaluate(model: PPO, args: Args) -> dict[str, np.ndarray]:
    """Returns of PPO, the schedules and the baselines on the same held-out visits."""
    held_out = (args.eval_seed, args.eval_episodes)
    returns = {"ppo": run(ppo_policy(model, args), args, *held_out)[0]}
    returns["best_fixed_schedule"] = fixed_schedule_returns(args)
    _, log = run(ppo_policy(model, args), args, 0, args.schedule_visits)
    common = most_common_slates(make_env(args), log.frames()[0])
    returns["ppo_most_common_slates"] = run(schedule_policy(common, args), args, *held_out)[0]
    for name in filter(None, args.baselines.split(",")):
        env = make_env(args)
        policy = make_policy(name.strip(), env, seed=args.eval_seed)
        returns[name.strip()] = run(policy, args, *held_out, env)[0]
    return returns


def headroom(args: Args) -> dict[str, Any]:
    """What personalising could earn at all in ``args``'s env: the oracle (it reads the hidden
    user, so no real policy can match it) against the best fixed schedule, same held-out
    visits. When the oracle is not well above the schedule, no policy can be."""
    fixed = fixed_schedule_returns(args)
    env = make_env(args)
    oracle_policy = make_policy("oracle", env, seed=args.eval_seed)
    oracle = run(oracle_policy, args, args.eval_seed, args.eval_episodes, env)[0]
    low, high = ratio_interval(oracle, fixed)
    return {
        "env_id": args.env_id,
        "slate_size": int(make_env(args).unwrapped.slate_size),
        "schedule_visits": args.schedule_visits,
        "schedule_passes": args.schedule_passes,
        "eval_episodes": args.eval_episodes,
        "oracle": dict(mean=float(oracle.mean()), half=mean_and_interval(oracle)[1]),
        "best_fixed_schedule": dict(mean=float(fixed.mean()), half=mean_and_interval(fixed)[1]),
        "oracle_vs_fixed": {"mean": float(oracle.mean() / fixed.mean()), "low": low, "high": high},
    }


def mean_and_interval(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its normal 95% interval."""
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))


def ratio_interval(a: np.ndarray, b: np.ndarray, resamples: int = 4000) -> tuple[float, float]:
    """95% interval of ``mean(a) / mean(b)`` over paired visits (percentile bootstrap)."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(a), size=(resamples, len(a)))
    ratios = a[picks].mean(axis=1) / np.maximum(b[picks].mean(axis=1), 1e-12)
    low, high = np.quantile(ratios, [0.025, 0.975])
    return float(low), float(high)


def report(returns: dict[str, np.ndarray], args: Args, seconds: float | None) -> str:
    """The comparison as a Markdown table, with PPO against the best fixed schedule."""
    fixed = returns["best_fixed_schedule"]
    lines = [
        "| policy | mean return | 95% interval | vs best fixed schedule |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, values in returns.items():
        mean, half = mean_and_interval(values)
        label = LABELS.get(name, name)
        lines.append(f"| {label} | {mean:.2f} | ± {half:.2f} | {mean / fixed.mean():.2f}x |")
    low, high = ratio_interval(returns["ppo"], fixed)
    trained = f"{args.total_timesteps:,} training steps" + (
        f" ({seconds:.0f} CPU-s)" if seconds is not None else f" (loaded from {args.load})"
    )
    head = (
        f"{args.env_id} (slates of {make_env(args).unwrapped.slate_size}): PPO with item "
        f"features, {trained}; {args.eval_episodes} held-out "
        f"visits (seeds {args.eval_seed}..{args.eval_seed + args.eval_episodes - 1}); schedule "
        f"searched on {args.schedule_visits} training visits"
    )
    tail = (
        f"PPO / best fixed schedule: {returns['ppo'].mean() / fixed.mean():.2f}x "
        f"(paired bootstrap 95% interval {low:.2f}x .. {high:.2f}x)"
    )
    return "\n".join([head, "", *lines, "", tail])


def summary(returns: dict[str, np.ndarray], args: Args, seconds: float | None) -> dict[str, Any]:
    """The figures of :func:`report` as JSON-able data."""
    fixed = returns["best_fixed_schedule"]
    low, high = ratio_interval(returns["ppo"], fixed)
    policies = {}
    for name, values in returns.items():
        mean, half = mean_and_interval(values)
        policies[name] = {
            "mean": mean, "half": half, "low": mean - half, "high": mean + half,
            "vs_fixed": mean / float(fixed.mean()),
        }  # fmt: skip
    return {
        "env_id": args.env_id,
        "slate_size": int(make_env(args).unwrapped.slate_size),
        "total_timesteps": args.total_timesteps,
        "training_cpu_seconds": seconds,
        "eval_episodes": args.eval_episodes,
        "eval_seed": args.eval_seed,
        "schedule_visits": args.schedule_visits,
        "policies": policies,
        "ppo_vs_fixed": {
            "mean": float(returns["ppo"].mean() / fixed.mean()),
            "low": low,
            "high": high,
        },
    }


def compare(args: Args) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train (or load) PPO, evaluate everything, print the table; the returns and figures."""
    torch.set_num_threads(args.threads)
    if args.load:
        model, seconds = PPO.load(args.load, device="cpu"), None
    else:
        start = time.process_time()
        model = train(args)
        seconds = time.process_time() - start
        model.save(args.save_path)
    returns = evaluate(model, args)
    print(report(returns, args, seconds))
    figures = summary(returns, args, seconds)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(figures, indent=1) + "\n")
    if not args.load:
        print(f"model saved to {args.save_path}; schedule saved to {args.schedule_path}")
    return returns, figures


def main(args: Args) -> dict[str, np.ndarray]:
    return compare(args)[0]


if __name__ == "__main__":
    main(parse_args())
