"""The vector stepping backend: a shard's sessions stepped as one batched numpy computation.

:class:`VectorStepper` runs the offline (utility) brain's sessions through the vector
env's batched numeric core (:class:`~simrec.brains.utility_batch.UtilityBatch`, built by
:class:`~simrec.vector.RecSessionVectorEnv`) and logs every step as whole columns.

Every session is still an independent unit keyed by its id: when a lane starts session
``s`` it gets a fresh generator ``np_random(s)`` (as ``RecSessionEnv.reset(seed=s)``
makes), draws its persona from it, and gets a fresh policy reset with seed ``s``. The
batched core performs the single env's float operations in the same order, so the rows
are value for value those of :class:`~simrec.datagen.stepper.LaneStepper` (and of
``run_sessions``) — the dataset does not depend on the backend, the number of lanes,
shards, workers or resumes (tested byte for byte). Lanes whose session ends take the
shard's next session; lanes with none left stop being stepped.

It applies to the utility brain (exactly :class:`~simrec.brains.utility.UtilityBrain`),
no cost model, and policies that do not read observations (``observes = False`` and no
``update``, e.g. ``random`` and ``popularity``): such a policy's ``act(None, None)`` is
called once per session and step, and slates are validated and de-duplicated for all
lanes at once. :class:`VectorBackend` builds it, or falls back to ``LaneStepper`` where
it does not apply (``strict=False``, the ``auto`` backend).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from simrec.brains.utility import UtilityBrain
from simrec.brains.utility_batch import VISITS_PREDRAWN
from simrec.datagen.stepper import LaneStepper, PolicyFactory, StepCallback, default_lanes
from simrec.datagen.tables import ArrayRecorder, CostModel
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.policies import POLICIES, Policy, as_policy
from simrec.semantic_ids import ITEM_INDEX, action_form
from simrec.session import DRAW_BLOCK, EMPTY, Session
from simrec.vector import RecSessionVectorEnv

MAX_LANES = 1024
"""Default sessions stepped together (more gains little: per-step overhead is amortised)."""
LANE_MEMORY = 64 * 2**20
"""Default budget of per-lane state (``(lanes, n_items)`` arrays) in bytes."""


def vector_applies(env: RecSessionEnv, cost: CostModel | None) -> str | None:
    """Why the vector backend cannot run ``env`` (``None`` when it can)."""
    if type(env.brain) is not UtilityBrain:
        return f"brain {getattr(env.brain, 'name', env.brain)!r} is not the utility brain"
    if cost is not None:
        return "a cost model needs per-reaction objects"
    if env.conversational:
        return "conversational mode logs each policy's message"
    return None


def observes(policy: Any) -> bool:
    """Whether ``policy`` needs the single env loop: it reads observations, learns, emits
    semantic ids (resolved and logged slot by slot) or reports its own usage."""
    return (
        bool(getattr(policy, "observes", True))
        or hasattr(policy, "update")
        or hasattr(policy, "take_usage")
        or action_form(policy) != ITEM_INDEX
    )


def vector_lanes(env: RecSessionEnv, shard_size: int) -> int:
    """Default lanes: up to :data:`MAX_LANES`, the shard size, and the memory budget."""
    k = env.slate_size
    per_lane = (
        13 * len(env.catalog)
        + 8 * len(env.catalog.category_names)
        + 8 * VISITS_PREDRAWN * (DRAW_BLOCK * (k + 5) + 1)  # raw draws (DrawStreams)
        + 20 * env.history_window * k
    )
    return max(1, min(MAX_LANES, shard_size, max(64, LANE_MEMORY // per_lane)))


class VectorBackend:
    """Builds the stepping backend: vectorised where it applies (a picklable factory).

    Args:
        strict: raise :class:`~simrec.errors.ConfigError` where the vector backend does
            not apply (``backend="vector"``) instead of using ``LaneStepper`` (``"auto"``).
    """

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    @property
    def name(self) -> str:
        """``vector`` or ``auto``."""
        return "vector" if self.strict else "auto"

    def default_lanes(self, env: RecSessionEnv, shard_size: int) -> int:
        """Lanes when none are given: :func:`vector_lanes`, or the single loop's default."""
        if vector_applies(env, None) is None:
            return vector_lanes(env, shard_size)
        return default_lanes(env.brain)

    def __call__(
        self, env: RecSessionEnv, policy_factory: PolicyFactory, lanes: int, cost: CostModel | None
    ) -> Any:
        reason = vector_applies(env, cost)
        if reason is None:
            reason = _builtin_observes(policy_factory)
        if reason is None:
            return VectorStepper(env, policy_factory, lanes, strict=self.strict)
        if self.strict:
            raise ConfigError(f"backend 'vector': {reason}; use backend 'single' or 'auto'")
        return LaneStepper(env, policy_factory, lanes, cost)


