"""The catalog's vocabulary as a persona answer schema: only the catalog's values, inside
the JSON-schema subset every provider's strict mode accepts."""

from __future__ import annotations

from llm_support import small_catalog

from simrec.authoring import Vocabulary
from simrec.catalog import Catalog


def walk(schema):
    yield schema
    for value in schema.values():
        if isinstance(value, dict):
            yield from walk(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from walk(item)


def test_values_come_from_the_catalog_and_numbers_say_their_range():
    v = Vocabulary.of(small_catalog())
    assert v.categorical == {
        "category": ("links", "parkland"),
        "tags": ("lively-clubhouse", "walkable"),
    }
    assert v.numeric == {"price": (20.0, 55.0, 90.0), "holes": (9.0, 13.5, 18.0)}
    text = v.describe()
    assert "- tags: lively-clubhouse, walkable" in text
    assert "- price (a number): from 20 to 90, typically 55" in text


def test_the_schema_is_strict_and_portable():
    schema = Vocabulary.of(small_catalog()).schema("write_persona", "d", {"bio": "who"}).schema
    nodes = list(walk(schema))
    for node in nodes:
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
        assert not {"minimum", "maximum", "minLength", "maxItems"} & set(node)
    assert sum("anyOf" in node for node in nodes) == 1
    assert schema["properties"]["bio"]["description"] == "who"
    kinds = schema["properties"]["intents"]["items"]["properties"]["constraint"]["anyOf"]
    assert [k["properties"]["field"]["enum"] for k in kinds] == [
        ["price", "holes"],
        ["tags"],
        ["category"],
    ]


def test_a_catalog_without_tags_or_attributes_still_has_a_schema():
    bare = Catalog(["a", "b"], ["A", "B"], ["x", "y"], [1.0, 2.0])
    schema = Vocabulary.of(bare).schema("w", "d", {}).schema
    assert list(schema["properties"]["tastes"]["properties"]) == ["category"]
    kinds = schema["properties"]["intents"]["items"]["properties"]["constraint"]["anyOf"]
    assert [k["properties"]["field"]["enum"] for k in kinds] == [["price"], ["category"]]
