"""An LLM's persona answer in the persona YAML form, validated by the loader's own checks."""

from __future__ import annotations

import pytest
from llm_support import small_catalog

from simrec.authoring.answer import persona_data, read_persona
from simrec.llm.request import InvalidAnswer

ANSWER = {
    "name": "Ann Lee", "age": 40, "location": "", "occupation": "nurse", "bio": "Walks.",
    "tastes": {"category": [{"value": "links", "weight": 1.0}], "tags": []},
    "dislikes": {"category": [], "tags": []},
    "price_sensitivity": 0.5, "novelty_seeking": 0.5, "boredom_rate": 0.5, "patience": 0.5,
    "purchase_propensity": 0.5, "chattiness": 0.5,
    "intents": [{"at_turn": 2, "says": "Links or heathland only.",
                 "constraint": {"field": "category", "op": "in", "values": ["links"]}}],
}  # fmt: skip


def test_the_answer_becomes_the_yaml_form():
    data, problems = persona_data(ANSWER, "golf-ann-lee", "golf")
    assert problems == []
    assert data["identity"] == {"name": "Ann Lee", "age": 40, "occupation": "nurse"}
    assert data["tastes"] == {"category": {"links": 1.0}} and data["dislikes"] == {}
    assert data["intents"][0]["constraint"] == {"field": "category", "op": "in", "value": ["links"]}
    persona = read_persona(ANSWER, "golf-ann-lee", "golf", small_catalog())
    assert persona.intents[0].constraint.value == ("links",)


def test_every_part_is_checked_apart_so_every_problem_is_named():
    bad = {
        **ANSWER,
        "age": 300,
        "boredom_rate": -1,
        "tastes": {"tags": [{"value": "x", "weight": 1}]},
    }
    with pytest.raises(InvalidAnswer) as caught:
        read_persona(bad, "golf-ann-lee", "golf", small_catalog())
    problems = caught.value.problems
    assert len(problems) == 3
    assert "field 'identity.age'" in problems[0]
    assert "'x' is not a tags in the catalog" in problems[1]
    assert "field 'boredom_rate'" in problems[2]
