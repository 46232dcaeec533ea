"""Population tables: thousands of personas in one parquet file, validated like YAML."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simrec.errors import PersonaError
from simrec.persona import load_personas
from simrec.population import load_population, population_frame, save_population
from tests.conftest import make_grounded_persona, make_persona


def test_population_round_trips_grounded_and_hand_written_personas(tmp_path):
    pool = [
        make_grounded_persona(
            "u1", history=("it-001", "it-007"), identity={"name": "Ann", "age": 33}
        ),
        make_grounded_persona("u2", seed=1),
        make_persona(
            id="hand",
            intents=[{"at_turn": 2, "says": "Cheaper please."}],
            dislikes={"tags": ["loud"]},
        ),
    ]
    path = save_population(pool, tmp_path / "pop.parquet")
    back = load_personas(path)
    assert back == pool
    assert back[0].history == ("it-001", "it-007") and back[0].age == 33
    assert back[0].taste_embedding == pool[0].taste_embedding
    assert back[0].profile.top_categories == ("alpha",)
    assert back[2].intents[0].says == "Cheaper please."


def test_a_visit_economy_round_trips_and_stays_unset_where_the_persona_has_none(tmp_path):
    pool = [
        make_grounded_persona("u1", need=2.5, willingness_to_pay=80.0),
        make_grounded_persona("u2"),
        make_persona(id="hand", need=0.4, willingness_to_pay=12.5),
    ]
    back = load_personas(save_population(pool, tmp_path / "pop.parquet"))
    assert back == pool
    assert [(p.need, p.willingness_to_pay) for p in back] == [
        (2.5, 80.0), (None, None), (0.4, 12.5)
    ]  # fmt: skip


def test_a_population_of_thousands_is_one_file_that_loads_back(tmp_path):
    rng = np.random.default_rng(0)
    pool = [
        make_grounded_persona(f"u{i}", taste_embedding=rng.normal(size=8).tolist())
        for i in range(2000)
    ]
    path = save_population(pool, tmp_path / "pop.parquet")
    back = load_population(path)
    assert len(back) == 2000 and back[1999] == pool[1999]


def _write(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "pop.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "price_sensitivity",
            1.7,
            "row 1 (persona 'u1'): field 'price_sensitivity': expected a number in [0, 1]",
        ),
        (
            "taste_embedding",
            np.array([1.0, np.nan]),
            "field 'taste_embedding[1]': expected a finite number",
        ),
        ("history", ["it-001", ""], "field 'history': expected a list of non-empty strings"),
        ("id", "has space", "expected an id without spaces"),
        ("tastes", "{not json", "field 'tastes': invalid JSON"),
        ("mainstreamness", -0.5, "field 'mainstreamness': expected a number in [0, 1]"),
        ("need", 25.0, "field 'need': expected a number in [0, 20]"),
        ("willingness_to_pay", -3.0, "field 'willingness_to_pay': expected a number >= 0"),
    ],
)
def test_a_bad_row_names_the_file_row_persona_and_field(tmp_path, column, value, message):
    frame = population_frame([make_grounded_persona("u0"), make_grounded_persona("u1")])
    frame[column] = frame[column].astype(object)
    frame.at[1, column] = value
    with pytest.raises(PersonaError) as err:
        load_population(_write(tmp_path, frame))
    assert str(tmp_path / "pop.parquet") in str(err.value)
    assert message.replace("row 1 (persona 'u1')", "") in str(err.value)
    assert "row 1" in str(err.value)


def test_row_with_token_tastes_gets_the_full_persona_checks(tmp_path):
    frame = population_frame([make_persona(id="hand")])
    frame.at[0, "tastes"] = json.dumps({"tags": {"sunny": "lots"}})
    with pytest.raises(PersonaError, match=r"row 0 \(persona 'hand'\).*tastes.tags.sunny"):
        load_population(_write(tmp_path, frame))


def test_missing_unknown_columns_duplicates_and_empty_tables_are_refused(tmp_path):
    frame = population_frame([make_grounded_persona("u0")])
    with pytest.raises(PersonaError, match="missing column 'bio'"):
        load_population(_write(tmp_path, frame.drop(columns=["bio"])))
    with pytest.raises(PersonaError, match="unknown column 'mood'"):
        load_population(_write(tmp_path, frame.assign(mood="x")))
    with pytest.raises(PersonaError, match="duplicate persona id 'u0'"):
        load_population(_write(tmp_path, pd.concat([frame, frame])))
    with pytest.raises(PersonaError, match="has no personas"):
        load_population(_write(tmp_path, frame.iloc[:0]))
    with pytest.raises(PersonaError, match="not found"):
        load_population(tmp_path / "nope.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(PersonaError, match="not a readable parquet file"):
        load_population(tmp_path / "junk.parquet")
