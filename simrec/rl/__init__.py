"""Reinforcement learning on simrec: what an RL recommender sees of the visit, and the
baselines it must beat.

* :mod:`simrec.rl.visit_features` — per-item features of one user's visit (how each item
  relates to what this user clicked, bought, dismissed and said so far), the observation
  of :class:`~simrec.wrappers.ScoreSlateWrapper` with ``item_features=True``. numpy only.
* :mod:`simrec.rl.schedules` — the best fixed per-turn schedule (one slate per turn shown
  to every user, found by search) and the replay of a policy's most common slate per
  turn: what a policy that does not personalise could earn. numpy only.
* :mod:`simrec.rl.slate_policy` — a stable-baselines3 actor-critic that scores every item
  with one small network shared across items and samples slates without replacement
  (Plackett-Luce). Needs the ``rl`` extra (torch, stable-baselines3); not imported here.
"""

from simrec.rl.visit_features import VisitFeatures

__all__ = ["VisitFeatures"]
