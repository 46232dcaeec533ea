"""Seeded generation of many personas for a built-in domain.

Hand-written personas (``personas/``) are few and carefully made; experiments on cold
start or on steering need hundreds of *different* users. This module draws them from a
:class:`~simrec.domains.DomainSpec`, so their tastes use exactly the words the domain's
catalogs use and every persona passes :meth:`~simrec.persona.Persona.check_against` on a
generated catalog of that domain.

Reproducibility: every numeric draw (age, tastes, traits, intents, drifts) comes from one
``numpy.random.default_rng(seed)`` and every identity (name, city, job) from one
``Faker("en_US")`` seeded with ``seed_instance(seed)``. Ages never come from faker's
``date_of_birth``, whose result moves with the clock. Bios are built from templates, not
an LLM, so generation is offline, fast and free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker

from simrec.constraints import Constraint
from simrec.domains import DomainSpec, get_domain
from simrec.errors import ConfigError, PersonaError
from simrec.persona import TRAITS, Drift, Intent, Persona, Tastes, check_unique_ids

#: Probability that a generated persona voices a steering request / has a silent drift.
INTENT_RATE = 0.7
DRIFT_RATE = 0.2

#: Taste weights are drawn uniformly in this range.
WEIGHT_RANGE = (0.4, 1.6)

#: Tags that lean to a liked category are this many times likelier to be liked too.
AFFINE_TAG_BOOST = 3.0

#: Beta(a, b) parameters per trait: most users are patient-ish and buy rarely.
TRAIT_BETAS: dict[str, tuple[float, float]] = {
    "price_sensitivity": (2.0, 2.0),
    "novelty_seeking": (2.0, 2.5),
    "boredom_rate": (2.0, 2.5),
    "patience": (3.0, 2.0),
    "purchase_propensity": (2.0, 3.5),
    "chattiness": (2.0, 2.0),
}

AGE_RANGE = (18, 85)
AGE_MEAN, AGE_SD = 44.0, 15.0


@dataclass(frozen=True)
class SteerTemplate:
    """A steering request a generated persona may voice, and the constraint it means.

    Args:
        says: the utterance; ``{cap}`` is replaced by a price cap.
        field: the constrained field (``price``, ``tags``, an attribute …).
        op: the constraint's op (see :mod:`simrec.constraints`).
        value: the constraint's value; ``None`` for a price cap, which is derived from
            the domain's price tiers (catalog-independent, so personas stay portable).
    """

    says: str
    field: str
    op: str
    value: Any = None


STEERING: dict[str, tuple[SteerTemplate, ...]] = {
    "golf": (
        SteerTemplate("Something cheaper this time — under ${cap}.", "price", "<="),
        SteerTemplate("Nine holes only, I'm short on time.", "holes", "==", 9),
        SteerTemplate(
            "I'm bringing the kids, so somewhere family-friendly.", "tags", "has", "family-friendly"
        ),
        SteerTemplate("Nothing too hard, please — I want to enjoy it.", "difficulty", "==", "easy"),
        SteerTemplate("I'd like to walk the whole round, no cart.", "tags", "has", "walkable"),
    ),
    "books": (
        SteerTemplate("Shorter ones please, under 300 pages.", "pages", "<=", 300),
        SteerTemplate("Could you keep it under ${cap}?", "price", "<="),
        SteerTemplate("I need something that makes me laugh.", "tags", "has", "funny"),
        SteerTemplate("Only really well-reviewed ones — 4.5 stars and up.", "rating", ">=", 4.5),
        SteerTemplate("Something I can listen to on my commute?", "format", "==", "audiobook"),
    ),
    "retail": (
        SteerTemplate("Only things that can ship fast.", "delivery_days", "<=", 3),
        SteerTemplate("My budget is tight — under ${cap}, please.", "price", "<="),
        SteerTemplate("It's a present, so gift ideas please.", "tags", "has", "gift-idea"),
        SteerTemplate("I only buy well-rated stuff — 4 stars or better.", "rating", ">=", 4.0),
        SteerTemplate("Has to be light enough to carry, under 5 kg.", "weight_kg", "<=", 5.0),
        SteerTemplate("I'd like something eco-friendly this time.", "tags", "has", "eco-friendly"),
    ),
}
"""Steering requests per built-in domain."""

GENERIC_STEERING = (SteerTemplate("Something cheaper, please — under ${cap}.", "price", "<="),)
"""Steering requests for a domain without its own list (every domain has prices)."""

TASTE_SENTENCES: dict[str, str] = {
    "golf": "Happiest on {categories} courses; cares most about {tags}.",
    "books": "Reads mostly {categories}; cares most about {tags}.",
    "retail": "Shops mostly for {categories}; cares most about {tags}.",
}
DEFAULT_TASTE_SENTENCE = "Likes {categories} {noun}s; cares most about {tags}."

TRAIT_PHRASES: dict[str, tuple[str, str]] = {
    "price_sensitivity": ("Rarely looks at the price.", "Watches every dollar."),
    "novelty_seeking": ("Sticks with what they know.", "Always hunting for something new."),
    "boredom_rate": ("Happy to see the same thing twice.", "Tires quickly of repetition."),
    "patience": ("Gives up fast when nothing fits.", "Willing to browse for a long while."),
    "purchase_propensity": ("Looks a lot, buys little.", "Buys readily once something clicks."),
    "chattiness": ("Says as little as possible.", "Loves to talk about what they want."),
}
"""What a low / high value of each trait sounds like in a bio."""


# -- public API ---------------------------------------------------------------------------
def generate_personas(domain: str, n: int, seed: int) -> list[Persona]:
    """Draw ``n`` valid, diverse personas of a built-in ``domain``, reproducible from ``seed``.

    Args:
        domain: ``golf``, ``books`` or ``retail``.
        n: how many personas (0 gives an empty list).
        seed: seeds both the numpy generator and the faker instance.

    Returns:
        Personas with ids ``<domain>-gen-<seed>-<index>`` (e.g. ``golf-gen-7-0003``).

    Raises:
        ConfigError: ``domain`` is not a built-in domain.
        ConfigError: ``n`` is negative (a ``ValueError`` too).
    """
    spec = get_domain(domain)
    if n < 0:
        raise ConfigError(f"n: expected a non-negative number of personas, got {n}")
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return [_persona(spec, f"{spec.name}-gen-{seed}-{i:04d}", rng, fake) for i in range(n)]


def write_personas(
    personas: Sequence[Persona], out_dir: str | Path, overwrite: bool = False
) -> list[Path]:
    """Write each persona to ``out_dir/<id>.yaml`` (creating the directory).

    Nothing is written if any target exists and ``overwrite`` is false, so a refused
    call never leaves a half-written library behind.

    Args:
        personas: personas with unique ids.
        out_dir: the directory to write into.
        overwrite: replace existing files of the same name.

    Returns:
        The paths written, in the order of ``personas``.

    Raises:
        PersonaError: two personas share an id, or a file exists and ``overwrite`` is false.
    """
    check_unique_ids(personas)
    out = Path(out_dir)
    paths = [out / f"{p.persona_id}.yaml" for p in personas]
    if not overwrite:
        existing = [str(p) for p in paths if p.exists()]
        if existing:
            raise PersonaError(
                f"{existing[0]}: file exists ({len(existing)} of {len(paths)} targets do); "
                "pass overwrite=True to replace them"
            )
    out.mkdir(parents=True, exist_ok=True)
    for persona, path in zip(personas, paths, strict=True):
        path.write_text(persona.to_yaml(), encoding="utf-8")
    return paths


# -- one persona ---------------------------------------------------------------------------
def _persona(spec: DomainSpec, persona_id: str, rng: np.random.Generator, fake: Faker) -> Persona:
    # first and last name apart: fake.name() sometimes adds a prefix ("Dr.") or suffix.
    first, last = fake.first_name(), fake.last_name()
    city, state, occupation = fake.city(), fake.state(), fake.job()
    age = _age(rng)
    tastes = _tastes(spec, rng)
    dislikes = _dislikes(spec, tastes, rng)
    traits = {t: round(float(rng.beta(*TRAIT_BETAS[t])), 2) for t in TRAITS}
    intent = _intent(spec, rng) if rng.random() < INTENT_RATE else None
    drift = _drift(spec, tastes, dislikes, rng) if rng.random() < DRIFT_RATE else None
    return Persona(
        persona_id=persona_id,
        domain=spec.name,
        name=f"{first} {last}",
        age=age,
        location=f"{city}, {state}",
        occupation=occupation,
        bio=" ".join(
            [
                _who(first, age, city, occupation),
                _taste_sentence(spec, tastes),
                _dislike_sentence(dislikes),
                *_trait_sentences(traits),
            ]
        ),
        tastes=tastes,
        dislikes=dislikes,
        intents=(intent,) if intent else (),
        drifts=(drift,) if drift else (),
        **traits,
    )


def _age(rng: np.random.Generator) -> int:
    low, high = AGE_RANGE
    return int(np.clip(round(rng.normal(AGE_MEAN, AGE_SD)), low, high))


def _weights(values: Sequence[str], rng: np.random.Generator) -> dict[str, float]:
    return {str(v): round(float(rng.uniform(*WEIGHT_RANGE)), 2) for v in values}


def _pick(options: Sequence[str], k: int, rng: np.random.Generator, p: Any = None) -> list[str]:
    idx = rng.choice(len(options), size=k, replace=False, p=p)
    return [options[int(i)] for i in idx]


def _tastes(
    spec: DomainSpec, rng: np.random.Generator, avoid: Sequence[str] = ()
) -> dict[str, dict[str, float]]:
    """1-2 categories, 2-4 tags leaning to them, 0-2 categorical attribute values."""
    categories = [c for c in spec.categories if c not in avoid]
    liked = _pick(categories, int(rng.integers(1, 3)), rng)
    affine = {t for c in liked for t in spec.category_tags.get(c, ())}
    boost = np.array([AFFINE_TAG_BOOST if t in affine else 1.0 for t in spec.tags])
    tags = _pick(spec.tags, int(rng.integers(2, 5)), rng, p=boost / boost.sum())
    tastes = {"category": _weights(liked, rng), "tags": _weights(tags, rng)}
    attrs = list(spec.categorical)
    for attr in _pick(attrs, min(len(attrs), int(rng.integers(0, 3))), rng):
        tastes[attr] = _weights(_pick(spec.categorical[attr], 1, rng), rng)
    return tastes


def _dislikes(
    spec: DomainSpec, tastes: Tastes, rng: np.random.Generator
) -> dict[str, tuple[str, ...]]:
    """1-2 categories, tags or attribute values the persona avoids, none of them liked.

    Tags that lean to a liked category are spared too: a links lover who hated windy
    courses would be a contradiction, not a person.
    """
    affine = {t for c in tastes["category"] for t in spec.category_tags.get(c, ())}
    fields = {"category": spec.categories, "tags": spec.tags, **spec.categorical}
    pool = [
        f"{fld}={v}"
        for fld, values in fields.items()
        for v in values
        if v not in tastes.get(fld, {}) and not (fld == "tags" and v in affine)
    ]
    out: dict[str, tuple[str, ...]] = {}
    for token in sorted(_pick(pool, int(rng.integers(1, 3)), rng)):
        fld, value = token.split("=", 1)
        out[fld] = (*out.get(fld, ()), value)
    return out


def _price_cap(spec: DomainSpec, rng: np.random.Generator) -> float:
    """A cap at the top of the budget tier, or halfway into the next tier."""
    budget, mid = spec.price_tiers[0][0], spec.price_tiers[1][0]
    caps = (budget, round((budget + mid) / 2)) if np.isfinite(mid) else (budget,)
    return float(caps[int(rng.integers(len(caps)))])


def _intent(spec: DomainSpec, rng: np.random.Generator) -> Intent:
    templates = STEERING.get(spec.name, GENERIC_STEERING)
    template = templates[int(rng.integers(len(templates)))]
    value, says = template.value, template.says
    if value is None:
        value = _price_cap(spec, rng)
        says = says.format(cap=f"{value:g}")
    constraint = Constraint(field=template.field, op=template.op, value=value)
    return Intent(at_turn=int(rng.integers(2, 7)), says=says, constraint=constraint)


def _drift(
    spec: DomainSpec,
    tastes: Tastes,
    dislikes: Mapping[str, Sequence[str]],
    rng: np.random.Generator,
) -> Drift:
    """New tastes centred on categories the persona did not like (and does not dislike)."""
    avoid = [*tastes["category"], *dislikes.get("category", ())]
    if len(avoid) >= len(spec.categories):
        avoid = list(dislikes.get("category", ()))
    new = _tastes(spec, rng, avoid=avoid)
    for fld, values in dislikes.items():
        for value in values:
            new.get(fld, {}).pop(value, None)
    new = {fld: w for fld, w in new.items() if w}
    return Drift(at_turn=int(rng.integers(3, 9)), tastes=new)


# -- bio -------------------------------------------------------------------------------------
def _words(values: Sequence[str]) -> str:
    """``["science-fiction", "fantasy"]`` -> ``"science fiction and fantasy"``."""
    names = [v.replace("-", " ") for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _article(word: str) -> str:
    vowel = word[:1].lower() in "aeiou"
    eighty = word.startswith("8") or word in ("11", "18")
    return "an" if vowel or eighty else "a"


def _trait_sentences(traits: dict[str, float], k: int = 2) -> list[str]:
    """Phrases for the ``k`` most pronounced traits (those clearly away from 0.5)."""
    ranked = sorted(TRAITS, key=lambda t: -abs(traits[t] - 0.5))
    return [
        TRAIT_PHRASES[t][int(traits[t] > 0.5)] for t in ranked[:k] if abs(traits[t] - 0.5) > 0.15
    ]


def _who(first: str, age: int, city: str, occupation: str) -> str:
    keep = occupation[1:2].isupper()  # an acronym: "IT trainer"
    job = occupation if keep else occupation[:1].lower() + occupation[1:]
    return (
        f"{first} is {_article(str(age))} {age}-year-old from {city}, "
        f"working as {_article(job)} {job}."
    )


def _taste_sentence(spec: DomainSpec, tastes: Tastes) -> str:
    """The liked categories, the two strongest tags and the strongest attribute value."""
    top_tags = sorted(tastes["tags"], key=lambda t: -tastes["tags"][t])[:2]
    text = TASTE_SENTENCES.get(spec.name, DEFAULT_TASTE_SENTENCE).format(
        categories=_words(list(tastes["category"])), tags=_words(top_tags), noun=spec.item_noun
    )
    attrs = [(w, v, fld) for fld in spec.categorical for v, w in tastes.get(fld, {}).items()]
    if attrs:
        _, value, fld = max(attrs)
        text += f" Leans to {_label(fld, value)}."
    return text


def _label(fld: str, value: str) -> str:
    """``("region", "scotland")`` -> ``"scotland (region)"``; tags and categories bare."""
    words = value.replace("-", " ")
    return words if fld in ("category", "tags") else f"{words} ({fld.replace('_', ' ')})"


def _dislike_sentence(dislikes: Mapping[str, Sequence[str]]) -> str:
    labels = [_label(fld, v) for fld, values in dislikes.items() for v in values]
    return f"Steers clear of {_words(labels)}."
