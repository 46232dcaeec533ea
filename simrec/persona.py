"""Who a simulated user is: identity, tastes, behavioural traits and scripted intents.

Personas are YAML files (see ``personas/`` and the README's schema section). The same
persona drives every brain: the utility brain turns tastes and traits into numbers, an
LLM brain reads the persona card as its character. Scripted events make sessions
interesting to score:

* an **intent** is a steering request the user voices at a turn ("shorter courses, I'm
  playing with my dad") with a hidden :class:`~simrec.constraints.Constraint` that says
  what it means, used for the user model and for scoring only;
* a **drift** is a silent change of tastes from a turn on, for policies that must adapt.

Turn numbering: turn 1 is the first slate. An event ``at_turn: t`` happens in the
user's reply to slate ``t`` (``0`` = the opening message at reset), so it applies to
slates ``t + 1`` onward — the first slate a policy could adapt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simrec.catalog import Catalog
from simrec.constraints import Constraint
from simrec.errors import PersonaError, SimrecError
from simrec.validation import Fields, describe, field_error
from simrec.yamlio import PathKey, YamlDoc, load_yaml, parse_yaml

TASTE_WEIGHT_LIMIT = 10.0
"""Taste weights are utilities (logit units): beyond +-10 a single match decides every
choice, and weights in the hundreds overflow the choice model's exponentials."""

TRAITS = (
    "price_sensitivity",
    "novelty_seeking",
    "boredom_rate",
    "patience",
    "purchase_propensity",
    "chattiness",
)
"""Behavioural traits, each a number in [0, 1]."""

ECONOMY_FIELDS = ("need", "willingness_to_pay")
"""Optional numbers of a visit's economy (derived from the traits when absent)."""

NEED_LIMIT = 20.0
"""The largest mean need a persona may state (items per visit)."""

TOP_LEVEL_FIELDS = frozenset(
    {
        "id",
        "domain",
        "identity",
        "bio",
        "tastes",
        "dislikes",
        "intents",
        "drifts",
        "taste_embedding",
        "history",
        "profile",
        *TRAITS,
        *TRAITS,
        *ECONOMY_FIELDS,
    }
)
IDENTITY_FIELDS = frozenset({"name", "age", "location", "occupation"})
PROFILE_FIELDS = frozenset(
    {"top_categories", "eras", "favourite_titles", "mainstreamness", "activity", "strictness"}
)

Tastes = Mapping[str, Mapping[str, float]]
"""Weights by field then value: ``{"tags": {"scenic": 1.2}, "region": {"scotland": 0.8}}``."""


@dataclass(frozen=True)
class Intent:
    """A steering request: what the user says at a turn and what it means."""

    at_turn: int
    says: str
    constraint: Constraint | None = None
    until_turn: int | None = None

    def active_for_slate(self, turn: int) -> bool:
        """Whether the request applies to the slate shown at ``turn``."""
        return turn > self.at_turn and (self.until_turn is None or turn <= self.until_turn)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form."""
        out: dict[str, Any] = {"at_turn": self.at_turn, "says": self.says}
        if self.constraint is not None:
            out["constraint"] = self.constraint.to_dict()
        if self.until_turn is not None:
            out["until_turn"] = self.until_turn
        return out


@dataclass(frozen=True)
class Drift:
    """A change of tastes from the slate after ``at_turn`` on (optionally voiced)."""

    at_turn: int
    tastes: Tastes
    says: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The YAML form."""
        out: dict[str, Any] = {"at_turn": self.at_turn, "tastes": _plain(self.tastes)}
        if self.says:
            out["says"] = self.says
        return out


