"""Authored personas' file names: ids from names, never clashing, never overwriting."""

from __future__ import annotations

from pathlib import Path

from simrec.authoring.files import slug, taken_ids, unique_ids


def test_slugs_are_plain_ascii():
    assert slug("Éléonore O'Brien") == "eleonore-o-brien"
    assert slug("  ") == "persona"


def test_taken_ids_are_stems_and_ids_of_yaml_files(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("id: golf-b\n", encoding="utf-8")
    (tmp_path / "broken.yml").write_text("[", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("id: x", encoding="utf-8")
    assert taken_ids(tmp_path) == {"a", "golf-b", "broken"}
    assert taken_ids(tmp_path / "missing") == set()


def test_unique_ids_suffix_clashes_in_order():
    assert unique_ids(["a", "a", "b", "a-2"], {"b"}) == ["a", "a-2", "b-2", "a-2-2"]
