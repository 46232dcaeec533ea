"""The Gymnasium environment: a policy shows slates, a simulated user reacts.

See :class:`RecSessionEnv` for the full contract (spaces, reward, episode end).
"""

from __future__ import annotations

import copy
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from simrec.brains import make_brain
from simrec.brains.base import Brain
from simrec.brains.utility import UtilityBrain
from simrec.catalog import Catalog, load_catalog
from simrec.catalog_gen import cached_catalog, read_generate_spec
from simrec.errors import ActionError, ConfigError
from simrec.events import EventLog
from simrec.persona import Persona, check_unique_ids, load_personas
from simrec.reaction import Reaction
from simrec.replies import REPLY_DIM, encode_reply
from simrec.semantic_ids.slate import ResolvedSlate
from simrec.session import EMPTY, BoundPersona, Session, SessionDynamics
from simrec.validation import Fields, integer_action, number_expected

MESSAGE_MAX_LENGTH = 1000
"""Characters a recommender's message may have in conversational mode."""
_CHARSET = frozenset(string.ascii_letters + string.digits + string.punctuation + " ")
"""What ``action_space.sample()`` writes messages with; ``step`` accepts any text."""

INFO_FORMATS = ("full", "arrays")
"""``full``: the documented info (text, the reaction, nested ground truth); ``arrays``:
numbers and fixed-shape arrays only, no key named like an observation key — what
TorchRL's info reader (``GymEnv(..., num_envs=n)``) can stack into tensors."""

DEFAULT_REWARD_WEIGHTS = {"click": 1.0, "purchase": 2.0, "dismiss": -0.25, "leave": 0.0}
"""Reward per click, per purchase, per dismissal, and once when the user leaves."""