@dataclass(frozen=True)
class Profile:
    """What a grounded persona's log says about them, in words and fitted numbers.

    The readable part is for people and LLM persona cards (the latent taste vector
    says nothing to either); the fitted numbers are measured on the user's own events
    and are kept beside the six traits they were mapped to.

    Attributes:
        top_categories: the categories (genres) the user chose most, most first.
        eras: the periods (``1990s``) of the items the user chose most, most first.
        favourite_titles: titles the user rated highest (or chose most recently).
        mainstreamness: in [0, 1]: mean popularity percentile of the user's items.
        activity: in [0, 1]: the user's number of events as a percentile of all users'.
        strictness: in [0, 1]: share of the user's rated events below the liking bar
            (``None`` when the log has no ratings).
    """

    top_categories: tuple[str, ...] = ()
    eras: tuple[str, ...] = ()
    favourite_titles: tuple[str, ...] = ()
    mainstreamness: float | None = None
    activity: float | None = None
    strictness: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (empty fields left out)."""
        out: dict[str, Any] = {}
        for name in ("top_categories", "eras", "favourite_titles"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        for name in ("mainstreamness", "activity", "strictness"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def describe(self) -> str:
        """One sentence for a persona card (empty when nothing is known)."""
        parts = []
        if self.top_categories:
            parts.append("mostly chooses " + ", ".join(self.top_categories))
        if self.eras:
            parts.append("favours items from the " + ", ".join(self.eras))
        if self.favourite_titles:
            parts.append("loved " + "; ".join(self.favourite_titles))
        return ("; ".join(parts) + ".") if parts else ""


@dataclass(frozen=True)
class Persona:
    """A simulated user. Build with :func:`load_persona` or :meth:`from_dict`.

    Traits (all in [0, 1]): ``price_sensitivity`` (how much price lowers appeal and
    purchases), ``novelty_seeking`` (appetite for unseen, long-tail items),
    ``boredom_rate`` (how fast repetition wears), ``patience`` (how long before leaving),
    ``purchase_propensity`` (how often a click becomes a purchase), ``chattiness``
    (how much the user says).

    A visit's economy (optional; derived from the traits and the catalog when absent):
    ``need`` (how many items the user comes to buy per visit, on average; each visit
    draws its own) and ``willingness_to_pay`` (the highest price, in the catalog's
    currency, the user pays without hesitation). See :class:`~simrec.session.BoundPersona`.
    Grounded personas (``simrec ground``) also carry ``taste_embedding`` (a latent taste
    vector over the catalog's ``embeddings``; their ``tastes`` may then be empty),
    ``history`` (item ids the user chose before the visit, oldest first) and a
    :class:`Profile` (readable tastes and fitted behaviour).
    """

    persona_id: str
    domain: str
    name: str
    bio: str
    tastes: Tastes
    dislikes: Mapping[str, tuple[str, ...]]
    price_sensitivity: float = 0.5
    novelty_seeking: float = 0.5
    boredom_rate: float = 0.5
    patience: float = 0.5
    purchase_propensity: float = 0.5
    chattiness: float = 0.5
    need: float | None = None
    willingness_to_pay: float | None = None
    age: int | None = None
    location: str | None = None
    occupation: str | None = None
    intents: tuple[Intent, ...] = ()
    drifts: tuple[Drift, ...] = ()
    taste_embedding: tuple[float, ...] | None = field(default=None, repr=False)
    history: tuple[str, ...] = field(default=(), repr=False)
    profile: Profile = field(default_factory=Profile)
    source: str | None = field(default=None, compare=False, repr=False)
    doc: YamlDoc | None = field(default=None, compare=False, repr=False)

    def __hash__(self) -> int:
        return hash(self.persona_id)

    # -- parsing ----------------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: Any,
        source: str | None = None,
        doc: YamlDoc | None = None,
        checked: Mapping[str, Any] | None = None,
    ) -> Persona:
        """Validate ``data`` (a persona mapping) and build a :class:`Persona`.

        ``checked`` holds ``taste_embedding`` and ``history`` already validated column
        by column (a population table checks thousands of rows at once); they are then
        taken as they are instead of from ``data``.

        Raises:
            PersonaError: naming ``source``, the line (when parsed from YAML), the field
                and what was expected.
        """
        f = Fields(data, PersonaError, source=source, doc=doc)
        f.reject_unknown(TOP_LEVEL_FIELDS)
        identity = f.child("identity", {})
        identity.reject_unknown(IDENTITY_FIELDS)
        persona_id = f.string("id")
        _reject_liked_and_disliked(f)
        if any(c.isspace() for c in persona_id):
            f.fail("id", f"expected an id without spaces, got {persona_id!r}")
        checked = checked or {}
        if "taste_embedding" in checked:
            embedding = checked["taste_embedding"]
        else:
            embedding = _taste_embedding(f) if "taste_embedding" in f else None
        return cls(
            persona_id=persona_id,
            domain=f.string("domain"),
            name=identity.string("name", persona_id),
            age=identity.integer("age", None, low=0, high=120),
            location=identity.string("location", None),
            occupation=identity.string("occupation", None),
            bio=f.string("bio"),
            tastes=_tastes(f.child("tastes", {}), required=embedding is None),
            dislikes=_dislikes(f.child("dislikes", {})),
            taste_embedding=embedding,
            history=checked["history"]
            if "history" in checked
            else tuple(f.string_list("history", [])),
            profile=_profile(f.child("profile", {})),
            intents=tuple(
                _intent(f.element("intents", i, v)) for i, v in f.items_of("intents", [])
            ),
            drifts=tuple(_drift(f.element("drifts", i, v)) for i, v in f.items_of("drifts", [])),
            source=source,
            doc=doc,
            need=f.number("need", None, low=0.0, high=NEED_LIMIT),
            willingness_to_pay=f.number("willingness_to_pay", None, low=0.0),
            **{t: f.number(t, 0.5, low=0.0, high=1.0) for t in TRAITS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (what :meth:`from_dict` reads)."""
        identity = {
            "name": self.name,
            "age": self.age,
            "location": self.location,
            "occupation": self.occupation,
        }
        out: dict[str, Any] = {
            "id": self.persona_id,
            "domain": self.domain,
            "identity": {k: v for k, v in identity.items() if v is not None},
            "bio": self.bio,
            "tastes": _plain(self.tastes),
            "dislikes": {k: list(v) for k, v in self.dislikes.items()},
            **{t: getattr(self, t) for t in TRAITS},
        }
        for name in ECONOMY_FIELDS:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.intents:
            out["intents"] = [i.to_dict() for i in self.intents]
        if self.drifts:
            out["drifts"] = [d.to_dict() for d in self.drifts]
        if self.taste_embedding is not None:
            out["taste_embedding"] = list(self.taste_embedding)
        if self.history:
            out["history"] = list(self.history)
        profile = self.profile.to_dict()
        if profile:
            out["profile"] = profile
        return out

    def to_yaml(self) -> str:
        """The persona as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    # -- binding to a catalog -----------------------------------------------------------
    def _error(self, path: PathKey, message: str) -> SimrecError:
        source = self.source or f"persona {self.persona_id!r}"
        return field_error(PersonaError, source, self.doc, path, message)

    def check_against(self, catalog: Catalog) -> None:
        """Fail if tastes, dislikes or constraints name things ``catalog`` does not have.

        A typo (``tags: {scenicc: 1}``) would otherwise make a taste silently inert.
        """
        for section, mapping in (("tastes", self.tastes), ("dislikes", self.dislikes)):
            self._check_tokens(catalog, (section,), mapping)
        self._check_latent(catalog)
        for i, drift in enumerate(self.drifts):
            self._check_tokens(catalog, ("drifts", i, "tastes"), drift.tastes)
        for i, intent in enumerate(self.intents):
            if intent.constraint is not None:
                try:
                    intent.constraint.check_against(catalog)
                except SimrecError as exc:
                    raise self._error(("intents", i, "constraint"), str(exc)) from None

    def _check_latent(self, catalog: Catalog) -> None:
        """The taste embedding must live in the catalog's space; history ids must exist."""
        if self.taste_embedding is not None:
            d = catalog.embedding_dim
            if d is None:
                raise self._error(
                    ("taste_embedding",),
                    "the persona has a latent taste but the catalog has no 'embedding' "
                    "column; use the catalog it was grounded with",
                )
            if len(self.taste_embedding) != d:
                raise self._error(
                    ("taste_embedding",),
                    f"expected {d} numbers (the catalog's embedding size), "
                    f"got {len(self.taste_embedding)}",
                )
        index = catalog.index_of
        for i, item in enumerate(self.history):
            if item not in index:
                raise self._error(
                    ("history", i), f"item {item!r} is not in the catalog ({len(catalog)} items)"
                )

    def latent_affinity(self, catalog: Catalog) -> np.ndarray | None:
        """``catalog.embeddings @ taste_embedding`` (``None`` without a latent taste)."""
        if self.taste_embedding is None or catalog.embeddings is None:
            return None
        return catalog.embeddings @ np.asarray(self.taste_embedding, dtype=np.float64)

    def history_indices(self, catalog: Catalog) -> np.ndarray:
        """Catalog indices of :attr:`history` (int64, oldest first; read-only)."""
        index = catalog.index_of
        out = np.fromiter((index[i] for i in self.history), np.int64, len(self.history))
        out.setflags(write=False)
        return out

    def _check_tokens(
        self, catalog: Catalog, path: PathKey, mapping: Mapping[str, Iterable[str]]
    ) -> None:
        for fld, values in mapping.items():
            known = sorted(t.split("=", 1)[1] for t in catalog.tokens if t.startswith(fld + "="))
            if not known:
                fields = sorted({t.split("=", 1)[0] for t in catalog.tokens})
                raise self._error(
                    (*path, fld),
                    f"catalog has no categorical field {fld!r}; "
                    f"expected one of: {', '.join(fields)}",
                )
            # Tastes map value -> weight (the key locates it); dislikes list values.
            entries = [(v, v) for v in values] if isinstance(values, Mapping) else enumerate(values)
            for key, value in entries:
                if f"{fld}={value}" not in catalog.token_index:
                    raise self._error(
                        (*path, fld, key),
                        f"{value!r} is not a {fld} in the catalog; known: {', '.join(known)}",
                    )

    def taste_vector(self, catalog: Catalog, tastes: Tastes | None = None) -> np.ndarray:
        """Weights over ``catalog.tokens`` (tastes by default, or the given ones)."""
        vec = np.zeros(len(catalog.tokens))
        for fld, weights in (self.tastes if tastes is None else tastes).items():
            for value, weight in weights.items():
                vec[catalog.token_index[f"{fld}={value}"]] += weight
        return vec

    def dislike_vector(self, catalog: Catalog) -> np.ndarray:
        """1 for each token the persona dislikes, over ``catalog.tokens``."""
        vec = np.zeros(len(catalog.tokens))
        for fld, values in self.dislikes.items():
            for value in values:
                vec[catalog.token_index[f"{fld}={value}"]] = 1.0
        return vec

    def card(self) -> str:
        """A short human description (used in transcripts and LLM prompts)."""
        who = ", ".join(str(x) for x in (self.age, self.occupation, self.location) if x is not None)
        return f"{self.name} ({who})" if who else self.name


def _plain(tastes: Tastes) -> dict[str, dict[str, float]]:
    return {k: dict(v) for k, v in tastes.items()}


def _tastes(f: Fields, required: bool = True) -> dict[str, dict[str, float]]:
    out = {fld: f.weights(fld, low=-TASTE_WEIGHT_LIMIT, high=TASTE_WEIGHT_LIMIT) for fld in f}
    if required and not any(out.values()):
        f.fail_here(
            "expected at least one taste weight, e.g. tags: {scenic: 1.0} "
            "(or a taste_embedding for a grounded persona)"
        )
    return out


def _taste_embedding(f: Fields) -> tuple[float, ...]:
    """A non-empty list of finite numbers (checked as one array: populations are large)."""
    value = f.raw("taste_embedding")
    expected = "a non-empty list of numbers"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        f.fail("taste_embedding", f"expected {expected}, got {describe(value)}")
    for k, x in enumerate(value):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            path = (*f.path, "taste_embedding", k)
            message = f"expected a finite number, got {describe(x)}"
            raise field_error(PersonaError, f.source, f.doc, path, message)
    return tuple(float(x) for x in value)


def _profile(f: Fields) -> Profile:
    f.reject_unknown(PROFILE_FIELDS)
    return Profile(
        top_categories=tuple(f.string_list("top_categories", [])),
        eras=tuple(f.string_list("eras", [])),
        favourite_titles=tuple(f.string_list("favourite_titles", [])),
        **{
            name: f.number(name, None, low=0.0, high=1.0)
            for name in ("mainstreamness", "activity", "strictness")
        },
    )


def _reject_liked_and_disliked(f: Fields) -> None:
    """A value both liked and disliked is a contradiction the model would silently net out."""
    tastes, dislikes = f.data.get("tastes"), f.data.get("dislikes")
    if not isinstance(tastes, Mapping) or not isinstance(dislikes, Mapping):
        return
    for fld, values in dislikes.items():
        liked = tastes.get(fld)
        if isinstance(liked, Mapping) and isinstance(values, list):
            for i, value in enumerate(values):
                if value in liked:
                    message = f"{value!r} is both liked (tastes.{fld}) and disliked; keep one"
                    raise field_error(PersonaError, f.source, f.doc, ("dislikes", fld, i), message)


def _dislikes(f: Fields) -> dict[str, tuple[str, ...]]:
    return {fld: tuple(f.string_list(fld)) for fld in f}


def _intent(f: Fields) -> Intent:
    f.reject_unknown({"at_turn", "says", "constraint", "until_turn"})
    at_turn = f.integer("at_turn", low=0)
    until = f.integer("until_turn", None, low=at_turn + 1)
    constraint = Constraint.from_fields(f.child("constraint")) if "constraint" in f else None
    return Intent(at_turn=at_turn, says=f.string("says"), constraint=constraint, until_turn=until)


def _drift(f: Fields) -> Drift:
    f.reject_unknown({"at_turn", "tastes", "says"})
    return Drift(
        at_turn=f.integer("at_turn", low=0),
        tastes=_tastes(f.child("tastes")),
        says=f.string("says", None),
    )


# -- loading ------------------------------------------------------------------------------
def load_persona(path: str | Path) -> Persona:
    """Load and validate one persona YAML file."""
    doc = load_yaml(path, PersonaError)
    return Persona.from_dict(doc.data, source=str(path), doc=doc)


def parse_persona(text: str, source: str | None = None) -> Persona:
    """Parse and validate persona YAML text."""
    doc = parse_yaml(text, source, PersonaError)
    return Persona.from_dict(doc.data, source=source, doc=doc)


def load_personas(path: str | Path | Iterable[str | Path]) -> list[Persona]:
    """Load personas from a file, a directory (``*.yaml`` / ``*.yml`` in any letter case,
    recursively) or a list.

    A ``.parquet`` file is a population table (:mod:`simrec.population`), e.g. the one
    ``simrec ground`` writes.

    Raises:
        PersonaError: a file is malformed, a directory holds no personas, or two
            personas share an id.
    """
    if isinstance(path, (str, Path)):
        root = Path(path)
        if root.suffix.lower() == ".parquet":
            from simrec.population import load_population

            return load_population(root)
        if root.is_dir():
            files = sorted(
                p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
            )
            if not files:
                raise PersonaError(f"{root}: no persona files (*.yaml) in this directory")
        elif root.is_file():
            files = [root]
        else:
            raise PersonaError(f"{root}: persona file or directory not found")
    else:
        files = [Path(p) for p in path]
    personas = [load_persona(f) for f in files]
    check_unique_ids(personas)
    return personas


def check_unique_ids(personas: Iterable[Persona]) -> None:
    """Fail if two personas share an id (results are keyed by persona id)."""
    seen: dict[str, Persona] = {}
    for p in personas:
        if p.persona_id in seen:
            first = seen[p.persona_id].source or "an earlier persona"
            raise p._error(("id",), f"duplicate persona id {p.persona_id!r} (also in {first})")
        seen[p.persona_id] = p
