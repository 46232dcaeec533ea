"""The native vector env: many simulated users stepped together in one batched computation.

``gym.make_vec("simrec/Golf-v0", num_envs=1024)`` returns a :class:`RecSessionVectorEnv`
(registered through ``vector_entry_point``, like Gymnasium's ``CartPoleVectorEnv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from simrec.brains.base import Brain
from simrec.brains.utility import UtilityBrain
from simrec.brains.utility_batch import REPLY_PARTS, UtilityBatch, slot_count
from simrec.catalog import Catalog
from simrec.env import RecSessionEnv, check_message
from simrec.errors import ActionError, ConfigError
from simrec.persona import Persona
from simrec.replies import REPLY_DIM, encode_reply
from simrec.semantic_ids.slate import ResolvedSlate
from simrec.session import EMPTY, Session, SessionDynamics
from simrec.validation import integer_action

VISIT_STRIDE = 1 << 32
"""Session ids of a sub-env's visits: ``seed + i`` for sub-env ``i``'s first visit after a
seeded reset (``i`` unseeded), then ``VISIT_STRIDE`` more for each autoreset. They depend
only on the sub-env and its visit, never on ``num_envs``, so an LLM brain's recorded
answers (keyed on session and turn) replay whatever the number of sub-envs."""


class RecSessionVectorEnv(VectorEnv):
    """``num_envs`` independent :class:`~simrec.env.RecSessionEnv` visits, stepped as one batch.

    ## Description
    Sub-env ``i`` behaves exactly like a single ``RecSessionEnv`` built with the same
    arguments: reset with ``seed`` the vector env seeds sub-env ``i`` with ``seed + i``
    (as ``gymnasium.utils.seeding.np_random(seed + i)``), draws its own persona from the
    pool, and produces bit for bit the observations, rewards, ends and replies the single
    env would for the same actions. With the default ``utility`` brain all sub-sessions
    advance in one numpy computation over struct-of-arrays state
    (:class:`~simrec.brains.utility_batch.UtilityBatch`, drawing from the sub-envs'
    generators in bulk through :class:`~simrec.draw_streams.DrawStreams`); any other brain
    (an LLM) gets every sub-session of a step in one
    ``brain.react(sessions, slates, messages, rngs)`` call, so a concurrent brain answers
    all of them in about one call's latency.

    ## Spaces
    ``single_action_space`` and ``single_observation_space`` are the single env's;
    ``action_space`` and ``observation_space`` are their batches (``batch_space``).

    ## Autoreset
    ``autoreset_mode`` (an attribute, also in ``metadata``) is ``AutoresetMode.NEXT_STEP``
    by default: the step after a sub-env's episode ends resets it (its action is ignored;
    reward 0, not terminated or truncated, the observation and info are the reset's), as
    Gymnasium's own vector envs do. With ``autoreset_mode=AutoresetMode.DISABLED`` nothing
    resets by itself: ``reset(options={"reset_mask": mask})`` restarts the sub-envs where
    ``mask`` is true (TorchRL's ``GymWrapper`` drives vector envs this way), and stepping a
    finished sub-env is an error. Either way sub-env ``i`` sees the same visits, bit for bit.

    ## Info
    Arrays with one entry per sub-env (each with its ``_key`` mask, all true): ``reply``
    (str), ``persona_id`` (str), ``turn``, ``session_id`` (the current visit's id, see
    :data:`VISIT_STRIDE`), ``duplicates``, ``hallucinated`` (slots whose semantic id named
    no item, through :class:`~simrec.semantic_ids.SemanticIdSlateVector`), ``clicked`` / ``purchased`` /
    ``dismissed`` (``(num_envs, slate_size)`` bool, all false on reset steps), and
    ``ground_truth`` (``satisfaction``, ``fatigue``). When some sub-envs start a visit (a
    reset, an autoreset step), ``user_history`` (``(num_envs, history_size)``, in the single
    env's ``history_dtype``: the narrowest signed integer holding every catalog index, int16
    for a catalog of 129 to 32,768 items; each started sub-env's row as the single env's
    reset info gives it, padded with ``-1``) and
    ``user_history_length`` are added, their masks true for the started sub-envs only and
    the other rows zeros: what Gymnasium's ``SyncVectorEnv`` gives over single envs
    (:func:`~simrec.env.user_history` reads a row). With ``info_format="arrays"``: the
    single env's array info, one entry per sub-env (see :class:`~simrec.env.RecSessionEnv`).
    The event log and rendering of the single env are not available here.

    ## Arguments
    ``num_envs``, ``autoreset_mode`` (``NEXT_STEP`` or ``DISABLED``) plus every argument of
    :class:`~simrec.env.RecSessionEnv` except ``render_mode`` (rendering is per session:
    use the single env).
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}
    AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED)

    def __init__(
        self,
        num_envs: int = 1,
        catalog: Catalog | str | Path | Mapping[str, Any] | None = None,
        personas: Sequence[Persona] | str | Path | None = None,
        slate_size: int = 5,
        max_turns: int = 20,
        history_window: int = 3,
        reward_weights: Mapping[str, float] | None = None,
        brain: str | Brain = "utility",
        brain_kwargs: Mapping[str, Any] | None = None,
        dynamics: SessionDynamics | None = None,
        conversational: bool = False,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        info_format: str = "full",
    ) -> None:
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in self.AUTORESET_MODES:
            raise ConfigError(
                f"autoreset_mode: expected AutoresetMode.NEXT_STEP or AutoresetMode.DISABLED, "
                f"got {autoreset_mode!r}"
            )
        self.autoreset_mode = mode
        """As on Gymnasium's own vector envs (TorchRL's ``GymWrapper`` reads the attribute)."""
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ConfigError(f"num_envs: expected a positive integer, got {num_envs!r}")
        if catalog is None or personas is None:
            raise ConfigError(
                "RecSessionVectorEnv needs a catalog and personas (or use a preset id)"
            )
        self.env = RecSessionEnv(
            catalog,
            personas,
            slate_size=slate_size,
            max_turns=max_turns,
            history_window=history_window,
            reward_weights=reward_weights,
            brain=brain,
            brain_kwargs=brain_kwargs,
            dynamics=dynamics,
            conversational=conversational,
            info_format=info_format,
        )
        env = self.env
        self.num_envs = int(num_envs)
        self.catalog, self.personas, self.brain = env.catalog, env.personas, env.brain
        self.slate_size, self.max_turns = env.slate_size, env.max_turns
        self.single_action_space = env.action_space
        self.single_observation_space = env.observation_space
        self.action_space = batch_space(env.action_space, self.num_envs)
        self.observation_space = batch_space(env.observation_space, self.num_envs)
        self._bounds = [env._bound[p.persona_id] for p in self.personas]
        self._turn_obs = np.stack(env._turn_obs)
        self._persona_ids = np.array([p.persona_id for p in self.personas], dtype=object)
        self.history_size = env.history_size
        # Each persona's history padded with -1 (one row per persona), then a row of zeros
        # for sub-envs that did not start a visit: a reset's info is one gather, not a
        # Python loop over the sub-envs that start a visit.
        n_pool = len(self._bounds)
        self._history_lengths = np.zeros(n_pool + 1, dtype=np.int64)
        self._history_rows = np.zeros((n_pool + 1, self.history_size), dtype=env.history_dtype)
        self._history_rows[:n_pool] = -1
        for i, bound in enumerate(self._bounds):
            self._history_rows[i, : len(bound.history)] = bound.history
            self._history_lengths[i] = len(bound.history)
        n = self.num_envs
        self.batch: UtilityBatch | None = None
        if type(self.brain) is UtilityBrain:
            self.batch = UtilityBatch(
                self.brain, self._bounds, slate_size, history_window, max_turns, env.dynamics, n
            )
        self.sessions: list[Session | None] = [None] * n
        self.rngs: list[np.random.Generator] = []
        self.persona = np.zeros(n, dtype=np.int64)
        self._needs_reset = np.zeros(n, dtype=bool)
        self._all = np.arange(n)
        self._reply_codes = np.full((n, REPLY_PARTS), -1, dtype=np.int64)
        self._replies = np.full(n, "", dtype=object)
        self._reply_vec = np.zeros((n, REPLY_DIM), dtype=np.float32)
        self._reply_idx = np.zeros(n, dtype=np.int64)
        self._messages: list[str | None] = [None] * n
        self._next_session = np.arange(n, dtype=np.int64)
        self._session_ids = np.zeros(n, dtype=np.int64)

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ):
        """Start a new visit in every sub-env; ``seed + i`` (or ``seed[i]``) seeds sub-env ``i``.

        With ``options={"reset_mask": mask}`` (``autoreset_mode=DISABLED`` only) just the
        sub-envs where ``mask`` is true restart; the others keep their visits.
        """
        rows = self._reset_rows(options)
        n = self.num_envs
        if seed is None or isinstance(seed, (int, np.integer)):
            seeds = [None if seed is None else int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ConfigError(f"reset seed: expected {n} seeds, got {len(seeds)}")
        super().reset(seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        fresh = [i for i in rows.tolist() if seeds[i] is not None or not self.rngs]
        rngs = self.rngs or [None] * n
        for i in fresh:
            rngs[i] = seeding.np_random(seeds[i])[0]
            self._next_session[i] = seeds[i] if seeds[i] is not None else i
        self.rngs = rngs
        if self.batch is not None:
            self.batch.streams.assign(fresh, [rngs[i] for i in fresh])
        self._start(rows)
        self._needs_reset[rows] = False
        self._refresh_replies()
        zeros = np.zeros(n, dtype=np.int64)
        return self._observation(), self._info(None, zeros, zeros.copy(), rows)

    def step(self, actions: Any):
        """Show ``actions[i]`` to sub-env ``i``; returns batched ``(obs, rewards, terminated, truncated, info)``."""
        if not self.rngs:
            raise ActionError("step() called before reset(); call reset() first")
        if self.env.conversational:
            actions, self._messages = self.split_actions(actions)
        slates, duplicates = self.validate_slates(actions)
        hallucinated = (
            slot_count(np.asarray(actions.hallucinated, dtype=bool))
            if isinstance(actions, ResolvedSlate)
            else np.zeros(self.num_envs, dtype=np.int64)
        )
        # Resetting sub-envs are written to by index: cheaper than by mask for the few.
        restart = np.flatnonzero(self._needs_reset)
        if len(restart) and self.autoreset_mode is AutoresetMode.DISABLED:
            raise ActionError(
                f"sub-envs {restart.tolist()} finished their episodes and autoreset is disabled; "
                "restart them with reset(options={'reset_mask': mask}) first"
            )
        active = ~self._needs_reset
        if self.batch is not None:
            # Every row goes through the kernel (whole-array operations); resetting rows
            # draw nothing and are restarted below, so their results are dropped.
            slates[restart] = np.arange(self.slate_size)
            reaction = self._step_batch(slates, active)
        else:
            reaction = self._step_sessions(self._all[active], slates[active])
        clicks, purchases, dismissals = reaction.pop("counts")
        for name in ("clicked", "purchased", "dismissed"):
            reaction[name] &= active[:, None]
        left = reaction["left"] & active
        w = self.env.reward_weights
        rewards = (  # resetting rows' counts are stale: their rewards are set to 0 below
            w["click"] * clicks
            + w["purchase"] * purchases
            + w["dismiss"] * dismissals
            + np.where(left, w["leave"], 0.0)
        )
        rewards[restart] = 0.0
        terminated = left
        truncated = ~left & active & (self._turns() >= self.max_turns)
        if len(restart):
            self._start(restart)
        duplicates[restart] = 0
        hallucinated[restart] = 0
        self._needs_reset = terminated | truncated
        self._refresh_replies()
        info = self._info(reaction, duplicates, hallucinated, restart)
        return self._observation(), rewards, terminated, truncated, info

    def _reset_rows(self, options: dict[str, Any] | None) -> np.ndarray:
        """The sub-envs a reset restarts: all of them, or those of ``options["reset_mask"]``."""
        if not options:
            return self._all
        if set(options) != {"reset_mask"}:
            raise ConfigError(
                f"reset options: the vector env takes only 'reset_mask', got {sorted(options)}"
            )
        if self.autoreset_mode is not AutoresetMode.DISABLED:
            raise ConfigError(
                "reset options: 'reset_mask' needs autoreset_mode=AutoresetMode.DISABLED"
            )
        mask = np.asarray(options["reset_mask"])
        if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
            raise ConfigError(
                f"reset options: reset_mask: expected {self.num_envs} booleans, got "
                f"{mask.dtype} of shape {mask.shape}"
            )
        if not self.rngs:
            raise ConfigError("reset options: the first reset restarts every sub-env (no mask)")
        return np.flatnonzero(mask)

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release (no subprocesses)."""

    # -- actions --------------------------------------------------------------------------
    def split_actions(self, actions: Any) -> tuple[Any, list[str | None]]:
        """Conversational mode: the ``slate`` batch and each sub-env's message.

        Raises:
            ActionError: not ``{"slate": (num_envs, slate_size), "message": num_envs
                strings}``, or a bad message (naming its sub-env).
        """
        n = self.num_envs
        if not isinstance(actions, Mapping) or "slate" not in actions:
            raise ActionError(
                f'actions: conversational mode expects {{"slate": ({n}, {self.slate_size}) '
                f'item indices, "message": {n} strings}}, got {actions!r}'
            )
        messages = actions.get("message")
        messages = [""] * n if messages is None else list(messages)
        if len(messages) != n:
            raise ActionError(f"actions.message: expected {n} messages, got {len(messages)}")
        checked = [check_message(m, f"sub-env {i}: action.message") for i, m in enumerate(messages)]
        return actions["slate"], checked

    def validate_slates(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """Check a ``(num_envs, slate_size)`` batch and de-duplicate each slate like the single env.

        Returns ``(slates, duplicates)``: later copies of an index become ``-1`` (empty).
        A :class:`~simrec.semantic_ids.ResolvedSlate` batch keeps its hallucinated slots
        empty (they are not duplicates).

        Raises:
            ActionError: wrong shape, non-integer values, or indices out of range
                (naming the sub-env and slot).
        """
        n, k = self.num_envs, self.slate_size
        if isinstance(actions, ResolvedSlate):
            return self._validate_resolved(actions)
        array = integer_action(actions, (n, k), "actions", "item indices")
        slates = array.astype(np.int64)
        # One comparison finds both ends: negative indices read as unsigned are huge.
        if slates.view(np.uint64).max() >= len(self.catalog):  # find the bad slot only then
            bad = (slates < 0) | (slates >= len(self.catalog))
            bad &= ~self._needs_reset[:, None]  # a resetting sub-env's action is ignored
            if bad.any():
                env, pos = (int(v) for v in np.argwhere(bad)[0])
                raise ActionError(
                    f"actions: sub-env {env} slot {pos} holds item index {array[env, pos]}, "
                    f"out of range [0, {len(self.catalog) - 1}]"
                )
        return _dedupe(slates)

    def _validate_resolved(self, resolved: ResolvedSlate) -> tuple[np.ndarray, np.ndarray]:
        k, n_items = self.slate_size, len(self.catalog)
        items, hallucinated = resolved.checked((self.num_envs, k))
        bad = ((items == EMPTY) != hallucinated) | (items < EMPTY) | (items >= n_items)
        bad &= ~self._needs_reset[:, None]
        if bad.any():
            env, pos = (int(v) for v in np.argwhere(bad)[0])
            raise ActionError(
                f"resolved slates: sub-env {env} slot {pos} holds item {items[env, pos]} with "
                f"hallucinated={bool(hallucinated[env, pos])}; expected an index in "
                f"[0, {n_items - 1}], or {EMPTY} exactly where hallucinated"
            )
        slates = items.astype(np.int64)
        slates[self._needs_reset] = np.arange(k)  # ignored, like any resetting action
        return _dedupe(slates, has_empty=True)

    # -- the two stepping paths -------------------------------------------------------------
    def _step_batch(self, slates: np.ndarray, active: np.ndarray) -> dict[str, Any]:
        assert self.batch is not None
        r = self.batch.step(self._all, slates, active)
        self._reply_codes = r.reply_codes
        return {
            "clicked": r.clicked,
            "purchased": r.purchased,
            "dismissed": r.dismissed,
            "left": r.left,
            "counts": (r.clicks, r.purchases, r.dismissals),
        }

    def _step_sessions(self, rows: np.ndarray, slates: np.ndarray) -> dict[str, Any]:
        """Any brain: one batched ``react`` call for every sub-session, then ``Session.record``."""
        idx = rows.tolist()
        sessions = [self.sessions[i] for i in idx]
        slate_lists = slates.tolist()
        reactions = (
            self.brain.react(
                sessions, slate_lists, [self._messages[i] for i in idx], [self.rngs[i] for i in idx]
            )
            if idx
            else []
        )
        if len(reactions) != len(idx):
            raise ConfigError(
                f"brain {self.brain.name!r} returned {len(reactions)} reactions for {len(idx)} sessions"
            )
        for session, slate, reaction in zip(sessions, slate_lists, reactions, strict=True):
            session.record(slate, reaction)
        for i, session in zip(idx, sessions, strict=True):
            self._replies[i] = session.last_reply
            self._reply_vec[i] = encode_reply(session.last_reply)
        n, k = self.num_envs, self.slate_size
        out = {name: np.zeros((n, k), dtype=bool) for name in ("clicked", "purchased", "dismissed")}
        out["left"] = np.zeros(n, dtype=bool)
        for name, array in out.items():
            if reactions:
                array[rows] = [getattr(r, name) for r in reactions]
        out["counts"] = tuple(
            slot_count(out[name]) for name in ("clicked", "purchased", "dismissed")
        )
        return out

    def _start(self, rows: np.ndarray) -> None:
        """New visits in ``rows``: each draws its persona from its own generator."""
        self._session_ids[rows] = self._next_session[rows]
        self._next_session[rows] += VISIT_STRIDE
        if self.batch is not None:
            self.persona[rows], self._reply_codes[rows] = self.batch.start(rows)
            return
        n_pool = len(self.personas)
        rngs = self.rngs
        picks = np.array([rngs[i].integers(n_pool) for i in rows.tolist()], dtype=np.int64)
        self.persona[rows] = picks
        env = self.env
        for i, pick in zip(rows.tolist(), picks.tolist(), strict=True):
            bound = self._bounds[pick]
            session = Session(
                bound,
                env.slate_size,
                env.history_window,
                env.dynamics,
                session_id=int(self._session_ids[i]),
                need=bound.need(float(rngs[i].random())),  # as RecSessionEnv.reset draws it
            )
            self.sessions[i] = session
            self._replies[i] = session.last_reply
            self._reply_vec[i] = encode_reply(session.last_reply)

    # -- observation and info -----------------------------------------------------------------
    def _refresh_replies(self) -> None:
        if self.batch is not None:
            self._reply_idx = self.batch.phrases.replies(self._reply_codes)

    def _turns(self) -> np.ndarray:
        if self.batch is not None:
            return self.batch.turn
        return np.array([s.turn for s in self.sessions], dtype=np.int64)

    def _observation(self) -> dict[str, np.ndarray]:
        # The single env's table of turn observations, one row per turn (turns never
        # pass ``max_turns``: the episode is truncated there).
        turn = self._turn_obs.take(self._turns(), axis=0)
        if self.batch is not None:
            b = self.batch
            reply = b.phrases.reply_vectors.take(self._reply_idx, axis=0)
            items, feedback = b.observed_history()
        else:
            reply = self._reply_vec.copy()
            items = np.stack([s.history_items_flat for s in self.sessions]) + 1
            feedback = np.stack([s.history_feedback for s in self.sessions])
        # flat per sub-env, as the single env's (a view of the contiguous array)
        feedback = feedback.reshape(self.num_envs, -1)
        return {"turn": turn, "history_items": items, "history_feedback": feedback, "reply": reply}

    def _info(
        self,
        reaction: dict[str, np.ndarray] | None,
        duplicates: np.ndarray,
        hallucinated: np.ndarray,
        started: np.ndarray | None = None,
    ) -> dict[str, Any]:
        if self.batch is not None:
            satisfaction, fatigue = self.batch.satisfaction.copy(), self.batch.fatigue()
        else:
            satisfaction = np.array([s.satisfaction for s in self.sessions])
            fatigue = np.array([s.fatigue for s in self.sessions])
        if self.env.info_format == "arrays":
            return _with_masks(
                {
                    "session_id": self._session_ids.copy(),
                    "persona_index": self.persona.copy(),
                    "duplicates": duplicates,
                    "hallucinated": hallucinated,
                    **self._feedback(reaction),
                    "ground_truth_satisfaction": satisfaction,
                    "ground_truth_fatigue": fatigue,
                }
            )
        if self.batch is not None:
            replies = self.batch.phrases.reply_texts.take(self._reply_idx)
        else:
            replies = self._replies.copy()
        info: dict[str, Any] = {
            "reply": replies,
            "persona_id": self._persona_ids.take(self.persona),
            "turn": self._turns().copy(),
            "session_id": self._session_ids.copy(),
            "duplicates": duplicates,
            "hallucinated": hallucinated,
        }
        if self.env.conversational:
            info["message"] = np.array([m or "" for m in self._messages], dtype=object)
        info = _with_masks({**info, **self._feedback(reaction)})
        info["ground_truth"] = {"satisfaction": satisfaction, "fatigue": fatigue}
        info["_ground_truth"] = np.ones(self.num_envs, dtype=bool)
        if started is not None and len(started):
            self._add_histories(info, started)
        return info

    def _add_histories(self, info: dict[str, Any], started: np.ndarray) -> None:
        """``user_history`` / ``user_history_length`` for the sub-envs ``started`` (the rest
        zeros, masked out), as Gymnasium's vector envs stack the single env's reset infos."""
        n = self.num_envs
        # The row of each sub-env: its persona's if it started, else the zero row. One
        # gather writes the (num_envs, history_size) table once; zeros, then the started
        # rows, wrote it and then them (a grounded pool's histories are hundreds long).
        rows = np.full(n, len(self._bounds))
        rows[started] = self.persona[started]
        histories = self._history_rows.take(rows, axis=0)
        lengths = self._history_lengths.take(rows)
        present = np.zeros(n, dtype=bool)
        present[started] = True
        info["user_history"], info["_user_history"] = histories, present
        info["user_history_length"], info["_user_history_length"] = lengths, present.copy()

    def _feedback(self, reaction: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """Per-slot ``clicked`` / ``purchased`` / ``dismissed``; all false on reset steps."""
        shape = (self.num_envs, self.slate_size)
        return {
            name: reaction[name] if reaction is not None else np.zeros(shape, dtype=bool)
            for name in ("clicked", "purchased", "dismissed")
        }


def _with_masks(entries: dict[str, np.ndarray]) -> dict[str, Any]:
    """``entries`` with Gymnasium's ``_key`` mask beside each (every sub-env has every key)."""
    present = np.ones(len(next(iter(entries.values()))), dtype=bool)
    info: dict[str, Any] = {}
    for key, value in entries.items():
        info[key], info[f"_{key}"] = value, present
    return info


def _dedupe(slates: np.ndarray, has_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Later copies of an item in a row become ``EMPTY``; returns the slates and repeats per row.

    With ``has_empty``, the rows hold empty slots (hallucinations), which are not copies
    of one another.
    """
    k = slates.shape[1]
    repeated = np.zeros(slates.shape, dtype=bool)
    for pos in range(1, k):
        for earlier in range(pos):
            repeated[:, pos] |= slates[:, earlier] == slates[:, pos]
    if has_empty:
        repeated &= slates != EMPTY
    if not repeated.any():
        return slates, np.zeros(len(slates), dtype=np.int64)
    slates[repeated] = EMPTY
    return slates, slot_count(repeated)
