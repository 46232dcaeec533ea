"""The dataset report: summary figures, the four charts and the manifest of a generated
dataset, read through its checksums."""

from __future__ import annotations

import re

import pytest

import simrec
from simrec.errors import DatasetError
from simrec.report.dataset import render_dataset
from tests.report_support import write_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("data") / "golf-run")


def test_the_page_shows_the_summary_charts_and_manifest(dataset):
    html = render_dataset(dataset)
    ds = simrec.load_dataset(dataset)
    titles = re.findall(r"<figcaption><h3>([^<]*)</h3>", html)
    assert titles == [
        "Visit length",
        "Item popularity: the long tail",
        "CTR and purchases by slot position",
        "Over the visit",
    ]
    sessions = ds.sessions
    assert f"{len(sessions):,} visits" in html
    assert f"<td>{sessions['turns'].mean():.2f}</td>" in html
    manifest = ds.manifest
    assert manifest["config_hash"] in html and f"<td>{manifest['seed']}</td>" in html
    assert "<th>brain</th><td>utility</td>" in html
    for table, rows in manifest["rows"].items():
        assert f'<td>{table}</td><td class="num">{rows:,}</td>' in html


def test_the_long_tail_caption_counts_what_was_shown(dataset):
    ds = simrec.load_dataset(dataset)
    shown = ds.interactions[ds.interactions["item_index"] >= 0]
    never = len(ds.items) - shown["item_index"].nunique()
    html = render_dataset(dataset)
    assert f"{never:,} items were never shown" in html


def test_a_changed_file_is_refused_with_its_name(dataset, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    part = next((copy / "turns").iterdir())
    part.write_text(part.read_text().replace("True", "False", 1))
    with pytest.raises(DatasetError, match=f"turns/{part.name}"):
        render_dataset(copy)
