"""A persona population: thousands of personas as one parquet table, one row per persona.

Hand-written personas are YAML files; a grounded population (``simrec ground``) has a
persona per real user, so it is one table instead of thousands of files. Each row holds
the persona's YAML fields as columns, and the same validation applies
(:meth:`~simrec.persona.Persona.from_dict`), so an error names the file, the row, the
persona and the field.

==================  ==================  =================================================
column              type                meaning
==================  ==================  =================================================
id                  string              persona id (unique, no spaces)
domain              string              domain name (``movies``, ``golf`` …)
name, bio           string              identity and short description
age                 int (nullable)      identity
location            string (nullable)   identity
occupation          string (nullable)   identity
price_sensitivity … double              the six traits, each in [0, 1]
need                double (nullable)   items the user comes to buy per visit, on average,
                                        in [0, 20] (null: from purchase_propensity)
willingness_to_pay  double (nullable)   the reference price, >= 0 (null: from
                                        price_sensitivity and the catalog's prices)
tastes, dislikes    string (JSON)       as in persona YAML (``{}`` when none)
intents, drifts     string (JSON)       as in persona YAML (``[]`` when none)
taste_embedding     list<double>        latent taste (null for token-taste personas)
history             list<string>        item ids chosen before the visit, oldest first
top_categories      list<string>        readable tastes (:class:`~simrec.persona.Profile`)
eras                list<string>        readable tastes
favourite_titles    list<string>        readable tastes
mainstreamness      double (nullable)   fitted behaviour, in [0, 1]
activity            double (nullable)   fitted behaviour, in [0, 1]
strictness          double (nullable)   fitted behaviour, in [0, 1]
==================  ==================  =================================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from simrec.errors import PersonaError
from simrec.persona import ECONOMY_FIELDS, NEED_LIMIT, TRAITS, Persona, Profile, check_unique_ids
from simrec.validation import describe

IDENTITY_COLUMNS = ("name", "age", "location", "occupation")
JSON_COLUMNS = {"tastes": "{}", "dislikes": "{}", "intents": "[]", "drifts": "[]"}
LIST_COLUMNS = ("history", "top_categories", "eras", "favourite_titles")
PROFILE_NUMBERS = ("mainstreamness", "activity", "strictness")
REQUIRED_COLUMNS = ("id", "domain", "bio")
COLUMNS = (
    "id",
    "domain",
    *IDENTITY_COLUMNS,
    "bio",
    *TRAITS,
    *ECONOMY_FIELDS,
    *JSON_COLUMNS,
    "taste_embedding",
    *LIST_COLUMNS,
    *PROFILE_NUMBERS,
)


def population_frame(personas: Iterable[Persona]) -> pd.DataFrame:
    """The personas as a table in the population schema (see the module docstring)."""
    rows = []
    for p in personas:
        data = p.to_dict()
        identity, profile = data.get("identity", {}), data.get("profile", {})
        rows.append(
            {
                "id": p.persona_id,
                "domain": p.domain,
                **{k: identity.get(k) for k in IDENTITY_COLUMNS},
                "bio": p.bio,
                **{t: float(getattr(p, t)) for t in TRAITS},
                **{k: getattr(p, k) for k in ECONOMY_FIELDS},
                **{
                    k: json.dumps(data.get(k, json.loads(empty)))
                    for k, empty in JSON_COLUMNS.items()
                },
                "taste_embedding": None
                if p.taste_embedding is None
                else np.asarray(p.taste_embedding, dtype=np.float64),
                "history": list(p.history),
                "top_categories": list(p.profile.top_categories),
                "eras": list(p.profile.eras),
                "favourite_titles": list(p.profile.favourite_titles),
                **{k: profile.get(k) for k in PROFILE_NUMBERS},
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["age"] = frame["age"].astype("Int64")
    for column in (*PROFILE_NUMBERS, *ECONOMY_FIELDS):
        frame[column] = frame[column].astype("float64")
    return frame


def save_population(personas: Sequence[Persona], path: str | Path) -> Path:
    """Write ``personas`` as one parquet table (ids must be unique).

    Raises:
        PersonaError: two personas share an id, or pyarrow is not installed.
    """
    check_unique_ids(personas)
    path = Path(path)
    try:
        population_frame(personas).to_parquet(path, index=False)
    except ImportError:
        raise PersonaError(
            f"{path}: writing parquet needs pyarrow: pip install 'simrec[parquet]'"
        ) from None
    return path


def load_population(path: str | Path) -> list[Persona]:
    """Read and validate a population parquet table.

    Rows are checked column by column (thousands of personas load in a fraction of a
    second); a row with intents, drifts, tastes or dislikes goes through the full
    persona validation (:meth:`Persona.from_dict`), as a YAML persona would.

    Raises:
        PersonaError: naming the file, the row, the persona id and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise PersonaError(f"{path}: population file not found")
    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise PersonaError(
            f"{path}: reading parquet needs pyarrow: pip install 'simrec[parquet]'"
        ) from None
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise PersonaError(f"{path}: not a readable parquet file: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise PersonaError(
            f"{path}: missing column {missing[0]!r} (a population needs "
            f"{', '.join(REQUIRED_COLUMNS)}; found: {', '.join(map(str, frame.columns))})"
        )
    unknown = [c for c in frame.columns if c not in COLUMNS]
    if unknown:
        raise PersonaError(
            f"{path}: unknown column {unknown[0]!r}; expected columns among: {', '.join(COLUMNS)}"
        )
    if frame.empty:
        raise PersonaError(f"{path}: the population has no personas")
    table = _Table(path, frame)
    personas = [table.persona(row) for row in range(len(frame))]
    check_unique_ids(personas)
    return personas


