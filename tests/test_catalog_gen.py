"""Seeded catalog generation for the built-in domains: shape, vocabulary and reproducibility."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from simrec.catalog import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, load_catalog
from simrec.catalog_gen import cached_catalog, generate_catalog
from simrec.domains import DOMAINS, get_domain
from simrec.errors import ConfigError, SimrecError

N = 300  # large enough that books titles collide and get a numeral (Garden and Ash II)


@pytest.fixture(scope="module", params=sorted(DOMAINS))
def generated(request: pytest.FixtureRequest):
    return request.param, generate_catalog(request.param, N, seed=7)


def test_generates_n_items_with_the_documented_columns(generated) -> None:
    domain, catalog = generated
    spec = get_domain(domain)
    frame = catalog.to_frame()
    assert len(catalog) == len(frame) == N
    # generated catalogs have no latent embeddings (only grounded ones do); a consumable
    # column only where the domain has consumable categories
    consumable = bool(spec.consumable_categories)
    expected = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS[:4]] + ["consumable"] * consumable
    assert list(frame.columns[: len(expected)]) == expected
    assert OPTIONAL_COLUMNS[4:] == ("consumable", "embedding") and catalog.embeddings is None
    assert set(frame.columns[len(expected) :]) == set(spec.numeric) | set(spec.categorical)
    in_consumable = np.isin(catalog.categories, spec.consumable_categories)
    assert catalog.consumable.tolist() == in_consumable.tolist()
    assert set(catalog.numeric) == set(spec.numeric)
    assert set(catalog.categorical) == set(spec.categorical)
    assert catalog.domain == domain
    assert frame.isna().sum().sum() == 0
    assert (catalog.prices > 0).all() and (catalog.popularity > 0).all()


def test_values_come_from_the_domain_vocabulary(generated) -> None:
    domain, catalog = generated
    spec = get_domain(domain)
    assert set(catalog.categories) <= set(spec.categories)
    assert {t for tags in catalog.tags for t in tags} <= set(spec.tags)
    for name, values in catalog.categorical.items():
        assert set(values) <= set(spec.categorical[name])
    for name, attr in spec.numeric.items():
        if attr.per is None and not attr.choices:
            assert attr.low - 0.5 <= catalog.numeric[name].min()
            assert catalog.numeric[name].max() <= attr.high + 0.5


def test_ids_and_titles_are_unique(generated) -> None:
    _, catalog = generated
    assert len(set(catalog.item_ids)) == N
    assert len(set(catalog.titles)) == N
    assert all(title.strip() for title in catalog.titles)


def test_colliding_titles_get_numerals_instead_of_repeating() -> None:
    titles = list(generate_catalog("books", N, seed=7).titles)
    numbered = [t for t in titles if re.search(r" [IVX]+$", t)]
    assert numbered, "expected some title collisions at this size"
    for title in numbered:
        assert title.rsplit(" ", 1)[0] in titles  # "X II" follows an earlier "X"


def test_semantic_ids_are_hierarchical_and_unique(generated) -> None:
    domain, catalog = generated
    spec = get_domain(domain)
    assert len(set(catalog.semantic_ids)) == N
    for i, sid in enumerate(catalog.semantic_ids):
        levels = sid.split("/")
        assert len(levels) == len(spec.semantic_levels) + 1
        item = catalog.item(i)
        fields = {"category": item.category, "price_tier": spec.price_tier(item.price)}
        fields |= {k: v for k, v in item.attributes.items() if isinstance(v, str)}
        for name, level in zip(spec.semantic_levels, levels, strict=False):
            assert level == fields[name], (sid, name)
        assert levels[-1].isdigit()


def test_price_tier_in_semantic_id_agrees_with_domain_spec(generated) -> None:
    domain, catalog = generated
    spec = get_domain(domain)
    tier_level = spec.semantic_levels.index("price_tier")
    tiers = [sid.split("/")[tier_level] for sid in catalog.semantic_ids]
    assert tiers == [spec.price_tier(p) for p in catalog.prices]
    assert len(set(tiers)) >= 3  # prices spread over several tiers


def test_price_tier_boundaries() -> None:
    golf = get_domain("golf")
    assert golf.price_tier(0) == "budget"
    assert golf.price_tier(45) == "budget"
    assert golf.price_tier(45.01) == "mid"
    assert golf.price_tier(220) == "premium"
    assert golf.price_tier(10_000) == "luxury"


def test_same_seed_gives_an_identical_catalog(generated) -> None:
    domain, catalog = generated
    again = generate_catalog(domain, N, seed=7)
    pd.testing.assert_frame_equal(again.to_frame(), catalog.to_frame(), check_exact=True)
    np.testing.assert_array_equal(again.features, catalog.features)
    assert again.feature_names == catalog.feature_names


def test_different_seed_gives_a_different_catalog(generated) -> None:
    domain, catalog = generated
    other = generate_catalog(domain, N, seed=8)
    assert not other.to_frame().equals(catalog.to_frame())
    assert list(other.titles) != list(catalog.titles)
    assert not np.array_equal(other.prices, catalog.prices)


def test_feature_matrix_is_float32_finite_and_named(generated) -> None:
    _, catalog = generated
    features = catalog.features
    assert features.shape == (N, len(catalog.feature_names))
    assert features.dtype == np.float32
    assert np.isfinite(features).all()
    assert len(set(catalog.feature_names)) == len(catalog.feature_names)
    assert catalog.feature_names[-2:] == ("log_price", "popularity")
    assert not features.flags.writeable


def test_token_matrix_has_exactly_one_category_token_per_row(generated) -> None:
    _, catalog = generated
    tokens = catalog.token_matrix
    assert tokens.shape == (N, len(catalog.tokens))
    assert set(np.unique(tokens)) <= {0.0, 1.0}
    category_cols = [k for k, t in enumerate(catalog.tokens) if t.startswith("category=")]
    assert (tokens[:, category_cols].sum(axis=1) == 1).all()
    for row in (0, N // 2, N - 1):
        assert tokens[row, catalog.token_index[f"category={catalog.categories[row]}"]] == 1.0
        for tag in catalog.tags[row]:
            assert tokens[row, catalog.token_index[f"tags={tag}"]] == 1.0


def test_golf_pace_follows_holes() -> None:
    catalog = generate_catalog("golf", N, seed=3)
    holes = catalog.numeric["holes"]
    pace = catalog.numeric["pace_minutes"]
    assert set(holes) == {9.0, 18.0}
    per_hole = pace / holes
    assert (per_hole >= 12 - 0.1).all() and (per_hole <= 17 + 0.1).all()
    assert pace[holes == 9].max() < pace[holes == 18].min()  # a 9-hole round is always faster
    assert (catalog.numeric["length_yards"][holes == 9] < 9 * 420 + 1).all()


def test_generated_descriptions_use_the_item_fields() -> None:
    catalog = generate_catalog("golf", 20, seed=1)
    for i in range(len(catalog)):
        item = catalog.item(i)
        assert item.category in item.description
        assert f"{int(item.attributes['holes'])} holes" in item.description


def test_unknown_domain_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        generate_catalog("gollf", 10)
    message = str(info.value)
    assert "'gollf'" in message
    for name in ("golf", "books", "retail"):
        assert name in message


@pytest.mark.parametrize("n_items", [0, -3, 2.5, True])
def test_bad_item_count_is_a_config_error(n_items) -> None:
    with pytest.raises(ConfigError, match="n_items"):
        generate_catalog("golf", n_items)


def test_a_single_item_catalog_works() -> None:
    catalog = generate_catalog("retail", 1, seed=0)
    assert len(catalog) == 1
    assert np.isfinite(catalog.features).all()


def test_a_domain_spec_can_be_passed_directly() -> None:
    spec = get_domain("books")
    by_spec = generate_catalog(spec, 25, seed=4)
    by_name = generate_catalog("books", 25, seed=4)
    pd.testing.assert_frame_equal(by_spec.to_frame(), by_name.to_frame())


def test_cached_catalog_is_shared_and_cannot_be_modified() -> None:
    first = cached_catalog("golf", 40, 0)
    assert cached_catalog("golf", 40, 0) is first
    with pytest.raises(ValueError):
        first.prices[0] = 1.0
    with pytest.raises(ValueError):
        first.numeric["holes"][0] = 27.0


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".yaml"])
def test_generated_catalog_round_trips_through_every_format(generated, tmp_path, suffix) -> None:
    domain, _ = generated
    catalog = generate_catalog(domain, 60, seed=7)  # small: YAML loading is slow
    loaded = load_catalog(catalog.save(tmp_path / f"{domain}{suffix}"), domain=domain)
    pd.testing.assert_frame_equal(loaded.to_frame(), catalog.to_frame(), check_exact=True)
    assert loaded.tokens == catalog.tokens
    np.testing.assert_array_equal(loaded.features, catalog.features)


def test_errors_are_simrec_errors() -> None:
    assert issubclass(ConfigError, SimrecError)
