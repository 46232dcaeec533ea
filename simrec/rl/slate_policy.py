"""An actor-critic for slates that scores every item with one network shared across items.

Made for :class:`~simrec.wrappers.ScoreSlateWrapper` with ``item_features=True`` and
stable-baselines3's PPO (``PPO(ItemScoringPolicy, env, policy_kwargs={"slate_size": k})``):

* **Actor.** Each item's row of ``item_features``, joined with the ``visit_features``, goes
  through the same small MLP to one logit, plus a learned bias per item. The network's
  size barely grows with the catalog and what it learns about one item (resembles what
  this user clicked, was dismissed, breaks their request) applies to every item: it
  personalises from the first visit instead of memorising one good slate per turn.
* **Slates, not score noise.** A Gaussian over ``n_items`` scores explores by jittering
  every score, and ``n_items - k`` of them change nothing the user sees: their noise
  drowns the gradient. Here a slate is drawn from the Plackett-Luce distribution of the
  logits (``k`` items without replacement, Gumbel top-``k``), and its probability is the
  one PPO's ratio uses. The action handed to the env is a score vector that ranks the
  slate first (``1 … 0`` for its slots, ``-1`` elsewhere), so the model's action space is
  the score wrapper's and a scenario runs it with ``action_form: score``. The deterministic
  action is the top-``k`` logits.
* **Critic.** The mean and maximum of the item rows (over the catalog) and the visit
  features through an MLP.

Needs the ``rl`` extra (torch, stable-baselines3).
"""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


def slate_scores(slates: th.Tensor, n_items: int) -> th.Tensor:
    """Score vectors ``(batch, n_items)`` that rank each slate ``(batch, k)`` first, in order."""
    k = slates.shape[-1]
    scores = th.full((*slates.shape[:-1], n_items), -1.0, device=slates.device)
    ranks = th.linspace(1.0, 0.0, k, device=slates.device) if k > 1 else th.ones(1)
    return scores.scatter(-1, slates, ranks.expand_as(slates).to(scores.dtype))


class PlackettLuceSlate(Distribution):
    """Slates of ``k`` distinct items drawn without replacement in proportion to ``exp(logit)``.

    Actions are score vectors (see :func:`slate_scores`); the slate an action stands for
    is its ``k`` highest entries, in order.
    """

    def __init__(self, slate_size: int) -> None:
        super().__init__()
        self.k = int(slate_size)
        self.logits: th.Tensor | None = None
        self._entropy: th.Tensor | None = None

    def proba_distribution_net(self, *args: Any, **kwargs: Any) -> nn.Module:
        """The actor already ends in one logit per item: nothing to add."""
        return nn.Identity()

    def proba_distribution(self, action_logits: th.Tensor) -> PlackettLuceSlate:
        self.logits = action_logits
        self._entropy = None
        return self

    def _slate_log_prob(self, slates: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Log-probability of each slate, and the entropies of its slots' choices."""
        assert self.logits is not None
        logits = self.logits
        taken = th.zeros_like(logits, dtype=th.bool)
        log_prob = th.zeros(logits.shape[0], device=logits.device)
        entropy = th.zeros_like(log_prob)
        for slot in range(self.k):
            masked = logits.masked_fill(taken, float("-inf"))
            log_p = masked - th.logsumexp(masked, dim=-1, keepdim=True)
            item = slates[:, slot : slot + 1]
            log_prob = log_prob + log_p.gather(-1, item).squeeze(-1)
            finite = log_p.masked_fill(taken, 0.0)  # no 0 * -inf (NaN gradients)
            entropy = entropy - (finite.exp() * finite).masked_fill(taken, 0.0).sum(-1)
            taken = taken.scatter(-1, item, True)
        return log_prob, entropy

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        slates = th.topk(actions, self.k, dim=-1).indices
        log_prob, self._entropy = self._slate_log_prob(slates)
        return log_prob

    def entropy(self) -> th.Tensor | None:
        """Sum of the slots' entropies along the last slates scored (``None`` before)."""
        return self._entropy

    def sample(self) -> th.Tensor:
        assert self.logits is not None
        uniform = th.rand_like(self.logits).clamp_(1e-12, 1.0 - 1e-7)
        gumbel = -th.log(-th.log(uniform))
        slates = th.topk(self.logits + gumbel, self.k, dim=-1).indices
        return slate_scores(slates, self.logits.shape[-1])

    def mode(self) -> th.Tensor:
        assert self.logits is not None
        slates = th.topk(self.logits, self.k, dim=-1).indices
        return slate_scores(slates, self.logits.shape[-1])

    def actions_from_params(self, action_logits: th.Tensor, deterministic: bool = False):
        self.proba_distribution(action_logits)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, action_logits: th.Tensor):
        actions = self.actions_from_params(action_logits)
        return actions, self.log_prob(actions)


