"""Exports of a generated dataset for other tools: RecBole atomic files and Minari episodes.

**RecBole** reads "atomic files": tab-separated text whose header names each field and
its type (``user_id:token``). :func:`to_recbole` writes ``<name>.inter`` (one row per
shown item, with clicked / purchased / dismissed / reward, how many slots of its slate
named no item — ``slate_hallucinations``, for semantic-id policies — and an ordering
timestamp; empty slots are no interaction and have no row),
``<name>.item`` (the catalog) and ``<name>.user`` (a session, or a persona, per user)
into ``<out>/<name>/``, the layout RecBole's ``data_path`` expects.

**Minari** (``pip install 'simrec[minari]'``) stores offline-RL episodes: observations,
actions, rewards, terminations, truncations. The tables hold what users did, not the
observations a policy saw, so :func:`to_minari` rebuilds the env from the manifest and
replays every session with a brain that returns the recorded reactions: the env then
produces exactly the observations of the original run, for any brain (LLM ones too),
and the replayed rewards are checked against the recorded ones. Actions are item
indices; when a semantic-id policy hallucinated, its empty slots are ``-1`` and the
declared action space allows it (``MultiDiscrete(n_items + 1, start=-1)``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium.envs.registration import EnvSpec

from simrec.datagen.store import Dataset
from simrec.env import RecSessionEnv
from simrec.errors import DatasetError
from simrec.persona import TRAITS
from simrec.reaction import Reaction
from simrec.semantic_ids import ResolvedSlate
from simrec.session import EMPTY

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise DatasetError(
            f"export name {name!r}: use letters, digits, '-' and '_' (it names files and ids)"
        )
    return name


def _clean(values: pd.Series) -> pd.Series:
    """Text safe for a tab-separated field (no tabs or line breaks)."""
    return values.astype("string").fillna("").str.replace(r"[\t\r\n]+", " ", regex=True)


def _tokens(values: pd.Series, separator: str) -> pd.Series:
    """A ``token_seq`` field: tokens joined by spaces (spaces inside a token become ``_``)."""
    return values.fillna("").map(
        lambda text: " ".join(t.strip().replace(" ", "_") for t in text.split(separator) if t)
    )


def _write_atomic_file(path: Path, frame: pd.DataFrame) -> Path:
    text = frame.to_csv(sep="\t", index=False, lineterminator="\n")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def to_recbole(dataset: Dataset, out: str | Path, name: str, user: str = "session") -> list[Path]:
    """Write RecBole atomic files for ``dataset`` into ``out/name/``.

    Args:
        dataset: a dataset (from :func:`simrec.generate` or :func:`simrec.load_dataset`).
        out: RecBole's ``data_path``.
        name: RecBole's ``dataset`` name (file stem).
        user: ``session`` (every visit is a user: sequential models see one visit each)
            or ``persona`` (all visits of a persona are one user).

    Returns:
        The paths of the ``.inter``, ``.item`` and ``.user`` files.
    """
    name = _check_name(name)
    if user not in ("session", "persona"):
        raise DatasetError(f"user: expected 'session' or 'persona', got {user!r}")
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    inter = dataset.interactions
    hallucinated = _slate_hallucinations(inter)
    shown = (inter["item_index"] != EMPTY).to_numpy()
    inter = inter[shown].reset_index(drop=True)
    user_ids = inter["session_id"].astype(str) if user == "session" else inter["persona_id"]
    inter_file = pd.DataFrame(
        {
            "user_id:token": user_ids,
            "item_id:token": inter["item_id"],
            "session_id:token": inter["session_id"],
            "turn:float": inter["turn"],
            "position:float": inter["position"],
            "clicked:float": inter["clicked"].astype(int),
            "purchased:float": inter["purchased"].astype(int),
            "dismissed:float": inter["dismissed"].astype(int),
            "reward:float": inter["reward"],
            "slate_hallucinations:float": hallucinated[shown],
            "timestamp:float": np.arange(len(inter), dtype=np.int64),
        }
    )
    items = dataset.items
    item_file = pd.DataFrame(
        {
            "item_id:token": items["item_id"],
            "title:token_seq": _tokens(_clean(items["title"]), " "),
            "category:token": _clean(items["category"]).str.replace(" ", "_"),
            "tags:token_seq": _tokens(items["tags"], "|"),
            "price:float": items["price"],
            "popularity:float": items["popularity"],
        }
    )
    known = {"item_index", "item_id", "title", "category", "tags", "price", "popularity"}
    for column in items.columns:
        if column in known or column in ("description", "semantic_id"):
            continue
        if pd.api.types.is_bool_dtype(items[column]):  # e.g. consumable: 0/1 for RecBole
            item_file[f"{column}:float"] = items[column].astype(int)
        elif pd.api.types.is_numeric_dtype(items[column]):
            item_file[f"{column}:float"] = items[column]
        else:
            item_file[f"{column}:token"] = _clean(items[column]).str.replace(" ", "_")
    personas = dataset.personas.set_index("persona_id")
    if user == "session":
        sessions = dataset.sessions
        users = pd.DataFrame(
            {
                "user_id:token": sessions["session_id"].astype(str),
                "persona_id:token": sessions["persona_id"],
            }
        )
        traits = personas.loc[sessions["persona_id"], list(TRAITS)].reset_index(drop=True)
    else:
        users = pd.DataFrame({"user_id:token": personas.index})
        traits = personas[list(TRAITS)].reset_index(drop=True)
    for trait in TRAITS:
        users[f"{trait}:float"] = traits[trait].to_numpy()
    return [
        _write_atomic_file(folder / f"{name}.inter", inter_file),
        _write_atomic_file(folder / f"{name}.item", item_file),
        _write_atomic_file(folder / f"{name}.user", users),
    ]


def _slate_hallucinations(inter: pd.DataFrame) -> np.ndarray:
    """Per row, how many slots of its slate named no item (0 before semantic-id actions)."""
    if "hallucinated" not in inter.columns or inter.empty:
        return np.zeros(len(inter), dtype=np.int64)
    k = int(inter["position"].max()) + 1
    per_slate = inter["hallucinated"].to_numpy(bool).reshape(-1, k).sum(axis=1)
    return np.repeat(per_slate, k)


class _RecordedBrain:
    """Plays back recorded reactions, in order (the brain of a replayed session)."""

    name = "recorded"
    deterministic = True

    def __init__(self) -> None:
        self.queue: list[Reaction] = []

    def react(
        self, sessions: Sequence[Any], slates: Any, messages: Any, rngs: Any
    ) -> list[Reaction]:
        return [self.queue.pop(0) for _ in sessions]


def _sessions(
    dataset: Dataset,
) -> Iterator[tuple[int, str, np.ndarray, np.ndarray, list[Reaction], np.ndarray]]:
    """Per session: id, persona, slates ``(T, k)``, hallucinated slots ``(T, k)``,
    recorded reactions, recorded rewards."""
    inter, turns = dataset.interactions, dataset.turns
    k = int(inter["position"].max()) + 1
    items = inter["item_index"].to_numpy().reshape(-1, k)
    made_up = (
        inter["hallucinated"].to_numpy(bool).reshape(-1, k)
        if "hallucinated" in inter.columns
        else np.zeros(items.shape, dtype=bool)
    )
    flags = {c: inter[c].to_numpy().reshape(-1, k) for c in ("clicked", "purchased", "dismissed")}
    sids = turns["session_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1], True])
    columns = {c: turns[c].tolist() for c in turns.columns}
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        reactions = [
            Reaction(
                clicked=flags["clicked"][t].tolist(),
                purchased=flags["purchased"][t].tolist(),
                dismissed=flags["dismissed"][t].tolist(),
                left=bool(columns["left"][t]),
                satisfaction=float(columns["satisfaction"][t]),
                reply=columns["reply"][t] or "",
                brain=columns["brain"][t],
                latency_ms=float(columns["latency_ms"][t]),
                input_tokens=int(columns["input_tokens"][t]),
                output_tokens=int(columns["output_tokens"][t]),
                cache_read_tokens=int(columns["cache_read_tokens"][t]),
                cache_write_tokens=int(columns["cache_write_tokens"][t]),
                cost_usd=float(columns["cost_usd"][t]),
                invalid_response=bool(columns["invalid_response"][t]),
            )
            for t in range(start, stop)
        ]
        rewards = turns["reward"].to_numpy()[start:stop]
        yield (
            int(sids[start]),
            str(columns["persona_id"][start]),
            items[start:stop],
            made_up[start:stop],
            reactions,
            rewards,
        )


def _actions(slates: np.ndarray, hallucinated: np.ndarray) -> np.ndarray:
    """The item-index actions that show ``slates`` (``(T, k)``).

    A duplicate's empty slot repeats the slate's first shown item (the env drops it
    again); a hallucinated slot stays ``-1``, "no item" (see :func:`_action_space`).
    """
    first = np.take_along_axis(slates, np.argmax(slates != EMPTY, axis=1)[:, None], axis=1)
    return np.where(hallucinated, EMPTY, np.where(slates == EMPTY, first, slates))


def _action_space(env: RecSessionEnv, hallucinations: bool) -> gym.spaces.Space:
    """The env's action space, or with ``-1`` ("no item") allowed when slots were hallucinated."""
    if not hallucinations:
        return env.action_space
    k, n = env.slate_size, len(env.catalog)
    return gym.spaces.MultiDiscrete(np.full(k, n + 1), start=np.full(k, EMPTY))


