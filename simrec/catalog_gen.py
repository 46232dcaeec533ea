"""Seeded, faker-backed generation of catalogs for the built-in domains.

Every random draw comes from one ``numpy.random.Generator`` and one Faker instance,
both seeded from ``seed``, so the same ``(domain, n_items, seed)`` always gives the
same catalog (faker is pinned exactly in ``pyproject.toml`` because its seeded output
may change between releases).
"""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

import numpy as np
from faker import Faker

from simrec.catalog import Catalog
from simrec.domains import DOMAINS, DomainSpec, get_domain
from simrec.errors import ConfigError
from simrec.validation import Fields

#: Probability that an item carries a tag its category leans to, and any other tag.
AFFINE_TAG_RATE = 0.55
OTHER_TAG_RATE = 0.08


def generate_catalog(domain: str | DomainSpec, n_items: int = 200, seed: int = 0) -> Catalog:
    """A synthetic catalog of ``n_items`` items of ``domain``, reproducible from ``seed``.

    Raises:
        ConfigError: ``domain`` is not a built-in domain (the message lists them), or
            ``n_items`` is not a whole number of at least 1.
    """
    spec = domain if isinstance(domain, DomainSpec) else get_domain(domain)
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ConfigError(f"n_items must be a whole number of at least 1, got {n_items!r}")
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)

    n_cat = len(spec.categories)
    cat_weights = rng.dirichlet(np.full(n_cat, 4.0))
    cat_idx = rng.choice(n_cat, size=n_items, p=cat_weights)
    categories = [spec.categories[i] for i in cat_idx]

    tags = [_draw_tags(spec, c, rng) for c in categories]
    categorical = {
        name: [values[i] for i in rng.integers(len(values), size=n_items)]
        for name, values in spec.categorical.items()
    }
    numeric = {}
    for name, attr in spec.numeric.items():
        if attr.choices:
            values = rng.choice(np.asarray(attr.choices, dtype=np.float64), size=n_items)
        else:
            values = rng.uniform(attr.low, attr.high, size=n_items)
        if attr.per is not None:
            values = values * numeric[attr.per]
        numeric[name] = np.round(values) if attr.integer else np.round(values, 2)
    prices = np.round(spec.price_median * np.exp(rng.normal(0.0, spec.price_sigma, n_items)), 2)
    # Popularity is heavy-tailed (a few hits, a long tail), as in real catalogs.
    popularity = np.round(1.0 / rng.permutation(np.arange(1, n_items + 1)) ** 0.9, 6)

    fields_per_item = [
        {
            "category": categories[i],
            "price_tier": spec.price_tier(prices[i]),
            **{k: v[i] for k, v in categorical.items()},
            **{k: _fmt(v[i]) for k, v in numeric.items()},
        }
        for i in range(n_items)
    ]
    titles = _unique_titles(spec, fake, rng, n_items)
    descriptions = [spec.description.format(**f) for f in fields_per_item]
    semantic_ids = _semantic_ids(spec, fields_per_item)
    width = len(str(n_items))
    item_ids = [f"{spec.name[:4]}-{i:0{width}d}" for i in range(n_items)]
    attributes = {**categorical, **numeric}
    return Catalog(
        item_ids,
        titles,
        categories,
        prices,
        tags,
        popularity,
        descriptions,
        semantic_ids,
        attributes,
        domain=spec.name,
        source=f"generated:{spec.name}:n={n_items}:seed={seed}",
        consumable=[c in spec.consumable_categories for c in categories],
    )


GENERATE_FIELDS = frozenset({"domain", "n_items", "seed"})
"""The keys of a ``{generate: {domain: ..., n_items: ..., seed: ...}}`` catalog spec."""


def read_generate_spec(spec: Fields) -> dict[str, Any]:
    """The checked arguments of :func:`generate_catalog` in a user-written spec.

    Only the keys the user wrote are returned (the function's defaults apply to the rest).

    Raises:
        the reader's error, naming the field: an unknown key (``n_itmes``), an unknown
        domain, or ``n_items`` / ``seed`` that is not a whole number (``seed`` >= 0).
    """
    spec.reject_unknown(GENERATE_FIELDS)
    out: dict[str, Any] = {"domain": spec.choice("domain", tuple(sorted(DOMAINS)))}
    if "n_items" in spec:
        out["n_items"] = spec.integer("n_items", low=1)
    if "seed" in spec:
        out["seed"] = spec.integer("seed", low=0)
    return out


@lru_cache(maxsize=32)
def cached_catalog(domain: str, n_items: int, seed: int) -> Catalog:
    """:func:`generate_catalog`, memoised: presets share one immutable catalog per process."""
    return generate_catalog(domain, n_items, seed)


def _fmt(value: float) -> str | float:
    return int(value) if float(value).is_integer() else float(value)


def _draw_tags(spec: DomainSpec, category: str, rng: np.random.Generator) -> tuple[str, ...]:
    affine = set(spec.category_tags.get(category, ()))
    rates = np.array([AFFINE_TAG_RATE if t in affine else OTHER_TAG_RATE for t in spec.tags])
    chosen = rng.random(len(spec.tags)) < rates
    return tuple(t for t, keep in zip(spec.tags, chosen, strict=True) if keep)


def _title(spec: DomainSpec, fake: Faker, rng: np.random.Generator) -> str:
    pattern = spec.title_patterns[int(rng.integers(len(spec.title_patterns)))]
    # pattern order, not a set: set order follows the per-process string hash seed, which
    # would change the draws (and the catalog) from one process to the next
    names = dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(pattern) if name)
    values = {}
    for name in names:
        if name in spec.title_words:
            words = spec.title_words[name]
            values[name] = words[int(rng.integers(len(words)))]
        elif name == "company":
            values[name] = fake.last_name() + rng.choice(["", " & Co", " Works", " Labs"])
        else:  # a faker provider: last_name, first_name, city …
            values[name] = getattr(fake, name)()
    return pattern.format(**values)


def _unique_titles(spec: DomainSpec, fake: Faker, rng: np.random.Generator, n: int) -> list[str]:
    titles: list[str] = []
    seen: dict[str, int] = {}
    for _ in range(n):
        title = _title(spec, fake, rng)
        count = seen.get(title, 0)
        seen[title] = count + 1
        titles.append(title if count == 0 else f"{title} {_roman(count + 1)}")
    return titles


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _semantic_ids(spec: DomainSpec, fields_per_item: list[dict]) -> list[str]:
    """Hierarchical ids (``desert/arizona/heroic/hard/premium/0``), unique by a final ordinal."""
    counts: dict[str, int] = {}
    out = []
    for f in fields_per_item:
        prefix = "/".join(str(f[level]) for level in spec.semantic_levels)
        ordinal = counts.get(prefix, 0)
        counts[prefix] = ordinal + 1
        out.append(f"{prefix}/{ordinal}")
    return out
