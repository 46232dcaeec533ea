"""Catalogs: the table schema, saving and loading every format, errors users see, constraints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simrec.catalog import Catalog, load_catalog
from simrec.constraints import Constraint
from simrec.errors import CatalogError, PersonaError, SimrecError

FORMATS = (".csv", ".parquet", ".jsonl", ".yaml")
HEADER = "item_id,title,category,price,tags,holes,region\n"


def shop() -> Catalog:
    """Six golf-like items, small enough that every mask below can be checked by eye."""
    return Catalog(
        item_ids=["c1", "c2", "c3", "c4", "c5", "c6"],
        titles=["Old Links", "Short Nine", "Family Park", "Free Desert", "Twin Park", "Royal"],
        categories=["links", "links", "parkland", "desert", "parkland", "links"],
        prices=[40.0, 120.0, 75.5, 0.0, 60.0, 250.0],
        tags=[
            ("walkable", "scenic"),
            (),
            ("family-friendly",),
            ("scenic",),
            ("walkable", "family-friendly"),
            ("historic",),
        ],
        popularity=[5.0, 1.0, 2.0, 0.5, 3.0, 8.0],
        attributes={
            "holes": [18, 9, 18, 9, 18, 18],
            "region": ["scotland", "ireland", "texas", "arizona", "texas", "scotland"],
        },
        domain="test",
    )


def awkward() -> Catalog:
    """Values that trip naive readers: numeric-looking and NA-looking text, exact floats."""
    return Catalog(
        item_ids=["007", "NA", "1e3", "x,1"],
        titles=["1984", "None", 'Say "hi", then leave', "Ünïcode ✓"],
        categories=["a", "b", "a", "true"],
        prices=[0.1 + 0.2, 1e-13, 3.0, 12345.678901234],
        tags=[(), ("é t", "b"), ("a",), ("yes", "no")],
        popularity=[1 / 3, 2.0, 1e-12, 0.0],
        descriptions=["", "two\nlines\r\n", "comma, and 'quote'", "tab\there\u2028next\x85line"],
        semantic_ids=["a/1", "b/x/y", "a/3", "true/4"],
        attributes={
            "weight": [1 / 3, 2 / 3, 1e-9, 7.0],
            "size": ["S", "null", "yes", "M"],
        },
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def catalog_error(path: Path) -> str:
    """Load ``path``, expecting a CatalogError that hides pandas/numpy/yaml internals."""
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert info.type is CatalogError
    assert isinstance(info.value, SimrecError)
    error = info.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return str(error)


# -- the table ---------------------------------------------------------------------------


def test_to_frame_follows_the_documented_schema() -> None:
    frame = shop().to_frame()
    assert list(frame.columns) == [
        "item_id",
        "title",
        "category",
        "price",
        "tags",
        "popularity",
        "description",
        "semantic_id",
        "holes",
        "region",
    ]
    assert frame["tags"][0] == ["walkable", "scenic"]
    assert frame["semantic_id"][0] == "links/c1"  # default: category/item_id
    assert frame["description"][0] == ""
    assert frame["holes"].dtype == np.float64


def test_numeric_and_categorical_attributes_are_told_apart() -> None:
    catalog = shop()
    assert set(catalog.numeric) == {"holes"}
    assert set(catalog.categorical) == {"region"}
    item = catalog.item(1)
    assert item.attributes == {"holes": 9.0, "region": "ireland"}
    assert item.tags == ()
    assert catalog.index_of["c5"] == 4
    assert catalog.category_names == ("desert", "links", "parkland")


def test_tokens_cover_categories_tags_and_categorical_attributes() -> None:
    catalog = shop()
    assert "category=links" in catalog.tokens
    assert "tags=family-friendly" in catalog.tokens
    assert "region=texas" in catalog.tokens
    assert not any(t.startswith("holes=") for t in catalog.tokens)
    row = catalog.token_matrix[4]
    on = {catalog.tokens[k] for k in np.flatnonzero(row)}
    assert on == {"category=parkland", "tags=walkable", "tags=family-friendly", "region=texas"}


def test_catalog_columns_are_read_only_copies() -> None:
    prices = np.array([1.0, 2.0])
    catalog = Catalog(["a", "b"], ["A", "B"], ["x", "y"], prices)
    prices[0] = 99.0  # the caller's array stays theirs
    assert catalog.prices[0] == 1.0
    with pytest.raises(ValueError):
        catalog.prices[1] = 0.0
    with pytest.raises(ValueError):
        catalog.item_ids[0] = "z"


def test_unknown_field_lists_the_fields() -> None:
    with pytest.raises(CatalogError) as info:
        shop().column("colour")
    assert str(info.value) == (
        "catalog has no field 'colour'; fields are: price, category, tags, popularity, "
        "holes, region"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"prices": [1.0, -2.0]}, "row 1, field 'price'"),
        ({"prices": [1.0, float("nan")]}, "row 1, field 'price'"),
        ({"popularity": [-1.0, 1.0]}, "row 0, field 'popularity'"),
        ({"item_ids": ["a", "a"]}, "row 1, field 'item_id': duplicate id 'a' (first at row 0)"),
        (
            {"semantic_ids": ["x/1", "x/1"]},
            "row 1, field 'semantic_id': duplicate semantic id 'x/1' (first at row 0)",
        ),
        ({"titles": ["A"]}, "column 'titles' has 1 entries, expected 2"),
        ({"attributes": {"price": [1, 2]}}, "attribute 'price' has the name of a built-in"),
        ({"item_ids": [], "titles": [], "categories": [], "prices": []}, "catalog has no items"),
    ],
)
def test_building_a_bad_catalog_in_code_fails_clearly(change: dict, expected: str) -> None:
    args = {"item_ids": ["a", "b"], "titles": ["A", "B"], "categories": ["x", "y"]}
    args |= {"prices": [1.0, 2.0], "source": "mine"} | change
    with pytest.raises(CatalogError) as info:
        Catalog(**args)
    assert str(info.value).startswith("mine: ")
    assert expected in str(info.value)


# -- save and load -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [*FORMATS, ".yml", ".ndjson"])
@pytest.mark.parametrize("make", [shop, awkward])
def test_save_then_load_gives_the_same_catalog(tmp_path: Path, suffix: str, make) -> None:
    catalog = make()
    path = catalog.save(tmp_path / f"catalog{suffix}")
    assert path == tmp_path / f"catalog{suffix}"
    loaded = load_catalog(path)
    pd.testing.assert_frame_equal(loaded.to_frame(), catalog.to_frame(), check_exact=True)
    assert loaded.tags == catalog.tags
    assert all(isinstance(t, tuple) for t in loaded.tags)
    assert set(loaded.numeric) == set(catalog.numeric)
    assert set(loaded.categorical) == set(catalog.categorical)
    assert loaded.tokens == catalog.tokens
    assert loaded.source == str(path)


def test_csv_reads_all_numeric_looking_attribute_columns_as_numeric(tmp_path: Path) -> None:
    """The one documented round-trip difference: CSV cells carry no type."""
    codes = Catalog(
        ["a", "b"], ["A", "B"], ["x", "x"], [1.0, 2.0], attributes={"code": ["01", "2"]}
    )
    from_csv = load_catalog(codes.save(tmp_path / "codes.csv"))
    assert from_csv.numeric["code"].tolist() == [1.0, 2.0]
    for suffix in (".parquet", ".jsonl", ".yaml"):
        kept = load_catalog(codes.save(tmp_path / f"codes{suffix}"))
        assert kept.categorical["code"].tolist() == ["01", "2"], suffix


def test_hand_written_csv_loads_with_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mine.csv",
        HEADER + "g1,Old Links,links,40,walkable|scenic,18,scotland\n"
        "g2,Short Nine,links,25.5,,9,ireland\n",
    )
    catalog = load_catalog(path, domain="golf")
    assert catalog.domain == "golf"
    assert list(catalog.item_ids) == ["g1", "g2"]
    assert catalog.tags == (("walkable", "scenic"), ())
    assert catalog.prices.tolist() == [40.0, 25.5]
    assert catalog.popularity.tolist() == [1.0, 1.0]
    assert list(catalog.semantic_ids) == ["links/g1", "links/g2"]
    assert catalog.numeric["holes"].tolist() == [18.0, 9.0]
    assert catalog.categorical["region"].tolist() == ["scotland", "ireland"]


def test_yaml_catalog_may_be_a_plain_list_and_name_its_domain(tmp_path: Path) -> None:
    listed = write(tmp_path / "list.yaml", "- {item_id: a, title: A, category: x, price: 1}\n")
    assert len(load_catalog(listed)) == 1
    named = write(
        tmp_path / "named.yaml",
        "domain: golf\nitems:\n  - {item_id: a, title: A, category: x, price: 1, tags: [p, q]}\n",
    )
    catalog = load_catalog(named)
    assert catalog.domain == "golf"
    assert catalog.tags == (("p", "q"),)


def test_save_rejects_an_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"catalog\.xlsx: unknown catalog format '\.xlsx'"):
        shop().save(tmp_path / "catalog.xlsx")


def test_csv_save_rejects_a_tag_containing_the_separator(tmp_path: Path) -> None:
    catalog = Catalog(["a"], ["A"], ["x"], [1.0], tags=[("rock|pop",)])
    with pytest.raises(CatalogError, match=r"row 0, field 'tags': tag 'rock\|pop'"):
        catalog.save(tmp_path / "tags.csv")
    assert load_catalog(catalog.save(tmp_path / "tags.jsonl")).tags == (("rock|pop",),)


# -- load errors: file, line or row, field ----------------------------------------------


def test_missing_required_column_names_column_and_file(tmp_path: Path) -> None:
    path = write(tmp_path / "nocat.csv", "item_id,title,price\na,A,1\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}: ")
    assert "missing required column 'category'" in message


def test_non_numeric_price_names_file_csv_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "prices.csv",
        HEADER + "a,A,links,10,,18,texas\nb,B,links,12,,18,texas\nc,C,links,cheap,,18,texas\n",
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 4 ")  # the header is line 1
    assert "field 'price'" in message
    assert "'cheap'" in message


def test_csv_line_numbers_count_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path / "gaps.csv",
        HEADER + "a,A,links,10,,18,texas\n\n"  # line 3 is blank
        'b,"Two\nLines",links,12,,18,texas\n'  # one item on lines 4-5
        "c,C,links,NaN,,18,texas\n",  # line 6
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 6 ")
    assert "field 'price'" in message and "'NaN'" in message


def test_windows_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "crlf.csv", "")
    csv_path.write_bytes(
        (HEADER + "a,A,links,10,,18,texas\nb,B,links,x,,18,texas\n").replace("\n", "\r\n").encode()
    )
    assert catalog_error(csv_path).startswith(f"{csv_path}: line 3 ")
    good = '{"item_id": "a", "title": "A", "category": "x", "price": 1}'
    jsonl_path = tmp_path / "crlf.jsonl"
    jsonl_path.write_bytes(f"{good}\r\n{good.replace('1}', '-1}')}\r\n".encode())
    assert catalog_error(jsonl_path).startswith(f"{jsonl_path}: line 2 ")


def test_negative_price_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "neg.csv", HEADER + "a,A,links,10,,18,texas\nb,B,links,-5,,18,texas\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 3 ")
    assert "field 'price': expected a non-negative number, got -5" in message


def test_duplicate_item_id_names_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.csv",
        HEADER + "a,A,links,10,,18,texas\nb,B,links,12,,18,texas\na,C,links,14,,18,texas\n",
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 4 ")
    assert "field 'item_id': duplicate id 'a' (first at line 2)" in message


def test_duplicate_semantic_id_names_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.csv",
        "item_id,title,category,price,semantic_id\n"
        "a,A,links,10,links/texas/0\nb,B,links,12,links/texas/1\nc,C,links,14,links/texas/0\n",
    )
    assert catalog_error(path) == (
        f"{path}: line 4 (item 2), field 'semantic_id': duplicate semantic id 'links/texas/0' "
        "(first at line 2); semantic ids name one item each"
    )


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("gap.csv", "item_id,title,category,price,popularity\n"
         "a,A,x,1,0.5\nb,B,x,1,\nc,C,x,1,0.001\n", "line 3 (item 1)"),
        ("gap.jsonl", '{"item_id": "a", "title": "A", "category": "x", "price": 1, '
         '"popularity": 0.5}\n{"item_id": "b", "title": "B", "category": "x", "price": 1}\n',
         "line 2 (item 1)"),
    ],
)  # fmt: skip
def test_a_gap_in_a_filled_popularity_column_names_the_row(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = write(tmp_path / name, text)
    assert catalog_error(path) == (
        f"{path}: {where}, field 'popularity': expected a non-negative number, got nothing "
        "(an optional column with values in some rows needs one in every row)"
    )


def test_a_wholly_empty_popularity_column_keeps_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path / "empty.csv", "item_id,title,category,price,popularity\na,A,x,1,\nb,B,x,2,\n"
    )
    assert load_catalog(path).popularity.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", [object, "string"])
def test_parquet_price_stored_as_text_names_the_first_bad_row(tmp_path: Path, dtype) -> None:
    frame = shop().to_frame()
    frame["price"] = pd.Series([f"{p:.2f}" for p in frame["price"]], dtype=dtype)
    frame.loc[2, "price"] = "abc"
    path = tmp_path / "text.parquet"
    frame.to_parquet(path, index=False)
    message = catalog_error(path)
    assert message.startswith(
        f"{path}: row 2, field 'price': expected a non-negative number, got 'abc' "
        "(the column is stored as text, dtype "
    )
    assert message.endswith("; store price as numbers)")


def test_duplicate_item_id_in_yaml_names_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.yaml",
        "- {item_id: a, title: A, category: x, price: 1}\n"
        "- {item_id: b, title: B, category: x, price: 1}\n"
        "- {item_id: a, title: C, category: x, price: 1}\n",
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 3 ")
    assert "duplicate id 'a' (first at line 1)" in message


def test_attribute_column_mixing_numbers_and_strings_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        HEADER + "a,A,links,10,,18,texas\nb,B,links,12,,eighteen,texas\n",
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 3 ")
    assert "field 'holes': expected a number like line 2's 18.0" in message
    assert "'eighteen'" in message


def test_attribute_column_mixing_numbers_and_strings_jsonl(tmp_path: Path) -> None:
    rows = [
        {"item_id": "a", "title": "A", "category": "x", "price": 1, "region": "texas"},
        {"item_id": "b", "title": "B", "category": "x", "price": 1, "region": 7},
    ]
    path = write(tmp_path / "mixed.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 2 ")
    assert "field 'region': expected a string like line 1's 'texas'" in message


def test_boolean_attribute_is_rejected_with_a_hint(tmp_path: Path) -> None:
    path = write(
        tmp_path / "flag.jsonl",
        '{"item_id": "a", "title": "A", "category": "x", "price": 1, "walkable": true}\n',
    )
    message = catalog_error(path)
    assert "line 1 (item 0), field 'walkable'" in message
    assert "boolean" in message


def test_attribute_gap_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "gap.csv", HEADER + "a,A,links,10,,18,texas\nb,B,links,12,,,texas\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 3 ")
    assert "field 'holes'" in message


@pytest.mark.parametrize("suffix", FORMATS)
def test_empty_file_is_named(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"empty{suffix}", "")
    message = catalog_error(path)
    assert message.startswith(f"{path}: file is empty")


@pytest.mark.parametrize(
    ("name", "text"),
    [("blank.csv", "\n\n"), ("comments.yaml", "# nothing yet\n")],
)
def test_file_with_nothing_in_it_is_empty(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path / name, text)
    assert catalog_error(path).startswith(f"{path}: file is empty")


@pytest.mark.parametrize(
    ("name", "text"),
    [("header.csv", HEADER), ("blank.jsonl", "\n  \n"), ("items.yaml", "items: []\n")],
)
def test_catalog_without_items_is_rejected(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path / name, text)
    assert catalog_error(path) == f"{path}: catalog has no items"


def test_unknown_file_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "catalog.xlsx", "item_id\n")
    message = catalog_error(path)
    assert message == (
        f"{path}: unknown catalog format '.xlsx'; expected .csv, .parquet, .jsonl or .yaml"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert catalog_error(path) == f"{path}: catalog file not found"


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    good = '{"item_id": "a", "title": "A", "category": "x", "price": 1}\n'
    path = write(tmp_path / "broken.jsonl", good + "\n" + '{"item_id": "b", "title": }\n')
    message = catalog_error(path)
    assert message.startswith(f"{path}:3: invalid JSON")


def test_jsonl_field_errors_count_blank_lines(tmp_path: Path) -> None:
    good = '{"item_id": "a", "title": "A", "category": "x", "price": 1}\n'
    bad = '{"item_id": "b", "title": "B", "category": "x", "price": "12"}\n'
    path = write(tmp_path / "gaps.jsonl", good + "\n\n" + bad)
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 4 ")
    assert "field 'price': expected a non-negative number, got '12'" in message


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", '["a", "A", "x", 1]\n')
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 1 ")
    assert "expected a mapping of fields" in message


def test_yaml_item_with_a_bad_field_names_the_field_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "shop.yaml",
        "items:\n"
        "  - item_id: a\n"
        "    title: A\n"
        "    category: links\n"
        "    price: 10\n"
        "  - item_id: b\n"
        "    title: B\n"
        "    category: links\n"
        "    price: cheap\n",  # line 9
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 9 (item 1), field 'price'")
    assert "'cheap'" in message


def test_yaml_item_missing_a_required_field_names_the_item_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "shop.yaml",
        "items:\n"
        "  - {item_id: a, title: A, category: links, price: 10}\n"
        "  - {item_id: b, category: links, price: 10}\n",
    )
    message = catalog_error(path)
    assert message.startswith(f"{path}: line 3 (item 1), field 'title'")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "items:\n  - {item_id: a, title: [unclosed\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}:")
    assert "invalid YAML" in message


def test_yaml_that_is_not_a_list_of_items(tmp_path: Path) -> None:
    path = write(tmp_path / "scalar.yaml", "just some words\n")
    assert "expected a list of items" in catalog_error(path)


def test_parquet_that_is_not_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.parquet", HEADER + "a,A,links,10,,18,texas\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}: not a readable parquet file")


def test_parquet_with_a_bad_value_names_row_and_field(tmp_path: Path) -> None:
    frame = shop().to_frame()
    frame.loc[2, "price"] = -1.0
    path = tmp_path / "neg.parquet"
    frame.to_parquet(path, index=False)
    assert catalog_error(path) == (
        f"{path}: row 2, field 'price': expected a non-negative number, got -1.0"
    )


def test_csv_row_with_too_many_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", HEADER + "a,A,links,10,,18,texas,oops\n")
    message = catalog_error(path)
    assert message.startswith(f"{path}:2: 8 cells but the header (line 1) names 7 columns")


def test_csv_header_naming_a_column_twice(tmp_path: Path) -> None:
    path = write(tmp_path / "twice.csv", "item_id,title,category,price,price\na,A,x,1,2\n")
    assert catalog_error(path) == f"{path}:1: column 'price' appears twice in the header"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".yaml"])
def test_file_that_is_not_utf8_text(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"binary{suffix}"
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    assert catalog_error(path).startswith(f"{path}: not a UTF-8 text file")


# -- constraints -------------------------------------------------------------------------


def matches(spec: dict) -> list[str]:
    """Ids of the :func:`shop` items a constraint given as a mapping matches."""
    catalog = shop()
    constraint = Constraint.from_dict(spec)
    constraint.check_against(catalog)
    mask = constraint.mask(catalog)
    assert mask.dtype == bool and mask.shape == (len(catalog),)
    assert not mask.flags.writeable
    return [str(i) for i in catalog.item_ids[mask]]


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("<", 60, ["c1", "c4"]),
        ("<=", 60, ["c1", "c4", "c5"]),
        (">", 75.5, ["c2", "c6"]),
        (">=", 75.5, ["c2", "c3", "c6"]),
        ("==", 0, ["c4"]),
        ("!=", 0, ["c1", "c2", "c3", "c5", "c6"]),
    ],
)
def test_numeric_ops_on_price(op: str, value: float, expected: list[str]) -> None:
    assert matches({"field": "price", "op": op, "value": value}) == expected


def test_numeric_op_on_a_numeric_attribute() -> None:
    assert matches({"field": "holes", "op": "==", "value": 9}) == ["c2", "c4"]
    assert matches({"field": "popularity", "op": ">=", "value": 5}) == ["c1", "c6"]


def test_in_and_not_in() -> None:
    assert matches({"field": "category", "op": "in", "value": ["desert", "parkland"]}) == [
        "c3",
        "c4",
        "c5",
    ]
    assert matches({"field": "region", "op": "not_in", "value": ["texas", "scotland"]}) == [
        "c2",
        "c4",
    ]


def test_equality_on_a_categorical_attribute() -> None:
    assert matches({"field": "region", "op": "==", "value": "scotland"}) == ["c1", "c6"]
    assert matches({"field": "category", "op": "!=", "value": "links"}) == ["c3", "c4", "c5"]


def test_tags_has_and_lacks() -> None:
    assert matches({"field": "tags", "op": "has", "value": "walkable"}) == ["c1", "c5"]
    assert matches({"field": "tags", "op": "lacks", "value": "scenic"}) == [
        "c2",
        "c3",
        "c5",
        "c6",
    ]


def test_all_is_a_conjunction() -> None:
    spec = {
        "all": [
            {"field": "tags", "op": "has", "value": "family-friendly"},
            {"field": "price", "op": "<", "value": 70},
            {"field": "holes", "op": "==", "value": 18},
        ]
    }
    assert matches(spec) == ["c5"]


def test_constraint_round_trips_through_its_dict_form() -> None:
    spec = {
        "all": [
            {"field": "category", "op": "in", "value": ["links", "desert"]},
            {"field": "price", "op": "<=", "value": 60.0},
        ]
    }
    constraint = Constraint.from_dict(spec)
    assert constraint.to_dict() == spec
    assert Constraint.from_dict(constraint.to_dict()) == constraint
    assert constraint.describe() == "category in links, desert and price <= 60.0"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"field": "price", "op": "like", "value": 3},
            "field 'op': expected one of <, <=, >, >=, ==, !=, in, not_in, has, lacks, got 'like'",
        ),
        (
            {"field": "price", "op": "has", "value": "cheap"},
            "field 'op': op 'has' applies to field 'tags' only, not 'price'",
        ),
        (
            {"field": "category", "op": "in", "value": "links"},
            "field 'value': expected a non-empty list of strings for op 'in', got 'links'",
        ),
        (
            {"field": "category", "op": "in", "value": []},
            "field 'value': expected a non-empty list of strings for op 'in', got []",
        ),
        (
            {"field": "price", "op": "<=", "valu": 60},
            "field 'valu': unknown field; expected one of: field, op, value",
        ),
        (
            {"field": "tags", "op": "==", "value": "scenic"},
            "field 'op': field 'tags' takes op 'has' or 'lacks', got '=='",
        ),
        (
            {"field": "price", "op": "<=", "value": "sixty"},
            "field 'value': expected a number, got 'sixty'",
        ),
        ({"all": []}, "field 'all': expected at least one constraint"),
        (
            {"all": [{"field": "price", "op": "<", "value": 1}], "field": "price"},
            "field 'field': unknown field; expected one of: all",
        ),
        (
            {"all": [{"field": "price", "op": "<", "value": 1}, {"field": "x", "op": "?"}]},
            "field 'all[1].op': expected one of",
        ),
    ],
)
def test_from_dict_rejects_malformed_constraints(spec: dict, expected: str) -> None:
    with pytest.raises(PersonaError) as info:
        Constraint.from_dict(spec, source="persona.yaml")
    assert isinstance(info.value, SimrecError)
    assert str(info.value).startswith("persona.yaml: ")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"field": "region", "op": "<", "value": 3},
            "field 'region' is categorical in this catalog; op '<' with value 3.0 does not apply",
        ),
        (
            {"field": "holes", "op": "in", "value": ["9"]},
            "field 'holes' is numeric in this catalog; op 'in'",
        ),
        (
            {"field": "holes", "op": "==", "value": "nine"},
            "field 'holes' is numeric in this catalog",
        ),
        (
            {"field": "colour", "op": "==", "value": "red"},
            "catalog has no field 'colour'; fields are: price, category, tags, popularity, "
            "holes, region",
        ),
    ],
)
def test_check_against_rejects_fields_and_ops_the_catalog_cannot_answer(
    spec: dict, expected: str
) -> None:
    with pytest.raises(SimrecError) as info:
        Constraint.from_dict(spec).check_against(shop())
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("spec", "unknown", "known"),
    [
        (
            {"field": "tags", "op": "has", "value": "famly-friendly"},
            "'famly-friendly' is not a tag in the catalog",
            "known: family-friendly, historic, scenic, walkable",
        ),
        (
            {"field": "tags", "op": "lacks", "value": "windy"},
            "'windy' is not a tag in the catalog",
            "known: family-friendly, historic, scenic, walkable",
        ),
        (
            {"field": "category", "op": "in", "value": ["links", "linkz"]},
            "'linkz' is not a category value in the catalog",
            "known: desert, links, parkland",
        ),
        (
            {"field": "region", "op": "not_in", "value": ["mars"]},
            "'mars' is not a region value in the catalog",
            "known: arizona, ireland, scotland, texas",
        ),
        (
            {"field": "region", "op": "==", "value": "Texas"},
            "'Texas' is not a region value in the catalog",
            "known: arizona, ireland, scotland, texas",
        ),
        (
            {
                "all": [
                    {"field": "price", "op": "<", "value": 9},
                    {"field": "tags", "op": "has", "value": "wet"},
                ]
            },
            "'wet' is not a tag in the catalog",
            "known: family-friendly",
        ),
    ],
)
def test_check_against_rejects_values_the_catalog_does_not_have(
    spec: dict, unknown: str, known: str
) -> None:
    """Such a constraint would silently match nothing (or, for lacks/not_in, ignore the value)."""
    with pytest.raises(SimrecError) as info:
        Constraint.from_dict(spec).check_against(shop())
    assert unknown in str(info.value)
    assert known in str(info.value)


def test_check_against_rejects_constraints_built_in_code_with_bad_ops() -> None:
    with pytest.raises(SimrecError, match="unknown op 'like'"):
        Constraint(field="price", op="like", value=1).check_against(shop())
    with pytest.raises(SimrecError, match="field 'tags' takes op 'has' or 'lacks'"):
        Constraint(field="tags", op="<", value=1).check_against(shop())


def test_check_against_accepts_constraints_that_apply() -> None:
    catalog = shop()
    for spec in (
        {"field": "price", "op": "<=", "value": 1000},  # numeric thresholds need not be values
        {"field": "tags", "op": "lacks", "value": "historic"},
        {"field": "category", "op": "not_in", "value": ["links"]},
        {"field": "region", "op": "!=", "value": "texas"},
    ):
        Constraint.from_dict(spec).check_against(catalog)


def test_an_id_with_surrounding_whitespace_is_refused_not_a_second_item(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("item_id,title,category,price\ni1,A,x,1\ni1 ,B,x,2\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == (
        f"{path}: line 3 (item 1), field 'item_id': expected no leading or trailing "
        "whitespace, got 'i1 '"
    )
    path.write_text("item_id,title,category,price\ni1,A,links ,1\n")
    with pytest.raises(CatalogError, match="field 'category': expected no leading or trailing"):
        load_catalog(path)


# -- latent embeddings (grounded catalogs) ----------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".yaml"])
def test_embeddings_round_trip_exactly_in_every_format(tmp_path, suffix):
    from tests.conftest import grounded_catalog

    catalog = grounded_catalog(n=12, d=3)
    back = load_catalog(catalog.save(tmp_path / f"c{suffix}"))
    assert back.embedding_dim == 3
    np.testing.assert_array_equal(back.embeddings, catalog.embeddings)
    assert not back.embeddings.flags.writeable
    assert back.features.shape == catalog.features.shape  # embeddings stay out of features


def test_a_catalog_without_embeddings_has_none(tmp_path):
    from tests.conftest import small_catalog

    catalog = small_catalog(6)
    assert catalog.embeddings is None and catalog.embedding_dim is None
    assert "embedding" not in load_catalog(catalog.save(tmp_path / "c.parquet")).to_frame()


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["1|2", "1|x"], "line 3 (item 1), field 'embedding': expected a list of numbers"),
        (["1|2", "1"], "line 3 (item 1), field 'embedding': expected 2 numbers like line 2, got 1"),
        (
            ["1|2", ""],
            "line 3 (item 1), field 'embedding': expected a list of numbers (0.5|-1.2 in CSV), got nothing",
        ),
        (["1|2", "1|inf"], "field 'embedding'"),
    ],
)
def test_bad_embeddings_name_the_file_line_and_field(tmp_path, cells, message):
    path = tmp_path / "bad.csv"
    rows = "".join(f"i{k},T{k},c,1,{cell}\n" for k, cell in enumerate(cells))
    path.write_text("item_id,title,category,price,embedding\n" + rows)
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_embeddings_in_jsonl_must_be_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = '{"item_id": "a", "title": "A", "category": "c", "price": 1, "embedding": [1, 2]}'
    bad = '{"item_id": "b", "title": "B", "category": "c", "price": 1, "embedding": [1, "2"]}'
    path.write_text(good + "\n" + bad + "\n")
    with pytest.raises(CatalogError, match=r"bad.jsonl: line 2 \(item 1\), field 'embedding'"):
        load_catalog(path)