@contextlib.contextmanager
def _minari_root(path: Path) -> Iterator[None]:
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous


def env_spec(env_kwargs: dict[str, Any]) -> EnvSpec:
    """The Gymnasium spec that rebuilds the env of a dataset's manifest (``gym.make(spec)``):
    recorded in the Minari export so ``recover_environment()`` gives a live env."""
    return EnvSpec(
        id="simrec/RecSession-v0",
        entry_point="simrec.env:RecSessionEnv",
        kwargs=dict(env_kwargs),
    )


def to_minari(
    dataset: Dataset,
    out: str | Path,
    name: str,
    *,
    author: str | None = None,
    author_email: str | None = None,
    code_permalink: str | None = None,
) -> Path:
    """Write ``dataset``'s sessions as the Minari dataset ``simrec/<name>-v0`` under ``out``.

    Load it with ``MINARI_DATASETS_PATH=<out>`` and ``minari.load_dataset("simrec/<name>-v0")``;
    ``recover_environment()`` (and ``eval_env=True``) rebuild the env of the manifest. The
    export is atomic: it is built beside ``out`` and moved into place whole, so a failed
    export leaves nothing that Minari lists or that blocks a retry. Minari's own warnings
    (a missing author, email or code link) are shown: pass those to silence them.

    Raises:
        DatasetError: minari is not installed, the output exists, or a replayed session
            does not reproduce its recorded rewards (the dataset does not match its config).
    """
    name = _check_name(name)
    try:
        import minari
        from minari.data_collector import EpisodeBuffer
    except ImportError:
        raise DatasetError("the Minari export needs minari: pip install 'simrec[minari]'") from None
    dataset_id = f"simrec/{name}-v0"
    root = Path(out).resolve()  # Minari joins relative roots twice: always hand it an absolute one
    final = root / "simrec" / f"{name}-v0"
    if final.exists():
        raise DatasetError(f"{final}: already exists; remove it or pick another --name")
    config = dataset.manifest["config"]
    brain = _RecordedBrain()
    kwargs = {**config["env_kwargs"], "brain": brain}
    kwargs.pop("brain_kwargs", None)
    try:
        env = RecSessionEnv(**kwargs)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot rebuild the env recorded in the manifest: {exc}") from None
    buffers = [_episode(EpisodeBuffer, env, brain, i, *s) for i, s in enumerate(_sessions(dataset))]
    hallucinations = bool(_slate_hallucinations(dataset.interactions).any())
    spec = env_spec(config["env_kwargs"])
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-minari-", dir=root.parent))
    try:
        with _minari_root(staging):
            minari.create_dataset_from_buffers(
                dataset_id=dataset_id,
                buffer=buffers,
                env=spec,
                eval_env=spec,
                observation_space=env.observation_space,
                action_space=_action_space(env, hallucinations),
                algorithm_name=config["policy"],
                author=author,
                author_email=author_email,
                code_permalink=code_permalink,
                description=f"simrec sessions of {config['env']} under {config['policy']} "
                f"(seed {config['seed']}, {config['sessions']} sessions)",
                data_format="arrow",
            )
        _move_into_place(staging / "simrec", root / "simrec", f"{name}-v0")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _episode(
    buffer_type: Any,
    env: RecSessionEnv,
    brain: _RecordedBrain,
    index: int,
    sid: int,
    persona: str,
    slates: np.ndarray,
    made_up: np.ndarray,
    reactions: list[Reaction],
    rewards: np.ndarray,
) -> Any:
    """Replay one recorded session through ``env`` and return it as a Minari episode buffer
    (a slate with hallucinated slots is replayed as the resolved slate it was)."""
    brain.queue = list(reactions)
    obs, _ = env.reset(seed=sid, options={"session_id": sid, "persona": persona})
    observations = [obs]
    got, terminations, truncations = [], [], []
    actions = _actions(slates, made_up)
    for action, flags in zip(actions, made_up, strict=True):
        shown = ResolvedSlate(action, flags) if flags.any() else action
        obs, reward, terminated, truncated, _ = env.step(shown)
        observations.append(obs)
        got.append(reward)
        terminations.append(terminated)
        truncations.append(truncated)
    if not np.array_equal(np.asarray(got), rewards):
        raise DatasetError(
            f"session {sid}: replayed rewards differ from the recorded ones; the dataset "
            "does not match the env in its manifest"
        )
    return buffer_type(
        id=index,
        seed=sid,
        observations={k: np.stack([o[k] for o in observations]) for k in observations[0]},
        actions=actions.astype(np.int64),
        rewards=np.asarray(got, dtype=np.float64),
        terminations=np.asarray(terminations, dtype=bool),
        truncations=np.asarray(truncations, dtype=bool),
    )


def _move_into_place(built: Path, namespace: Path, dataset: str) -> None:
    """Move the finished ``built/dataset`` under ``namespace`` in one rename (same file
    system), with the namespace's metadata file if the namespace is new."""
    namespace.mkdir(parents=True, exist_ok=True)
    metadata = "namespace_metadata.json"
    if not (namespace / metadata).exists() and (built / metadata).exists():
        os.replace(built / metadata, namespace / metadata)
    try:
        os.rename(built / dataset, namespace / dataset)
    except OSError as exc:
        raise DatasetError(
            f"{namespace / dataset}: cannot move the export into place: {exc}"
        ) from None