class VisitFeaturesInput(BaseFeaturesExtractor):
    """Passes ``item_features`` (flattened) and ``visit_features`` through, concatenated."""

    def __init__(self, observation_space: spaces.Dict) -> None:
        items = observation_space["item_features"].shape
        visit = observation_space["visit_features"].shape
        super().__init__(observation_space, items[0] * items[1] + visit[0])

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        items = observations["item_features"]
        return th.cat([items.flatten(1), observations["visit_features"]], dim=1)


class ItemScorer(nn.Module):
    """Actor (one logit per item from a shared MLP) and critic over the visit's features."""

    def __init__(self, n_items: int, n_features: int, n_visit: int, hidden: int) -> None:
        super().__init__()
        self.n_items, self.n_features = n_items, n_features
        self.item_bias = nn.Parameter(th.zeros(n_items))
        """A learned logit per item: what is worth showing whoever the user is."""
        self.actor = nn.Sequential(
            nn.Linear(n_features + n_visit, hidden), nn.Tanh(),
            nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, 1),
        )  # fmt: skip
        self.critic = nn.Sequential(
            nn.Linear(2 * n_features + n_visit, 2 * hidden), nn.Tanh(),
            nn.Linear(2 * hidden, hidden), nn.Tanh(),
        )  # fmt: skip
        self.latent_dim_pi = n_items
        self.latent_dim_vf = hidden

    def split(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        flat = self.n_items * self.n_features
        items = features[:, :flat].reshape(-1, self.n_items, self.n_features)
        return items, features[:, flat:]

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        items, visit = self.split(features)
        joined = th.cat([items, visit[:, None, :].expand(-1, self.n_items, -1)], dim=-1)
        return self.actor(joined).squeeze(-1) + self.item_bias

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        items, visit = self.split(features)
        return self.critic(th.cat([items.mean(1), items.amax(1), visit], dim=-1))


class ItemScoringPolicy(ActorCriticPolicy):
    """stable-baselines3 actor-critic for the score wrapper with item features.

    Args:
        observation_space: a ``Dict`` with ``item_features`` and ``visit_features``.
        action_space: the score wrapper's ``Box(-1, 1, (n_items,))``.
        lr_schedule: learning rate schedule (given by the algorithm).
        slate_size: ``k``, the items shown per turn.
        hidden: width of the item scorer's hidden layers.
        **kwargs: passed to ``ActorCriticPolicy`` (``ortho_init``, ``optimizer_kwargs`` …).

    Example::

        env = ScoreSlateWrapper(gym.make("simrec/Golf-v0"), item_features=True)
        model = PPO(ItemScoringPolicy, env, policy_kwargs={"slate_size": 5})
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Box,
        lr_schedule: Any,
        slate_size: int = 5,
        hidden: int = 32,
        **kwargs: Any,
    ) -> None:
        if not isinstance(observation_space, spaces.Dict) or not {
            "item_features", "visit_features"
        } <= set(observation_space.spaces):  # fmt: skip
            raise ValueError(
                "ItemScoringPolicy needs the observations of ScoreSlateWrapper(env, "
                f"item_features=True), got {observation_space}"
            )
        self.slate_size = int(slate_size)
        self.hidden = int(hidden)
        kwargs.setdefault("features_extractor_class", VisitFeaturesInput)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build_mlp_extractor(self) -> None:
        items = self.observation_space["item_features"].shape
        visit = self.observation_space["visit_features"].shape
        self.mlp_extractor = ItemScorer(items[0], items[1], visit[0], self.hidden)

    def _build(self, lr_schedule: Any) -> None:
        self._build_mlp_extractor()
        self.action_dist = PlackettLuceSlate(self.slate_size)
        self.action_net = self.action_dist.proba_distribution_net()
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            self.mlp_extractor.apply(lambda m: self.init_weights(m, gain=2**0.5))
            self.init_weights(self.mlp_extractor.actor[-1], gain=0.01)
            self.init_weights(self.value_net, gain=1.0)
        self.optimizer = self.optimizer_class(
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> PlackettLuceSlate:
        return self.action_dist.proba_distribution(latent_pi)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(slate_size=self.slate_size, hidden=self.hidden)
        return data


__all__ = ["ItemScoringPolicy", "PlackettLuceSlate", "slate_scores"]