def _builtin_observes(policy_factory: PolicyFactory) -> str | None:
    name = getattr(policy_factory, "name", None)
    cls = POLICIES.get(name) if isinstance(name, str) else None
    if cls is not None and observes(cls):
        return f"policy {name!r} reads observations, learns or emits semantic ids"
    return None


class _ObservingPolicy(Exception):
    """A session's policy reads observations: the shard needs the single env loop."""


class VectorStepper:
    """Steps up to ``lanes`` sessions at once through the utility brain's batched core.

    Args:
        env: the shard runner's :class:`RecSessionEnv` (catalog, personas, settings, the
            brain); it is handed to the policy factory and otherwise not touched.
        policy_factory: ``factory(env, session_seed) -> policy`` (a policy with
            ``observes = False`` and no ``update``).
        lanes: sessions stepped together.
        strict: a policy that reads observations raises instead of running the shard
            through :class:`LaneStepper`.
    """

    def __init__(
        self, env: RecSessionEnv, policy_factory: PolicyFactory, lanes: int, strict: bool = False
    ) -> None:
        if lanes < 1:
            raise ValueError(f"lanes: expected a positive integer, got {lanes}")
        self.env = env
        self.policy_factory = policy_factory
        self.strict = strict
        self.vec = RecSessionVectorEnv(
            lanes,
            catalog=env.catalog,
            personas=env.personas,
            slate_size=env.slate_size,
            max_turns=env.max_turns,
            history_window=env.history_window,
            reward_weights=env.reward_weights,
            brain=env.brain,
            dynamics=env.dynamics,
        )
        if self.vec.batch is None:
            raise ConfigError("the vector backend needs the utility brain")
        self.batch = self.vec.batch
        self.lanes = lanes
        self.constraints = _constraint_texts(self.vec)

    def run(self, session_ids: Sequence[int], on_step: StepCallback | None = None) -> ArrayRecorder:
        """Run every session of ``session_ids``; returns the recorder holding their steps."""
        try:
            return self._run(session_ids, on_step)
        except _ObservingPolicy as exc:
            if self.strict:
                raise ConfigError(
                    f"backend 'vector': {exc}; use backend 'single' or 'auto'"
                ) from None
            env = self.env
            return LaneStepper(env, self.policy_factory, default_lanes(env.brain)).run(
                session_ids, on_step
            )

    def _run(self, session_ids: Sequence[int], on_step: StepCallback | None) -> ArrayRecorder:
        env, batch, vec = self.env, self.batch, self.vec
        k, max_turns = env.slate_size, env.max_turns
        recorder = ArrayRecorder(
            env.catalog, k, env.reward_weights, env.brain.name, vec.personas, self.constraints
        )
        pending = iter(session_ids)
        lane_sid = np.full(self.lanes, -1, dtype=np.int64)
        policies: list[Policy | None] = [None] * self.lanes
        rows = self._start(np.arange(self.lanes), pending, lane_sid, policies, first=True)
        while len(rows):
            slates, duplicates = self._slates([policies[i].act(None, None) for i in rows.tolist()])
            persona, turn = batch.persona[rows], batch.turn[rows]
            reaction = batch.step(rows, slates)
            reply_ids = batch.phrases.replies(reaction.reply_codes)  # may grow reply_texts
            replies = batch.phrases.reply_texts[reply_ids]
            recorder.add(
                lane_sid[rows], persona, turn + 1, batch.state_of[persona, turn], slates,
                duplicates, reaction, replies, batch,
            )  # fmt: skip
            ended = reaction.left | (turn + 1 >= max_turns)
            restarted = self._start(rows[ended], pending, lane_sid, policies)
            rows = np.sort(np.concatenate([rows[~ended], restarted]))
            if on_step is not None:
                on_step(int(ended.sum()), len(slates) * k, 0, 0.0)
        return recorder

    def _start(
        self,
        lanes: np.ndarray,
        pending: Any,
        lane_sid: np.ndarray,
        policies: list[Policy | None],
        first: bool = False,
    ) -> np.ndarray:
        """Start the next sessions in ``lanes`` (as many as remain); returns the lanes used."""
        used, rngs = [], []
        for lane in lanes.tolist():
            session_id = next(pending, None)
            if session_id is None:
                break
            rng = _session_rng(session_id)
            policy = as_policy(self.policy_factory(self.env, session_id))
            if observes(policy):
                if first:
                    raise _ObservingPolicy(
                        f"policy {type(policy).__name__} reads observations, learns, emits "
                        "semantic ids or reports usage (set observes = False on a policy "
                        "that does not read observations)"
                    )
                raise ConfigError(
                    f"policy factory: session {session_id}'s policy reads observations but the "
                    "shard's first sessions' did not; use backend 'single'"
                )
            if hasattr(policy, "reset"):
                policy.reset(seed=session_id)
            policies[lane], lane_sid[lane] = policy, session_id
            rngs.append(rng)
            used.append(lane)
        started = np.array(used, dtype=np.int64)
        if len(started):
            self.batch.streams.assign(started, rngs)
            self.batch.start(started)
        return started

    def _slates(self, actions: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Validate and de-duplicate every lane's action like ``RecSessionEnv.validate_slate``."""
        k, n = self.env.slate_size, len(self.env.catalog)
        try:
            array = np.asarray(actions)
        except (TypeError, ValueError):
            array = None
        if (
            array is None
            or array.shape != (len(actions), k)
            or array.dtype.kind not in "iu"
            or ((array < 0) | (array >= n)).any()
        ):
            for action in actions:  # raises the single env's error for the first bad one
                self.env.validate_slate(action)
            raise AssertionError("unreachable: a bad action passed validate_slate")
        slates = array.astype(np.int64)
        repeated = np.zeros(slates.shape, dtype=bool)
        for pos in range(1, k):
            repeated[:, pos] = (slates[:, :pos] == slates[:, pos : pos + 1]).any(axis=1)
        slates[repeated] = EMPTY
        return slates, repeated.sum(axis=1)


def _session_rng(seed: int) -> np.random.Generator:
    """The generator ``RecSessionEnv.reset(seed=seed)`` makes (``seeding.np_random``).

    Built directly (the same ``PCG64(SeedSequence(seed))``) for valid seeds: gymnasium's
    checks cost a fifth of a short session's time; anything else gets its error.
    """
    if isinstance(seed, int) and seed >= 0:
        return np.random.Generator(np.random.PCG64(seed))
    return seeding.np_random(seed)[0]


def _constraint_texts(vec: RecSessionVectorEnv) -> np.ndarray:
    """``(n_personas, max_turns + 1)`` JSON of the constraint that applies at each turn.

    Entry ``[p, t]`` is what ``ShardRecorder`` logs for persona ``p`` before slate
    ``t + 1`` (``None`` when no steering constraint applies).
    """
    env = vec.env
    texts = np.full((len(vec.personas), vec.max_turns + 1), None, dtype=object)
    cache: dict[int, str] = {}
    for pi, bound in enumerate(vec._bounds):
        probe = Session(bound, env.slate_size, env.history_window, env.dynamics)
        for turn in range(vec.max_turns + 1):
            probe.skip_to(turn)
            if probe.constraint_on:
                constraint = probe.active_constraint()
                if id(constraint) not in cache:
                    cache[id(constraint)] = _json(constraint)
                texts[pi, turn] = cache[id(constraint)]
    return texts


def _json(constraint: Any) -> str:
    return json.dumps(constraint.to_dict(), sort_keys=True)
