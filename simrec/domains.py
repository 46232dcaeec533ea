"""Vocabularies of the built-in domains: what a golf course, a book or a product is.

A :class:`DomainSpec` is data, not code: the categories, tags and attributes an item of
the domain can have, how tags lean with the category, how prices are distributed and
how titles are built. :mod:`simrec.catalog_gen` turns a spec and a seed into a catalog;
:mod:`simrec.persona_gen` turns it into personas whose tastes use the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simrec.errors import ConfigError


@dataclass(frozen=True)
class NumericAttribute:
    """A numeric attribute drawn uniformly in ``[low, high]`` (rounded when ``integer``).

    ``choices`` draws from a fixed set instead (9 or 18 holes); ``per`` multiplies the
    draw by another attribute declared earlier (minutes *per hole*), which keeps related
    attributes consistent.
    """

    low: float
    high: float
    integer: bool = False
    unit: str = ""
    choices: tuple[float, ...] = ()
    per: str | None = None


@dataclass(frozen=True)
class DomainSpec:
    """Everything needed to generate items (and personas) of one domain."""

    name: str
    item_noun: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]
    numeric: dict[str, NumericAttribute]
    category_tags: dict[str, tuple[str, ...]]
    price_median: float
    price_sigma: float
    price_tiers: tuple[tuple[float, str], ...]
    semantic_levels: tuple[str, ...]
    title_patterns: tuple[str, ...]
    title_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    consumable_categories: tuple[str, ...] = ()
    """Categories whose items get used up (a user may buy one again in the same visit)."""

    def price_tier(self, price: float) -> str:
        """The named tier (``budget``, ``premium`` …) a price falls in."""
        for upper, name in self.price_tiers:
            if price <= upper:
                return name
        return self.price_tiers[-1][1]


GOLF = DomainSpec(
    name="golf",
    item_noun="course",
    categories=("links", "parkland", "desert", "mountain", "coastal", "heathland"),
    tags=(
        "walkable",
        "scenic",
        "championship",
        "family-friendly",
        "beginner-friendly",
        "windy",
        "water-hazards",
        "elevation-changes",
        "historic",
        "twilight-rates",
        "practice-facility",
        "caddies",
        "quiet",
        "lively-clubhouse",
        "dog-friendly",
    ),
    categorical={
        "region": (
            "scotland",
            "ireland",
            "arizona",
            "california",
            "carolinas",
            "florida",
            "pacific-northwest",
            "colorado",
            "england",
            "texas",
        ),
        "design_style": ("strategic", "penal", "heroic", "minimalist", "resort"),
        "difficulty": ("easy", "moderate", "hard"),
    },
    numeric={
        "holes": NumericAttribute(9, 18, integer=True, choices=(9, 18, 18)),
        "green_speed": NumericAttribute(8.0, 13.0, unit="stimp"),
        "pace_minutes": NumericAttribute(12, 17, integer=True, unit="min", per="holes"),
        "length_yards": NumericAttribute(330, 420, integer=True, unit="yd", per="holes"),
    },
    category_tags={
        "links": ("windy", "walkable", "historic", "caddies"),
        "parkland": ("family-friendly", "quiet", "practice-facility", "water-hazards"),
        "desert": ("twilight-rates", "scenic", "elevation-changes", "lively-clubhouse"),
        "mountain": ("scenic", "elevation-changes", "quiet", "dog-friendly"),
        "coastal": ("scenic", "windy", "championship", "caddies"),
        "heathland": ("walkable", "quiet", "historic", "beginner-friendly"),
    },
    price_median=95.0,
    price_sigma=0.75,
    price_tiers=((45, "budget"), (110, "mid"), (220, "premium"), (float("inf"), "luxury")),
    semantic_levels=("category", "region", "design_style", "difficulty", "price_tier"),
    title_patterns=(
        "{last_name} {suffix}",
        "{city} {suffix}",
        "The {word} at {city}",
        "{last_name} {word} {suffix}",
    ),
    title_words={
        "suffix": (
            "Golf Club",
            "Links",
            "National",
            "Dunes",
            "Country Club",
            "Golf Course",
            "Downs",
        ),
        "word": ("Ridge", "Pines", "Hollow", "Bluffs", "Meadows", "Canyon", "Heath", "Point"),
    },
    description="A {design_style} {category} course in {region}: {holes} holes, about {pace_minutes} minutes a round.",
)

BOOKS = DomainSpec(
    name="books",
    item_noun="book",
    categories=(
        "mystery",
        "science-fiction",
        "fantasy",
        "romance",
        "history",
        "biography",
        "self-help",
        "literary-fiction",
        "thriller",
        "science",
    ),
    tags=(
        "award-winning",
        "page-turner",
        "slow-burn",
        "dark",
        "funny",
        "heartwarming",
        "twist-ending",
        "series",
        "standalone",
        "debut",
        "classic",
        "illustrated",
        "book-club-pick",
        "short-chapters",
        "based-on-true-story",
    ),
    categorical={
        "format": ("hardcover", "paperback", "ebook", "audiobook"),
        "audience": ("adult", "young-adult", "children"),
        "era": ("classic", "modern", "contemporary"),
    },
    numeric={
        "pages": NumericAttribute(90, 950, integer=True),
        "year": NumericAttribute(1850, 2026, integer=True),
        "rating": NumericAttribute(2.5, 5.0),
    },
    category_tags={
        "mystery": ("twist-ending", "page-turner", "series"),
        "science-fiction": ("award-winning", "series", "dark"),
        "fantasy": ("series", "illustrated", "slow-burn"),
        "romance": ("heartwarming", "funny", "standalone"),
        "history": ("based-on-true-story", "classic", "slow-burn"),
        "biography": ("based-on-true-story", "book-club-pick"),
        "self-help": ("short-chapters", "funny"),
        "literary-fiction": ("award-winning", "book-club-pick", "slow-burn", "classic"),
        "thriller": ("page-turner", "dark", "twist-ending", "short-chapters"),
        "science": ("award-winning", "illustrated", "based-on-true-story"),
    },
    price_median=16.0,
    price_sigma=0.45,
    price_tiers=((10, "budget"), (20, "mid"), (35, "premium"), (float("inf"), "collector")),
    semantic_levels=("category", "audience", "era", "format", "price_tier"),
    title_patterns=(
        "The {word} of {city}",
        "{first_name}'s {word}",
        "A {adjective} {word}",
        "The Last {word}",
        "{word} and {word2}",
    ),
    title_words={
        "word": (
            "Garden",
            "Cipher",
            "Winter",
            "Lighthouse",
            "Orchard",
            "Machine",
            "River",
            "Crown",
            "Archive",
            "Tide",
        ),
        "word2": ("Salt", "Ash", "Silver", "Smoke", "Thunder", "Glass", "Honey", "Iron"),
        "adjective": (
            "Quiet",
            "Crooked",
            "Brilliant",
            "Hidden",
            "Burning",
            "Gentle",
            "Distant",
            "Secret",
        ),
    },
    description="A {era} {category} {format} for {audience} readers, {pages} pages.",
)

RETAIL = DomainSpec(
    name="retail",
    item_noun="product",
    categories=(
        "electronics",
        "kitchen",
        "outdoor",
        "apparel",
        "beauty",
        "toys",
        "home",
        "fitness",
    ),
    tags=(
        "eco-friendly",
        "bestseller",
        "premium",
        "compact",
        "budget-pick",
        "handmade",
        "wireless",
        "waterproof",
        "gift-idea",
        "new-arrival",
        "durable",
        "smart",
        "vegan",
        "kid-safe",
        "limited-edition",
    ),
    categorical={
        "color": ("black", "white", "red", "blue", "green", "grey", "natural"),
        "size": ("small", "medium", "large"),
    },
    numeric={
        "rating": NumericAttribute(2.0, 5.0),
        "weight_kg": NumericAttribute(0.05, 25.0),
        "warranty_months": NumericAttribute(0, 36, integer=True),
        "delivery_days": NumericAttribute(1, 14, integer=True),
    },
    category_tags={
        "electronics": ("wireless", "smart", "premium", "compact"),
        "kitchen": ("durable", "compact", "gift-idea"),
        "outdoor": ("waterproof", "durable", "eco-friendly"),
        "apparel": ("eco-friendly", "vegan", "limited-edition", "new-arrival"),
        "beauty": ("vegan", "eco-friendly", "gift-idea", "premium"),
        "toys": ("kid-safe", "gift-idea", "bestseller"),
        "home": ("handmade", "eco-friendly", "smart"),
        "fitness": ("durable", "compact", "smart", "waterproof"),
    },
    price_median=45.0,
    price_sigma=1.0,
    price_tiers=((20, "budget"), (60, "mid"), (200, "premium"), (float("inf"), "luxury")),
    semantic_levels=("category", "size", "color", "price_tier"),
    title_patterns=(
        "{company} {adjective} {noun}",
        "{adjective} {noun} by {company}",
        "{company} {noun} {model}",
    ),
    title_words={
        "adjective": ("Ultra", "Classic", "Everyday", "Pro", "Mini", "Trail", "Cozy", "Smart"),
        "noun": (
            "Speaker",
            "Kettle",
            "Backpack",
            "Jacket",
            "Serum",
            "Puzzle",
            "Lamp",
            "Yoga Mat",
            "Blender",
            "Tent",
            "Headphones",
            "Candle",
            "Sneakers",
            "Board Game",
            "Water Bottle",
        ),
        "model": ("X1", "200", "Go", "Max", "Air", "Lite", "S"),
    },
    description="A {size} {color} {category} item, rated {rating}/5, delivered in {delivery_days} days.",
    consumable_categories=("beauty",),
)

DOMAINS: dict[str, DomainSpec] = {spec.name: spec for spec in (GOLF, BOOKS, RETAIL)}


def get_domain(name: str) -> DomainSpec:
    """The built-in domain called ``name``; unknown names list the known ones."""
    try:
        return DOMAINS[name]
    except KeyError:
        known = ", ".join(sorted(DOMAINS))
        raise ConfigError(f"unknown domain {name!r}; expected one of: {known}") from None
