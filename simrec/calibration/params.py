"""Utility-brain parameter files: what ``simrec calibrate fit`` writes and every utility run reads.

::

    # fitted by simrec calibrate fit ... (a comment block says how)
    brain_kwargs:                  # UtilityParams fields
      outside_utility: 2.87
      position_weight: 0.61
    dynamics:                      # SessionDynamics fields (optional)
      category_decay: 0.71
    fit: {...}                     # how the values were fitted (read, not used)

Read by ``simrec run --brain-params FILE``, by a scenario's ``brain_kwargs: FILE`` and
by ``simrec calibrate compare --brains utility:FILE``; in Python,
``load_brain_params(FILE)`` gives the ``brain_kwargs`` and ``dynamics`` to pass to
``gym.make``. Every value is checked as the brain checks it (a known field, a finite
number in its range); an error names the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simrec.brains.utility import UtilityParams
from simrec.errors import ConfigError, SimrecError
from simrec.session import SessionDynamics
from simrec.validation import Fields
from simrec.yamlio import load_yaml

SECTIONS = frozenset({"brain_kwargs", "dynamics", "fit"})
UTILITY_FIELDS = tuple(f.name for f in dataclasses.fields(UtilityParams))
DYNAMICS_FIELDS = tuple(f.name for f in dataclasses.fields(SessionDynamics))


@dataclass(frozen=True)
class BrainParams:
    """A params file's contents.

    Attributes:
        brain_kwargs: :class:`~simrec.brains.utility.UtilityParams` fields (the utility
            brain's ``brain_kwargs``).
        dynamics: :class:`~simrec.session.SessionDynamics` fields.
        fit: what the fit recorded about itself (scenario, steps, log-likelihoods ...).
        source: the file read.
    """

    brain_kwargs: Mapping[str, float] = field(default_factory=dict)
    dynamics: Mapping[str, float] = field(default_factory=dict)
    fit: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None

    def session_dynamics(self, base: SessionDynamics | None = None) -> SessionDynamics:
        """``base`` (default: the defaults) with this file's dynamics."""
        return dataclasses.replace(base or SessionDynamics(), **self.dynamics)

    def env_kwargs(self) -> dict[str, Any]:
        """``brain``, ``brain_kwargs`` and (if any) ``dynamics`` for ``gym.make``."""
        out: dict[str, Any] = {"brain": "utility", "brain_kwargs": dict(self.brain_kwargs)}
        if self.dynamics:
            out["dynamics"] = self.session_dynamics()
        return out


def load_brain_params(path: str | Path) -> BrainParams:
    """Read and check a params file.

    Raises:
        ConfigError: the file is missing or malformed, a field is unknown, or a value is
            not a finite number in its range (naming the file, line and field).
    """
    doc = load_yaml(path, ConfigError)
    f = Fields.from_doc(doc, ConfigError)
    f.reject_unknown(SECTIONS)
    if not {"brain_kwargs", "dynamics"} & set(f):
        f.fail_here("expected brain_kwargs: {UtilityParams field: value} and/or dynamics: {...}")
    utility = _numbers(f, "brain_kwargs", UTILITY_FIELDS, UtilityParams)
    dynamics = _numbers(f, "dynamics", DYNAMICS_FIELDS, SessionDynamics)
    fit = f.raw("fit", {})
    if not isinstance(fit, Mapping):
        f.fail("fit", "expected a mapping (what the fit recorded)")
    return BrainParams(utility, dynamics, dict(fit), str(path))


def _numbers(f: Fields, section: str, known: tuple[str, ...], cls: type) -> dict[str, float]:
    if section not in f:
        return {}
    child = f.child(section)
    child.reject_unknown(frozenset(known))
    values = {k: child.number(k) for k in child}
    try:
        cls(**values)  # the brain's own range checks
    except SimrecError as exc:  # "UtilityParams: field 'x': expected ..., got ..."
        name = getattr(exc, "argument", None)
        if name in values:
            child.fail(name, str(exc).split("': ", 1)[-1])
        f.fail(section, str(exc))
    return values


def write_brain_params(
    path: str | Path, params: BrainParams, header: str = "", overwrite: bool = False
) -> Path:
    """Write ``params`` as a params file (``header``: comment lines on top).

    Raises:
        ConfigError: the file exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConfigError(f"{path}: already exists; choose another --out or pass --overwrite")
    data: dict[str, Any] = {"brain_kwargs": _plain(params.brain_kwargs)}
    if params.dynamics:
        data["dynamics"] = _plain(params.dynamics)
    if params.fit:
        data["fit"] = params.fit
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    text = comments + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _plain(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(round(v, 6)) for k, v in values.items()}


__all__ = ["BrainParams", "load_brain_params", "write_brain_params"]
