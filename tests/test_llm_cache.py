"""The sqlite response cache: modes, stored content, errors users see."""

from __future__ import annotations

import sqlite3

import pytest

from simrec.errors import ConfigError
from simrec.llm.cache import CachedCall, ResponseCache, request_key

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_record_stores_body_only_and_replay_reads_it(tmp_path):
    path = tmp_path / "c.sqlite"
    key = request_key(REQUEST, "p@1", 0)
    cache = ResponseCache(path, "record")
    cache.put(key, REQUEST, CachedCall({"content": []}, None, 12.5), prompt="p@1", sample=0)
    assert len(cache) == 1
    cache.close()
    assert [p.name for p in tmp_path.iterdir()] == ["c.sqlite"]  # WAL checkpointed on close
    replay = ResponseCache(path, "replay")
    assert replay.get(key) == CachedCall({"content": []}, None, 12.5)
    assert replay.get(request_key(REQUEST, "p@2", 0)) is None
    replay.put("other", REQUEST, CachedCall({}, None, 1.0), prompt="p@1", sample=0)  # read-only
    assert len(replay) == 1
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(responses)")]
    assert "headers" not in columns and "api_key" not in columns


def test_keys_are_canonical():
    a = {"model": "m", "messages": []}
    b = {"messages": [], "model": "m"}
    assert request_key(a, "p@1", 0) == request_key(b, "p@1", 0)


def test_errors_name_the_mode_and_file(tmp_path):
    with pytest.raises(ConfigError, match="cache: expected one of off, record, replay"):
        ResponseCache(None, "write")
    with pytest.raises(ConfigError, match="cache='record' needs cache_path"):
        ResponseCache(None, "record")
    with pytest.raises(ConfigError, match="does not exist; record it first"):
        ResponseCache(tmp_path / "none.sqlite", "replay")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(ConfigError, match="is not a simrec response cache"):
        ResponseCache(other, "replay").get("k")


def test_off_mode_stores_nothing(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", "off")
    cache.put("k", REQUEST, CachedCall({}, None, 1.0), prompt="p@1", sample=0)
    assert cache.get("k") is None and not cache.enabled and not any(tmp_path.iterdir())


def test_a_compacted_recording_replays_the_same_answers_from_a_smaller_file(tmp_path, capsys):
    from simrec.cli import main
    from simrec.llm.cache import compact

    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path, "record")
    big = {"model": "m", "messages": [{"role": "user", "content": "x" * 4000}]}
    keys = []
    for i in range(50):
        keys.append(request_key(big, "p@1", i))
        cache.put(keys[-1], big, CachedCall({"n": i}, None, 3.0), prompt="p@1", sample=i)
    cache.close()
    before, after = compact(path)
    assert after < before / 5
    replay = ResponseCache(path, "replay")
    assert [replay.get(k) for k in keys] == [CachedCall({"n": i}, None, 3.0) for i in range(50)]
    replay.close()
    assert sqlite3.connect(path).execute("SELECT DISTINCT request FROM responses").fetchall() == [
        ("",)
    ]
    assert main(["cache", "compact", str(path)]) == 0
    assert f"{path}: " in capsys.readouterr().out
    with pytest.raises(ConfigError, match="does not exist"):
        compact(tmp_path / "none.sqlite")
    (tmp_path / "not.sqlite").write_text("hello")
    assert main(["cache", "compact", str(tmp_path / "not.sqlite")]) == 2
    assert "is not a simrec response cache" in capsys.readouterr().err
