"""simrec.rl.slate_policy: Plackett-Luce slates over a per-item scorer, inside SB3's PPO."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

th = pytest.importorskip("torch", reason="install simrec[rl] for the RL extras")
pytest.importorskip("stable_baselines3", reason="install simrec[rl] for the RL extras")

from simrec.rl.slate_policy import PlackettLuceSlate, slate_scores  # noqa: E402


def test_slate_probabilities_are_a_distribution_over_ordered_slates():
    logits = th.tensor([[0.5, -1.0, 2.0, 0.0]])
    dist = PlackettLuceSlate(2).proba_distribution(logits)
    slates = list(itertools.permutations(range(4), 2))
    actions = slate_scores(th.tensor(slates), 4)
    probs = th.exp(dist.proba_distribution(logits.expand(len(slates), -1)).log_prob(actions))
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-6)
    # the first slot follows the softmax; the second the softmax of what is left
    p = th.softmax(logits[0], 0)
    assert float(probs[slates.index((2, 0))]) == pytest.approx(
        float(p[2] * p[0] / (1 - p[2])), rel=1e-5
    )


def test_samples_follow_the_probabilities_and_the_mode_is_the_top_k():
    th.manual_seed(0)
    logits = th.tensor([[1.0, 0.0, 2.0, -1.0]]).expand(20_000, -1)
    dist = PlackettLuceSlate(2).proba_distribution(logits)
    actions = dist.sample()
    slates = th.topk(actions, 2, dim=-1).indices
    assert all(len(set(s)) == 2 for s in slates[:100].tolist())  # distinct items
    first = np.bincount(slates[:, 0].numpy(), minlength=4) / len(slates)
    assert first == pytest.approx(th.softmax(logits[0], 0).numpy(), abs=0.015)
    assert th.topk(dist.mode()[0], 2).indices.tolist() == [2, 0]
    log_prob = dist.proba_distribution(logits[:1]).log_prob(dist.mode()[:1])
    assert float(log_prob[0]) < 0
    assert dist.entropy() is not None and float(dist.entropy()[0]) > 0


def test_slate_scores_rank_the_slate_first_in_order():
    scores = slate_scores(th.tensor([[3, 1, 4]]), 6)
    assert th.topk(scores, 3).indices.tolist() == [[3, 1, 4]]
    assert scores.min() == -1 and scores.max() == 1