class _Table:
    """Column-wise validation of a population table, then one persona per row."""

    def __init__(self, path: Path, frame: pd.DataFrame) -> None:
        self.path = path
        self.frame = frame
        self.ids = self._strings("id", required=True)
        for row, ident in enumerate(self.ids):
            if any(c.isspace() for c in ident):
                self.fail(row, "id", f"expected an id without spaces, got {ident!r}")
        self.domains = self._strings("domain", required=True)
        self.bios = self._strings("bio", required=True)
        self.identity = {k: self._strings(k) for k in ("name", "location", "occupation")}
        self.ages = self._integers("age", 0, 120)
        self.traits = {t: self._unit_numbers(t, 0.5) for t in TRAITS}
        self.profile_numbers = {k: self._unit_numbers(k, None) for k in PROFILE_NUMBERS}
        self.economy = {
            "need": self._numbers("need", 0.0, NEED_LIMIT),
            "willingness_to_pay": self._numbers("willingness_to_pay", 0.0, math.inf),
        }
        self.lists = {k: self._string_lists(k) for k in LIST_COLUMNS}
        self.embeddings = self._embeddings()
        self.json = {k: self._texts(k) for k in JSON_COLUMNS}

    def where(self, row: int) -> str:
        ident = self.frame["id"].iloc[row]
        return f"{self.path}: row {row}" + (
            f" (persona {ident!r})" if isinstance(ident, str) else ""
        )

    def fail(self, row: int, field: str, message: str) -> NoReturn:
        raise PersonaError(f"{self.where(row)}: field '{field}': {message}")

    # -- columns --------------------------------------------------------------------------
    def _values(self, column: str) -> list[Any]:
        if column not in self.frame.columns:
            return [None] * len(self.frame)
        return [None if _missing(v) else v for v in self.frame[column].tolist()]

    def _strings(self, column: str, required: bool = False) -> list[Any]:
        values = self._values(column)
        for row, value in enumerate(values):
            if value is None and not required:
                continue
            if not isinstance(value, str) or not value.strip():
                self.fail(row, column, f"expected a non-empty string, got {describe(value)}")
        return values

    def _integers(self, column: str, low: int, high: int) -> list[int | None]:
        values = self._values(column)
        for row, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, float) and value.is_integer():
                value = values[row] = int(value)  # a nullable int column reads as float
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self.fail(
                    row, column, f"expected an integer in [{low}, {high}], got {describe(value)}"
                )
        return values

    def _unit_numbers(self, column: str, default: float | None) -> list[float | None]:
        values = self._numbers(column, 0.0, 1.0)
        return [default if v is None else v for v in values]

    def _numbers(self, column: str, low: float, high: float) -> list[float | None]:
        """A nullable number column with values in ``[low, high]`` (``None`` where null)."""
        values = self._values(column)
        span = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        for row, value in enumerate(values):
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not low <= value <= high
            ):
                self.fail(row, column, f"expected a number {span}, got {describe(value)}")
            values[row] = float(value)
        return values

    def _string_lists(self, column: str) -> list[tuple[str, ...]]:
        out = []
        for row, value in enumerate(self._values(column)):
            items = value.tolist() if isinstance(value, np.ndarray) else value
            if items is None:
                items = []
            if not isinstance(items, list) or not all(type(i) is str and i for i in items):
                self.fail(
                    row, column, f"expected a list of non-empty strings, got {describe(value)}"
                )
            out.append(tuple(items))
        return out

    def _embeddings(self) -> list[tuple[float, ...] | None]:
        out: list[tuple[float, ...] | None] = []
        for row, value in enumerate(self._values("taste_embedding")):
            if value is None:
                out.append(None)
                continue
            array = np.asarray(value) if isinstance(value, (list, np.ndarray)) else None
            if array is None or array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iuf":
                self.fail(
                    row,
                    "taste_embedding",
                    f"expected a non-empty list of numbers, got {describe(value)}",
                )
            if not np.isfinite(array).all():
                k = int(np.flatnonzero(~np.isfinite(array))[0])
                self.fail(
                    row, f"taste_embedding[{k}]", f"expected a finite number, got {array[k]!r}"
                )
            out.append(tuple(array.astype(np.float64).tolist()))
        return out

    def _texts(self, column: str) -> list[str | None]:
        values = self._values(column)
        for row, value in enumerate(values):
            if value is not None and not isinstance(value, str):
                self.fail(row, column, f"expected JSON text, got {describe(value)}")
            if value is not None and value.strip() in ("{}", "[]", ""):
                values[row] = None  # nothing there: the fast path applies
        return values

    # -- rows -------------------------------------------------------------------------------
    def persona(self, row: int) -> Persona:
        """The persona of ``row`` (full validation when it has token tastes or events)."""
        embedding = self.embeddings[row]
        if any(self.json[k][row] is not None for k in JSON_COLUMNS) or embedding is None:
            return Persona.from_dict(
                self._mapping(row),
                source=self.where(row),
                checked={"taste_embedding": embedding, "history": self.lists["history"][row]},
            )
        ident = self.ids[row]
        return Persona(
            persona_id=ident,
            domain=self.domains[row],
            name=self.identity["name"][row] or ident,
            age=self.ages[row],
            location=self.identity["location"][row],
            occupation=self.identity["occupation"][row],
            bio=self.bios[row],
            tastes={},
            dislikes={},
            taste_embedding=embedding,
            history=self.lists["history"][row],
            profile=Profile(
                top_categories=self.lists["top_categories"][row],
                eras=self.lists["eras"][row],
                favourite_titles=self.lists["favourite_titles"][row],
                **{k: v[row] for k, v in self.profile_numbers.items()},
            ),
            source=self.where(row),
            **{t: v[row] for t, v in self.traits.items()},
            **{k: v[row] for k, v in self.economy.items()},
        )

    def _mapping(self, row: int) -> dict[str, Any]:
        """The row as a persona mapping for :meth:`Persona.from_dict`."""
        data: dict[str, Any] = {"id": self.ids[row], "domain": self.domains[row]}
        data["bio"] = self.bios[row]
        identity = {k: v[row] for k, v in self.identity.items() if v[row] is not None}
        if self.ages[row] is not None:
            identity["age"] = self.ages[row]
        if identity:
            data["identity"] = identity
        data.update({t: v[row] for t, v in self.traits.items()})
        data.update({k: v[row] for k, v in self.economy.items() if v[row] is not None})
        for key in JSON_COLUMNS:
            text = self.json[key][row]
            if text is None:
                continue
            try:
                data[key] = json.loads(text)
            except json.JSONDecodeError as exc:
                self.fail(row, key, f"invalid JSON: {exc.msg} (column {exc.colno})")
        profile: dict[str, Any] = {k: list(v[row]) for k, v in self.lists.items() if k != "history"}
        profile.update({k: v[row] for k, v in self.profile_numbers.items() if v[row] is not None})
        data["profile"] = profile
        return data


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)