class RecSessionEnv(gym.Env):
    """A multi-turn recommendation session with one simulated user.

    ## Description
    Each episode is one visit of a persona drawn from the pool. Every step the policy
    shows a slate of ``slate_size`` items; the user (played by a brain: the offline
    ``utility`` model by default, or an LLM) clicks at most one, may purchase it, may
    dismiss others, replies in words and may leave. Repetition bores the user, long
    visits tire them, and scripted intents make them ask for something specific.

    ## Action Space
    ``MultiDiscrete([n_items] * slate_size)``: item indices into the catalog. A repeated
    index is shown once: later copies become empty slots (no feedback, ``item_id``
    ``None`` in the log) and are counted in ``info["duplicates"]``. An index out of
    range or a slate of the wrong length raises :class:`~simrec.errors.ActionError`.

    Slates named by semantic ids go through
    :class:`~simrec.semantic_ids.SemanticIdSlate`, which hands the env a
    :class:`~simrec.semantic_ids.ResolvedSlate`: slots whose id named no item
    (hallucinations) are shown empty, counted in ``info["hallucinated"]`` and logged per
    slot (``hallucinated``, ``emitted_id``).

    With ``conversational=True`` the action is ``Dict(slate=MultiDiscrete(...),
    message=Text(...))``: the slate plus what the recommender says with it (up to
    :data:`MESSAGE_MAX_LENGTH` characters; ``""`` says nothing). An LLM-played user reads
    the message (as data, beside the slate); the offline utility brain has no language
    and ignores it. The message is echoed in ``info["message"]`` and in the transcript.

    ## Observation Space
    ``Dict`` (stable-baselines3 ``MultiInputPolicy`` accepts it as is):

    * ``turn`` — ``Box(0, 1, (1,))``: turns taken / ``max_turns``.
    * ``history_items`` — ``MultiDiscrete([n_items + 1] * (history_window * slate_size))``:
      the last slates, newest first, item index + 1 (0 = nothing).
    * ``history_feedback`` — ``Box(0, 1, (history_window * slate_size * 3,))``: per slot of
      those slates, clicked / purchased / dismissed, flat in that order (newest slate
      first; ``reshape(history_window, slate_size, 3)`` restores the grid). Flat, so that
      no library takes it for an image.
    * ``reply`` — ``Box(-1, 1, (32,))``: hashed bag-of-words encoding of the last reply.

    The reset's info holds what a real recommender would know of the user before the
    visit: ``info["user_history"]``, the catalog indices of the persona's ``history``
    (oldest first, in :attr:`history_dtype`: the narrowest signed integer dtype holding
    every catalog index, see :func:`history_dtype`), padded with ``-1`` to
    :attr:`history_size` (the longest history in the persona pool, 0 when no persona has
    one), and ``info["user_history_length"]``, how many of them are real. One shape for
    every persona, so Gymnasium's
    ``SyncVectorEnv`` / ``AsyncVectorEnv`` and TorchRL stack them; only resets carry them
    (the history does not change during a visit). :func:`user_history` reads the real
    part from a single or vector info.

    ``info["session_id"]`` is the id the visit is logged under (``reset(options=
    {"session_id": n})``, else the reset's ``seed``, else one more than the last): what a
    policy serving several visits at once keys its memory on.

    The reply text is in ``info["reply"]``. Hidden truth (satisfaction, fatigue, the
    active steering constraint, as JSON text, ``""`` when there is none, so Gymnasium's
    vector envs and TorchRL can stack it) is in
    ``info["ground_truth"]``: a policy that reads it
    is cheating, visibly.

    ## Rewards
    ``click * clicks + purchase * purchases + dismiss * dismissals + leave * left`` with
    weights ``reward_weights`` (default ``{click: 1, purchase: 2, dismiss: -0.25, leave: 0}``).

    ## Starting State
    A persona is drawn uniformly from the pool (or named by ``reset(options={"persona":
    id})``), then the visit's need (how many items the user came to buy) from the
    persona's need distribution; satisfaction starts at 0.6, no slates seen, the persona's
    pre-visit history owned. ``info["reply"]`` holds the opening message, if the persona
    has one.

    ## Episode End
    ``terminated`` when the user leaves; ``truncated`` after ``max_turns`` slates.

    ## Arguments
    * ``catalog`` — a :class:`~simrec.catalog.Catalog`, a file path, or
      ``{"generate": {"domain": "golf", "n_items": 200, "seed": 0}}``.
    * ``personas`` — a list of :class:`~simrec.persona.Persona`, a YAML file or a directory.
    * ``slate_size`` (5), ``max_turns`` (20), ``history_window`` (3), ``reward_weights``.
    * ``brain`` (``"utility"``) and ``brain_kwargs``: who plays the user.
    * ``dynamics``: :class:`~simrec.session.SessionDynamics` (boredom decay, fatigue).
    * ``render_mode``: ``"ansi"`` (returns the turn's transcript) or ``"human"`` (prints it).
    * ``conversational`` (``False``): actions carry a recommender message (see Action Space).
    * ``info_format`` (``"full"``): ``"arrays"`` gives an info of numbers only, none named
      like an observation key (``session_id``, ``persona_index``, ``duplicates``,
      ``hallucinated``, per-slot ``clicked`` / ``purchased`` / ``dismissed``,
      ``ground_truth_satisfaction``, ``ground_truth_fatigue``): what libraries that make
      every info entry a tensor read (TorchRL's ``GymEnv(id, num_envs=n)``).

    ## Version History
    * v0: initial release.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        catalog: Catalog | str | Path | Mapping[str, Any],
        personas: Sequence[Persona] | str | Path,
        slate_size: int = 5,
        max_turns: int = 20,
        history_window: int = 3,
        reward_weights: Mapping[str, float] | None = None,
        brain: str | Brain = "utility",
        brain_kwargs: Mapping[str, Any] | None = None,
        dynamics: SessionDynamics | None = None,
        render_mode: str | None = None,
        conversational: bool = False,
        info_format: str = "full",
    ) -> None:
        self.catalog = resolve_catalog(catalog)
        self.personas = resolve_personas(personas)
        n = len(self.catalog)
        _check_int("slate_size", slate_size, 1, n)
        _check_int("max_turns", max_turns, 1, 10_000)
        _check_int("history_window", history_window, 1, 1_000)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode: expected one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.slate_size = slate_size
        self.max_turns = max_turns
        self.reward_weights = resolve_reward_weights(reward_weights)
        self.brain = make_brain(brain, **dict(brain_kwargs or {}))
        self._react_one = self.brain.react_one if type(self.brain) is UtilityBrain else None
        self.render_mode = render_mode
        self.history_window = history_window
        self.dynamics = dynamics or SessionDynamics()
        self._bound = {p.persona_id: BoundPersona(p, self.catalog) for p in self.personas}
        self.history_size = max((len(b.history) for b in self._bound.values()), default=0)
        self.history_dtype = history_dtype(n)
        self.session: Session | None = None
        self.session_id = -1
        self.event_log: EventLog | None = None
        if not isinstance(conversational, bool):
            raise ConfigError(f"conversational: expected true or false, got {conversational!r}")
        self.conversational = conversational
        self.info_format = check_info_format(info_format)
        self._persona_index = {p.persona_id: i for i, p in enumerate(self.personas)}
        slates = spaces.MultiDiscrete(np.full(slate_size, n, dtype=np.int64))
        self.action_space = (
            spaces.Dict(
                {
                    "slate": slates,
                    "message": spaces.Text(MESSAGE_MAX_LENGTH, min_length=0, charset=_CHARSET),
                }
            )
            if conversational
            else slates
        )
        self._message: str | None = None
        self.observation_space = spaces.Dict(
            {
                "turn": spaces.Box(0.0, 1.0, (1,), np.float32),
                "history_items": spaces.MultiDiscrete(
                    np.full(history_window * slate_size, n + 1, dtype=np.int64)
                ),
                "history_feedback": spaces.Box(
                    0.0, 1.0, (history_window * slate_size * 3,), np.float32
                ),
                "reply": spaces.Box(-1.0, 1.0, (REPLY_DIM,), np.float32),
            }
        )
        self._last_slate: list[int] | None = None
        self._last_named: ResolvedSlate | None = None
        self._named: ResolvedSlate | None = None  # the slate being stepped, if named by ids
        self._episode_over = True
        self._n_items = n
        self._turn_obs = [
            np.array([min(t / max_turns, 1.0)], dtype=np.float32) for t in range(max_turns + 1)
        ]

    # -- gymnasium API ------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new visit.

        Options: ``{"persona": id}`` picks the persona; ``{"session_id": n}`` sets the id
        under which the visit is logged (default: ``seed`` when one is given, else one more
        than the last).
        """
        super().reset(seed=seed)
        pick = int(self.np_random.integers(len(self.personas)))
        persona_id = self.personas[pick].persona_id
        if options and options.get("persona") is not None:
            wanted = options["persona"]
            persona_id = wanted.persona_id if isinstance(wanted, Persona) else str(wanted)
            if persona_id not in self._bound:
                known = ", ".join(sorted(self._bound))
                raise ConfigError(
                    f"reset options: unknown persona {persona_id!r}; pool has: {known}"
                )
        wanted_id = (options or {}).get("session_id")
        if wanted_id is not None and number_expected(wanted_id, 0, 2**63 - 1, integer=True):
            raise ConfigError(
                f"reset options: session_id: expected a non-negative integer, got {wanted_id!r}"
            )
        if wanted_id is not None:
            self.session_id = int(wanted_id)
        else:  # a seeded visit is its seed's (as the vector env's and run_sessions' are)
            self.session_id = int(seed) if seed is not None else self.session_id + 1
        bound = self._bound[persona_id]
        self.session = Session(
            bound,
            self.slate_size,
            self.history_window,
            self.dynamics,
            session_id=self.session_id,
            need=bound.need(float(self.np_random.random())),
        )
        self._episode_over = False
        self._last_slate = None
        self._last_named = None
        self._message = None
        return self._observation(), self._info(None, 0, 0.0)

    def step(self, action):
        """Show the slate ``action``; returns ``(obs, reward, terminated, truncated, info)``."""
        slate, duplicates = self.prepare_step(action)
        session = self.session
        if self._react_one is not None:  # the utility brain: skip the batch of one
            reaction = self._react_one(session, slate, self.np_random)
        else:
            reaction = self.brain.react([session], [slate], [self._message], [self.np_random])[0]
        return self.finish_step(slate, duplicates, reaction)

    def prepare_step(self, action: Any) -> tuple[list[int], int]:
        """The first half of :meth:`step`: check ``action``; returns ``(slate, duplicates)``.

        With :meth:`finish_step` it lets one brain call react for many envs at once
        (``simrec run --concurrency``): ``brain.react`` on every env's ``session``, slate,
        ``message`` and ``np_random``, then ``finish_step`` on each.

        Raises:
            ActionError: a finished episode, or a bad action (see :meth:`validate_slate`).
        """
        if self._episode_over or self.session is None:
            raise ActionError("step() called on a finished episode; call reset() first")
        if self.conversational:
            action, self._message = self.split_action(action)
        checked = self.validate_slate(action)
        self._named = action if isinstance(action, ResolvedSlate) else None
        return checked

    @property
    def message(self) -> str | None:
        """The recommender's message with the slate being stepped (conversational mode)."""
        return self._message

    def finish_step(self, slate: list[int], duplicates: int, reaction: Reaction):
        """The second half of :meth:`step`: apply the user's ``reaction`` to ``slate``."""
        session = self.session
        assert session is not None
        named = self._named
        reward = self.reward(reaction)
        if self.event_log is not None:
            self.event_log.record(
                self.session_id,
                session,
                slate,
                reaction,
                self.slot_rewards(reaction),
                reward,
                duplicates,
                named=named,
                message=self._message,
            )
        session.record(slate, reaction)
        terminated = reaction.left
        truncated = (not terminated) and session.turn >= self.max_turns
        self._episode_over = terminated or truncated
        self._last_slate = slate
        self._last_named = named
        info = self._info(reaction, duplicates, reward)
        if self.render_mode == "human":
            print(self.render_turn())
        return self._observation(), reward, terminated, truncated, info

    def render(self) -> str | None:
        """The last turn as a transcript (``ansi``), or print it (``human``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi'")
            return None
        text = self.render_turn()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def spawn(self) -> RecSessionEnv:
        """A new env sharing this one's catalog, personas, settings and brain, with its own
        visit (no session, no event log): one lane of episodes run concurrently."""
        twin = copy.copy(self)
        twin.session, twin.session_id, twin.event_log = None, -1, None
        twin._episode_over, twin._last_slate, twin._message = True, None, None
        twin._named = twin._last_named = None
        twin._np_random = None
        return twin

    def close(self) -> None:
        """Release the brain's resources (an LLM brain's connections, threads and cache)."""
        close = getattr(self.brain, "close", None)
        if callable(close):
            close()
        super().close()

    # -- helpers ----------------------------------------------------------------------
    def split_action(self, action: Any) -> tuple[Any, str | None]:
        """A conversational action's slate and message (``None`` when it says nothing).

        Raises:
            ActionError: not a mapping with a ``slate``, or a bad message (see
                :func:`check_message`).
        """
        if not isinstance(action, Mapping) or "slate" not in action:
            raise ActionError(
                f'action: conversational mode expects {{"slate": [...], "message": "..."}}, '
                f"got {action!r}"
            )
        return action["slate"], check_message(action.get("message", ""), "action.message")

    def validate_slate(self, action: Any) -> tuple[list[int], int]:
        """Check ``action`` and de-duplicate it; returns ``(slate, n_duplicates)``.

        Later copies of a repeated index become :data:`~simrec.session.EMPTY` slots. A
        :class:`~simrec.semantic_ids.ResolvedSlate` keeps its hallucinated slots empty.

        Raises:
            ActionError: wrong length, non-integer values, or indices out of range.
        """
        if isinstance(action, ResolvedSlate):
            return self._validate_resolved(action)
        slate = integer_action(action, (self.slate_size,), "action", "item indices").tolist()
        n = self._n_items
        if min(slate) < 0 or max(slate) >= n:
            pos, item = next((p, i) for p, i in enumerate(slate) if not 0 <= i < n)
            raise ActionError(
                f"action: slot {pos} holds item index {item}, out of range [0, {n - 1}]"
            )
        if len(set(slate)) == self.slate_size:
            return slate, 0
        return _dedupe(slate)

    def _validate_resolved(self, resolved: ResolvedSlate) -> tuple[list[int], int]:
        items, hallucinated = resolved.checked((self.slate_size,))
        n = self._n_items
        slate, flags = items.tolist(), hallucinated.tolist()
        # a handful of slots: plain Python beats a chain of tiny numpy operations
        pairs = zip(slate, flags, strict=True)
        if any((i == EMPTY) != f or not EMPTY <= i < n for i, f in pairs):
            raise ActionError(
                f"resolved slate: items {slate} with hallucinated {flags}: each slot must "
                f"hold an index in [0, {n - 1}], or {EMPTY} exactly where it is hallucinated"
            )
        return _dedupe(slate)

    def reward(self, reaction: Reaction) -> float:
        """The scalar reward of ``reaction`` under :attr:`reward_weights`."""
        w = self.reward_weights
        return (
            w["click"] * sum(reaction.clicked)
            + w["purchase"] * sum(reaction.purchased)
            + w["dismiss"] * sum(reaction.dismissed)
            + (w["leave"] if reaction.left else 0.0)
        )

    def slot_rewards(self, reaction: Reaction) -> list[float]:
        """The part of the reward earned by each slot (the leave weight is not in any slot)."""
        w = self.reward_weights
        return [
            w["click"] * c + w["purchase"] * p + w["dismiss"] * d
            for c, p, d in zip(
                reaction.clicked, reaction.purchased, reaction.dismissed, strict=True
            )
        ]

    def _observation(self) -> dict[str, np.ndarray]:
        s = self.session
        assert s is not None
        turn = self._turn_obs[s.turn] if s.turn <= self.max_turns else self._turn_obs[-1]
        return {
            "turn": turn.copy(),
            "history_items": s.history_items_flat_plus_one(),
            "history_feedback": s.history_feedback.reshape(-1),
            "reply": encode_reply(s.last_reply).copy(),
        }

    def _info(self, reaction: Reaction | None, duplicates: int, reward: float) -> dict[str, Any]:
        s = self.session
        assert s is not None
        if self.info_format == "arrays":
            return self._array_info(reaction, duplicates)
        constraint = s.active_constraint()
        info: dict[str, Any] = {
            "turn": s.turn,
            "session_id": self.session_id,
            "persona_id": s.persona.persona_id,
            "reply": s.last_reply,
            "duplicates": duplicates,
            "hallucinated": self._hallucinated_count(reaction),
            "ground_truth": {
                "satisfaction": s.satisfaction,
                "fatigue": s.fatigue,
                # "" when there is none (never None: vector envs and TorchRL stack it as text)
                "active_constraint": constraint.to_json() if constraint is not None else "",
            },
        }
        if reaction is not None:
            info["slate"] = self._last_slate
            info["reaction"] = reaction
        else:  # a reset: what the recommender knows of the user before the visit
            history = s.bound.history
            info["user_history"] = np.full(self.history_size, -1, dtype=self.history_dtype)
            info["user_history"][: len(history)] = history
            info["user_history_length"] = len(history)
        if self.conversational:
            info["message"] = self._message or ""
        return info

    def _array_info(self, reaction: Reaction | None, duplicates: int) -> dict[str, Any]:
        """``info_format="arrays"``: numbers only, none named like an observation key."""
        s = self.session
        assert s is not None
        k = self.slate_size
        info: dict[str, Any] = {
            "session_id": self.session_id,
            "persona_index": self._persona_index[s.persona.persona_id],
            "duplicates": duplicates,
            "hallucinated": self._hallucinated_count(reaction),
        }
        for name in ("clicked", "purchased", "dismissed"):
            flags = getattr(reaction, name) if reaction is not None else [False] * k
            info[name] = np.array(flags, dtype=bool)
        info["ground_truth_satisfaction"] = float(s.satisfaction)
        info["ground_truth_fatigue"] = float(s.fatigue)
        return info

    def _hallucinated_count(self, reaction: Reaction | None) -> int:
        named = self._last_named
        return int(named.hallucinated.sum()) if reaction is not None and named is not None else 0

    def render_turn(self) -> str:
        """Transcript of the last turn: the slate, what the user did, what they said."""
        s = self.session
        if s is None:
            return "(no session yet: call reset())"
        if not s.history:
            opening = f' says: "{s.last_reply}"' if s.last_reply else " arrives."
            return f"[{s.persona.persona_id}] {s.persona.card()}{opening}"
        slate, reaction = s.history[-1]
        lines = [f"turn {s.turn}:"]
        if self._message:
            lines.append(f'  recommender: "{self._message}"')
        for pos, item in enumerate(slate):
            if item == EMPTY:
                lines.append(f"  {pos + 1}. {self._empty_slot(pos)}")
                continue
            marks = [
                name
                for name, on in (
                    ("clicked", reaction.clicked[pos]),
                    ("purchased", reaction.purchased[pos]),
                    ("dismissed", reaction.dismissed[pos]),
                )
                if on
            ]
            lines.append(
                f"  {pos + 1}. {self.catalog.titles[item]} ({self.catalog.categories[item]}, "
                f"${self.catalog.prices[item]:,.0f})"
                + (f"  <- {', '.join(marks)}" if marks else "")
            )
        lines.append(f'  user: "{reaction.reply}"' + ("  [left]" if reaction.left else ""))
        return "\n".join(lines)

    def _empty_slot(self, pos: int) -> str:
        named = self._last_named
        if named is not None and named.hallucinated[pos]:
            emitted = "" if named.emitted is None else f" {named.emitted[pos]!r}"
            return f"(hallucinated id{emitted}: no such item, not shown)"
        return "(duplicate, not shown)"


def history_dtype(n_items: int) -> np.dtype:
    """The narrowest signed integer dtype holding every index of ``n_items`` items and ``-1``.

    ``info["user_history"]`` rows come in it: a grounded pool's histories run to hundreds of
    items, and a vector env writes a ``(num_envs, history_size)`` table whenever sub-envs
    start visits, so int16 (catalogs up to 32,768 items) moves a quarter of int64's bytes.
    """
    for dtype in (np.int8, np.int16, np.int32):
        if n_items - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def user_history(info: Mapping[str, Any], row: int | None = None) -> np.ndarray:
    """The user's pre-visit history (catalog indices, oldest first) from an env's info.

    Args:
        info: a reset's info of the single env (``row`` ``None``), or a vector env's info
            (the native one or Gymnasium's ``SyncVectorEnv`` / ``AsyncVectorEnv``) with
            ``row`` the sub-env.

    Returns:
        The real part of ``info["user_history"]`` (int64; a copy). Empty when the info
        has none: a step's info, a sub-env that did not restart, a persona without history.
    """
    history, length = info.get("user_history"), info.get("user_history_length")
    if history is None or length is None:
        return np.zeros(0, dtype=np.int64)
    if row is not None:
        present = info.get("_user_history")
        if present is not None and not present[row]:
            return np.zeros(0, dtype=np.int64)
        history, length = history[row], length[row]
    return np.array(history[: int(length)], dtype=np.int64)


def _dedupe(slate: list[int]) -> tuple[list[int], int]:
    """Later copies of a repeated item become EMPTY (empty slots are not repeats)."""
    seen: set[int] = set()
    deduped, repeats = [], 0
    for item in slate:
        repeat = item != EMPTY and item in seen
        repeats += repeat
        deduped.append(EMPTY if repeat else item)
        seen.add(item)
    return deduped, repeats


def check_message(message: Any, where: str) -> str | None:
    """A recommender's message, stripped (``None`` for an empty one).

    Raises:
        ActionError: naming ``where``, for a non-string or one over
            :data:`MESSAGE_MAX_LENGTH` characters.
    """
    if not isinstance(message, str):
        raise ActionError(f"{where}: expected a string, got {message!r}")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ActionError(f"{where}: {len(message)} characters; at most {MESSAGE_MAX_LENGTH}")
    return message.strip() or None


def check_info_format(info_format: Any) -> str:
    """The ``info_format`` argument of the single and the vector env, checked."""
    if info_format not in INFO_FORMATS:
        raise ConfigError(f"info_format: expected one of {list(INFO_FORMATS)}, got {info_format!r}")
    return info_format


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not low <= value <= high
    ):
        raise ConfigError(f"{name}: expected an integer in [{low}, {high}], got {value!r}")


def resolve_catalog(catalog: Catalog | str | Path | Mapping[str, Any]) -> Catalog:
    """A :class:`Catalog` from an instance, a file path or a ``{"generate": {...}}`` spec."""
    if isinstance(catalog, Catalog):
        return catalog
    if isinstance(catalog, (str, Path)):
        return load_catalog(catalog)
    if isinstance(catalog, Mapping):
        if set(catalog) == {"path"}:
            return load_catalog(catalog["path"])
        if set(catalog) == {"generate"}:
            spec = read_generate_spec(
                Fields(catalog["generate"], ConfigError, path=("catalog", "generate"))
            )
            return cached_catalog(spec["domain"], spec.get("n_items", 200), spec.get("seed", 0))
    raise ConfigError(
        "catalog: expected a Catalog, a file path, {path: ...} or {generate: {domain: ...}}, "
        f"got {catalog!r}"
    )


def resolve_personas(personas: Sequence[Persona] | str | Path) -> list[Persona]:
    """A non-empty list of personas from instances, a YAML file or a directory."""
    if isinstance(personas, (str, Path)):
        return load_personas(personas)
    pool = list(personas)
    if not pool or not all(isinstance(p, Persona) for p in pool):
        raise ConfigError(
            "personas: expected a non-empty list of Persona objects, a YAML file or a directory"
        )
    check_unique_ids(pool)
    return pool


def resolve_reward_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Default reward weights updated with ``weights``, each checked."""
    out = dict(DEFAULT_REWARD_WEIGHTS)
    for key, value in (weights or {}).items():
        if key not in out:
            raise ConfigError(f"reward_weights.{key}: unknown; expected one of {', '.join(out)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ConfigError(f"reward_weights.{key}: expected a number, got {value!r}")
        out[key] = float(value)
    return out
