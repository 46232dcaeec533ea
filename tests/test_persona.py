"""Personas: the shipped library, validation errors users see, and seeded generation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from simrec.catalog_gen import cached_catalog
from simrec.errors import PersonaError
from simrec.persona import Persona, load_persona, load_personas, parse_persona
from simrec.persona_gen import generate_personas, write_personas

LIBRARY = Path(__file__).resolve().parents[1] / "personas"
DOMAINS = ("golf", "books", "retail")

VALID = """\
id: golf-test-walker
domain: golf
identity:
  name: Test Walker
  age: 40
  location: Austin, Texas
  occupation: tester
bio: Walks every round.
tastes:
  category: {links: 1.2}
  tags: {walkable: 1.0}
dislikes:
  tags: [lively-clubhouse]
price_sensitivity: 0.5
patience: 0.6
intents:
  - at_turn: 3
    says: "Cheaper, please."
    constraint: {field: price, op: "<=", value: 60}
"""


def catalog(domain: str):
    """The catalog every persona of ``domain`` must fit (generated once per process)."""
    return cached_catalog(domain, 200, 0)


def write(tmp_path: Path, text: str, name: str = "persona.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def load_broken(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    """Load VALID with ``old`` replaced by ``new``; return (error message, expected 'file:line')."""
    assert old in VALID
    text = VALID.replace(old, new)
    path = write(tmp_path, text)
    with pytest.raises(PersonaError) as err:
        load_persona(path)
    return str(err.value), f"{path}:{line_of(text, new.splitlines()[0])}"


# -- the shipped library -------------------------------------------------------------------
@pytest.fixture(scope="module")
def library() -> list[Persona]:
    return load_personas(LIBRARY)


def test_library_has_at_least_four_personas_per_domain(library):
    assert len(library) >= 12
    per_domain = Counter(p.domain for p in library)
    assert {d: per_domain[d] >= 4 for d in DOMAINS} == dict.fromkeys(DOMAINS, True)


def test_library_ids_are_unique_and_prefixed_by_domain(library):
    ids = [p.persona_id for p in library]
    assert len(set(ids)) == len(ids)
    assert all(p.persona_id.startswith(f"{p.domain}-") for p in library)


def test_library_personas_fit_their_domain_catalog(library):
    for persona in library:
        persona.check_against(catalog(persona.domain))


def test_library_intents_are_timely_and_satisfiable_by_a_fair_share(library):
    intents = [(p, i) for p in library for i in p.intents]
    assert len(intents) > len(library) / 2
    for persona, intent in intents:
        share = intent.constraint.mask(catalog(persona.domain)).mean()
        assert 2 <= intent.at_turn <= 6, persona.persona_id
        assert 0.10 <= share <= 0.50, (persona.persona_id, share)
    assert any(p.drifts for p in library)


# -- validation errors name file, line and field ---------------------------------------------
def test_valid_text_loads(tmp_path):
    persona = load_persona(write(tmp_path, VALID))
    assert persona.patience == 0.6
    assert persona.intents[0].constraint.describe() == "price <= 60.0"
    persona.check_against(catalog("golf"))


def test_trait_out_of_range_names_file_line_and_trait(tmp_path):
    message, where = load_broken(tmp_path, "patience: 0.6", "patience: 1.7")
    assert where in message
    assert "patience" in message and "[0, 1]" in message


def test_string_where_number_expected(tmp_path):
    message, where = load_broken(tmp_path, "price_sensitivity: 0.5", "price_sensitivity: high")
    assert where in message
    assert "price_sensitivity" in message and "'high'" in message


def test_unknown_top_level_field_is_rejected(tmp_path):
    message, where = load_broken(tmp_path, "patience: 0.6", "pateince: 0.6")
    assert where in message
    assert "pateince" in message and "unknown field" in message


def test_missing_bio_is_reported(tmp_path):
    text = VALID.replace("bio: Walks every round.\n", "")
    path = write(tmp_path, text)
    with pytest.raises(PersonaError, match="bio") as err:
        load_persona(path)
    assert str(path) in str(err.value) and "missing" in str(err.value)


def test_intent_with_bad_constraint_op(tmp_path):
    old = 'constraint: {field: price, op: "<=", value: 60}'
    message, where = load_broken(tmp_path, old, old.replace('"<="', '"=<"'))
    assert where in message
    assert "intents[0].constraint.op" in message and "'=<'" in message


def test_taste_unknown_to_catalog_names_line(tmp_path):
    text = VALID.replace("walkable: 1.0", "walkabel: 1.0")
    path = write(tmp_path, text)
    persona = load_persona(path)  # the schema is fine; the catalog does not know the tag
    with pytest.raises(PersonaError) as err:
        persona.check_against(catalog("golf"))
    message = str(err.value)
    assert f"{path}:{line_of(text, 'walkabel')}" in message
    assert "walkabel" in message and "walkable" in message  # lists the known tags


def test_invalid_yaml_names_file_and_line(tmp_path):
    text = VALID.replace("  tags: {walkable: 1.0}", "  tags: {walkable: 1.0")
    path = write(tmp_path, text)
    with pytest.raises(PersonaError, match="invalid YAML") as err:
        load_persona(path)
    assert f"{path}:" in str(err.value)


def test_duplicate_ids_across_files_name_both_files(tmp_path):
    first = write(tmp_path, VALID, "a.yaml")
    second = write(tmp_path, VALID, "b.yaml")
    with pytest.raises(PersonaError, match="duplicate persona id 'golf-test-walker'") as err:
        load_personas(tmp_path)
    assert str(first) in str(err.value) and str(second) in str(err.value)


# -- generation -----------------------------------------------------------------------------
@pytest.mark.parametrize("domain", DOMAINS)
def test_generated_personas_are_valid_and_round_trip(domain):
    personas = generate_personas(domain, 40, seed=3)
    assert len(personas) == 40
    assert [p.persona_id for p in personas[:2]] == [f"{domain}-gen-3-0000", f"{domain}-gen-3-0001"]
    for p in personas:
        assert Persona.from_dict(p.to_dict()) == p
        p.check_against(catalog(domain))
        assert not set(p.tastes["category"]) & set(p.dislikes.get("category", ()))
        assert not set(p.tastes["tags"]) & set(p.dislikes.get("tags", ()))
        assert all(0.0 <= getattr(p, t) <= 1.0 for t in ("patience", "chattiness"))
        assert p.location.count(", ") == 1 and p.occupation and p.bio
        for intent in p.intents:
            assert 2 <= intent.at_turn <= 6
            assert intent.constraint.mask(catalog(domain)).any()


def test_same_seed_same_personas_different_seed_different():
    first = generate_personas("books", 20, seed=11)
    assert generate_personas("books", 20, seed=11) == first
    assert [p.to_yaml() for p in generate_personas("books", 20, seed=11)] == [
        p.to_yaml() for p in first
    ]
    other = generate_personas("books", 20, seed=12)
    assert [p.name for p in other] != [p.name for p in first]
    assert [p.tastes for p in other] != [p.tastes for p in first]


def test_generated_personas_are_diverse():
    personas = generate_personas("golf", 50, seed=0)
    favourites = {max(p.tastes["category"], key=p.tastes["category"].get) for p in personas}
    assert len(favourites) >= 5
    assert len({p.name for p in personas}) >= 45
    assert len({p.bio for p in personas}) == 50
    assert 0.1 < sum(p.price_sensitivity > 0.5 for p in personas) / 50 < 0.9
    with_intent = sum(bool(p.intents) for p in personas)
    with_drift = sum(bool(p.drifts) for p in personas)
    assert 20 <= with_intent <= 48 and 1 <= with_drift <= 25
    assert len({i.constraint.field for p in personas for i in p.intents}) >= 3


def test_ages_are_reproducible_and_adult():
    ages = [p.age for p in generate_personas("retail", 60, seed=5)]
    assert ages == [p.age for p in generate_personas("retail", 60, seed=5)]
    assert all(18 <= a <= 85 for a in ages)
    assert len(set(ages)) > 15


def test_write_personas_round_trips_through_files(tmp_path):
    personas = generate_personas("golf", 5, seed=2)
    paths = write_personas(personas, tmp_path / "out")
    assert [p.name for p in paths] == [f"{p.persona_id}.yaml" for p in personas]
    assert load_personas(tmp_path / "out") == personas


def test_write_personas_refuses_to_overwrite(tmp_path):
    personas = generate_personas("books", 3, seed=2)
    write_personas(personas, tmp_path)
    changed = generate_personas("books", 3, seed=9)
    renamed = [
        Persona.from_dict({**p.to_dict(), "id": o.persona_id})
        for p, o in zip(changed, personas, strict=True)
    ]
    with pytest.raises(PersonaError, match="overwrite=True") as err:
        write_personas(renamed, tmp_path)
    assert f"{personas[0].persona_id}.yaml" in str(err.value)
    assert load_personas(tmp_path) == personas  # nothing was touched
    write_personas(renamed, tmp_path, overwrite=True)
    assert load_personas(tmp_path) == renamed


def test_a_value_both_liked_and_disliked_is_rejected(tmp_path):
    message, where = load_broken(tmp_path, "tags: [lively-clubhouse]", "tags: [walkable]")
    assert where in message and "'walkable' is both liked" in message


def test_duplicate_yaml_keys_are_rejected_not_silently_dropped(tmp_path):
    text = VALID + "patience: 0.9\n"
    path = write(tmp_path, text)
    with pytest.raises(PersonaError) as exc:
        load_persona(path)
    assert f"{path}:{len(text.splitlines())}: duplicate key 'patience'" in str(exc.value)
    assert f"first at line {line_of(text, 'patience')}" in str(exc.value)


def test_unknown_disliked_value_names_its_own_line(tmp_path):
    text = VALID.replace(
        "  tags: [lively-clubhouse]", "  tags:\n    - quiet\n    - lively-clubhose"
    )
    persona = load_persona(write(tmp_path, text))
    with pytest.raises(PersonaError) as exc:
        persona.check_against(catalog("golf"))
    assert f":{line_of(text, 'lively-clubhose')}: field 'dislikes.tags[1]'" in str(exc.value)


def test_personas_are_hashable_by_id(tmp_path):
    persona = load_persona(write(tmp_path, VALID))
    assert {persona, Persona.from_dict(persona.to_dict())} == {persona}


@pytest.mark.parametrize("weight", ["1000", "-11", ".inf", ".nan"])
def test_a_taste_weight_beyond_ten_is_refused_naming_the_line(tmp_path, weight):
    text = VALID.replace("walkable: 1.0", f"walkable: {weight}")
    path = write(tmp_path, text)
    with pytest.raises(PersonaError) as err:
        load_persona(path)
    assert str(err.value).startswith(
        f"{path}:{line_of(text, 'walkable')}: field 'tastes.tags.walkable': "
        "expected a number in [-10, 10], got"
    )


def test_a_directory_of_persona_files_reads_any_suffix_case(tmp_path):
    write(tmp_path, VALID, "a.YAML")
    write(tmp_path, VALID.replace("golf-test-walker", "other"), "b.Yml")
    (tmp_path / "notes.txt").write_text("not a persona")
    assert sorted(p.persona_id for p in load_personas(tmp_path)) == ["golf-test-walker", "other"]


# -- grounded personas: latent taste, history, profile -------------------------------------------
def test_grounded_persona_yaml_round_trips_with_latent_taste_history_and_profile():
    from tests.conftest import make_grounded_persona

    persona = make_grounded_persona(history=("it-003", "it-001"))
    back = parse_persona(persona.to_yaml(), "p.yaml")
    assert back == persona and back.tastes == {} and back.history == ("it-003", "it-001")
    assert back.profile.describe() == "mostly chooses alpha."


def test_latent_taste_must_match_the_catalog_and_history_must_exist():
    from tests.conftest import grounded_catalog, make_grounded_persona, small_catalog

    with pytest.raises(PersonaError, match="catalog has no 'embedding' column"):
        make_grounded_persona().check_against(small_catalog())
    with pytest.raises(PersonaError, match="expected 3 numbers .*got 4"):
        make_grounded_persona(d=4).check_against(grounded_catalog(d=3))
    with pytest.raises(
        PersonaError, match=r"field 'history\[1\]': item 'nope' is not in the catalog"
    ):
        make_grounded_persona(history=("it-001", "nope")).check_against(grounded_catalog())


def test_bad_latent_fields_name_the_line_and_field():
    text = "id: u\ndomain: d\nbio: b\ntaste_embedding: [1.0, .nan]\n"
    with pytest.raises(
        PersonaError, match=r"p.yaml:4: field 'taste_embedding\[1\]': expected a finite number"
    ):
        parse_persona(text, "p.yaml")
    with pytest.raises(
        PersonaError, match=r"p.yaml:4: field 'taste_embedding': expected a non-empty list"
    ):
        parse_persona("id: u\ndomain: d\nbio: b\ntaste_embedding: []\n", "p.yaml")
    with pytest.raises(PersonaError, match="expected at least one taste weight"):
        parse_persona("id: u\ndomain: d\nbio: b\n", "p.yaml")  # neither tastes nor a latent taste
    with pytest.raises(PersonaError, match=r"p.yaml:5: field 'profile.mood': unknown field"):
        parse_persona(
            "id: u\ndomain: d\nbio: b\ntaste_embedding: [1]\nprofile: {mood: 1}\n", "p.yaml"
        )
