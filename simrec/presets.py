"""Env presets: ``envs/*.yaml`` files that name a catalog, a persona pool and settings.

Each preset becomes a registered Gymnasium id (``envs/golf.yaml`` -> ``simrec/Golf-v0``)
when ``simrec`` is imported. A preset file::

    id: Golf-v0
    description: Golf courses; 200 generated courses, the golf persona library.
    catalog: {generate: {domain: golf, n_items: 200, seed: 0}}
    personas: personas/golf          # relative to the data root, or absolute
    slate_size: 5
    max_turns: 20
    history_window: 3
    reward_weights: {click: 1.0, purchase: 2.0, dismiss: -0.25, leave: 0.0}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from simrec.catalog_gen import read_generate_spec
from simrec.errors import ConfigError
from simrec.resources import data_root, envs_dir
from simrec.validation import Fields, describe
from simrec.yamlio import load_yaml

ENTRY_POINT = "simrec.env:RecSessionEnv"
VECTOR_ENTRY_POINT = "simrec.vector:RecSessionVectorEnv"
PRESET_FIELDS = frozenset(
    {
        "id",
        "description",
        "catalog",
        "personas",
        "slate_size",
        "max_turns",
        "history_window",
        "reward_weights",
        "brain",
        "brain_kwargs",
    }
)
_ID = re.compile(r"^[A-Z][A-Za-z0-9]*-v\d+$")


@dataclass(frozen=True)
class Preset:
    """A named env configuration: the Gymnasium id and the env's keyword arguments."""

    name: str
    env_id: str
    description: str
    kwargs: dict[str, Any]
    source: str


def load_preset(path: str | Path, root: Path | None = None) -> Preset:
    """Read and validate one preset file; relative persona/catalog paths resolve against ``root``."""
    path = Path(path)
    root = root or data_root()
    doc = load_yaml(path, ConfigError)
    f = Fields.from_doc(doc, ConfigError)
    f.reject_unknown(PRESET_FIELDS)
    ident = f.string("id")
    if not _ID.match(ident):
        f.fail("id", f"expected a versioned name like 'Golf-v0', got {ident!r}")
    kwargs: dict[str, Any] = {
        "catalog": _catalog_spec(f, root),
        "personas": str(_resolve(root, f.string("personas"))),
        "slate_size": f.integer("slate_size", 5, low=1),
        "max_turns": f.integer("max_turns", 20, low=1),
        "history_window": f.integer("history_window", 3, low=1),
    }
    if "reward_weights" in f:
        kwargs["reward_weights"] = f.weights("reward_weights")
    if "brain" in f:
        kwargs["brain"] = f.string("brain")
        kwargs["brain_kwargs"] = dict(f.child("brain_kwargs", {}).data)
    return Preset(
        name=path.stem,
        env_id=f"simrec/{ident}",
        description=f.string("description", ""),
        kwargs=kwargs,
        source=str(path),
    )


def _catalog_spec(f: Fields, root: Path) -> str | dict[str, Any]:
    """The preset's catalog: a resolved file path, ``{path: ...}`` or a checked ``{generate: ...}``."""
    value = f.raw("catalog")
    if isinstance(value, str):
        return str(_resolve(root, f.string("catalog")))
    if not (isinstance(value, dict) and len(value) == 1 and set(value) <= {"path", "generate"}):
        f.fail(
            "catalog",
            "expected a file path, {path: ...} or {generate: {domain: ..., n_items: ..., "
            f"seed: ...}}}}, got {describe(value)}",
        )
    spec = f.child("catalog")
    if "path" in spec:
        return {"path": str(_resolve(root, spec.string("path")))}
    return {"generate": read_generate_spec(spec.child("generate"))}


def _resolve(root: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else root / p


def shipped_presets() -> dict[str, Preset]:
    """The presets in the shipped ``envs/`` folder, by short name (``golf``)."""
    return {p.stem: load_preset(p) for p in sorted(envs_dir().glob("*.yaml"))}


def find_preset(name: str) -> Preset:
    """A shipped preset by short name (``golf``), Gymnasium id, or a preset file path."""
    presets = shipped_presets()
    if name in presets:
        return presets[name]
    for preset in presets.values():
        if name in (preset.env_id, preset.env_id.split("/", 1)[1]):
            return preset
    if name.endswith((".yaml", ".yml")):
        return load_preset(name, root=Path(name).resolve().parent)
    raise ConfigError(
        f"unknown preset {name!r}; available: {', '.join(presets)} (or a path to a preset .yaml)"
    )


def register_envs() -> None:
    """Register ``simrec/RecSession-v0`` and one id per shipped preset (idempotent)."""
    if "simrec/RecSession-v0" not in gym.registry:
        gym.register(
            id="simrec/RecSession-v0",
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
        )
    for preset in shipped_presets().values():
        # Rule: an id whose brain is an LLM is registered nondeterministic=True, because a
        # live model answers differently run to run (a replayed cache is exact, but the id
        # cannot know which mode a user picks). Every preset also gets an LLM-played twin,
        # ``simrec/GolfClaude-v0``, keeping the preset's brain_kwargs only if they were
        # written for the anthropic brain.
        llm = preset.kwargs.get("brain") == "anthropic"
        if preset.env_id not in gym.registry:
            gym.register(
                id=preset.env_id,
                entry_point=ENTRY_POINT,
                vector_entry_point=VECTOR_ENTRY_POINT,
                kwargs=preset.kwargs,
                nondeterministic=llm,
            )
        llm_id = claude_env_id(preset.env_id)
        if llm_id not in gym.registry:
            brain_kwargs = preset.kwargs.get("brain_kwargs", {}) if llm else {}
            kwargs = {**preset.kwargs, "brain": "anthropic", "brain_kwargs": brain_kwargs}
            gym.register(
                id=llm_id,
                entry_point=ENTRY_POINT,
                vector_entry_point=VECTOR_ENTRY_POINT,
                nondeterministic=True,
                kwargs=kwargs,
            )


def claude_env_id(env_id: str) -> str:
    """The LLM-played twin of a preset id: ``simrec/Golf-v0`` -> ``simrec/GolfClaude-v0``."""
    name, version = env_id.rsplit("-", 1)
    return f"{name}Claude-{version}"
