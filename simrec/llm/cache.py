"""A response cache in one sqlite file, so LLM runs can be recorded once and replayed exactly.

Modes:

* ``off``: every request goes to the API; nothing is stored.
* ``record``: read-write. A hit is replayed, a miss is sent to the API and stored.
  Transient failures are stored too (so a replay reproduces the fallback they caused)
  but a recorded failure is retried, not replayed, the next time you record.
* ``replay``: read-only, no API client at all. A miss raises
  :class:`~simrec.errors.CacheMissError`: the run has diverged from the recording, which
  is exactly what a CI regression test wants to hear.

The key is a SHA-256 of the canonical JSON of the full request body as sent (model,
system, messages, tools or output format, thinking, max tokens), the prompt template's
version and the request's *sample*: where it sits in the run (session, turn, attempt;
see :mod:`simrec.llm.request`). The sample never comes from process state, so a
recording replays the same whatever the number of workers, lanes or shards, and two
identical requests at different places of a run keep their own answers. Only the
request body and the response body are stored: never a header, never the API key
(:func:`compact`, ``simrec cache compact``, drops the request bodies of a recording
before it is committed: replay reads only keys and responses). The file uses WAL journaling, so concurrent
workers can write while others read; :meth:`ResponseCache.close` checkpoints the WAL back
into the one ``.sqlite`` file you can commit beside a scenario.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from simrec.errors import CacheMissError, ConfigError

CacheMode = Literal["off", "record", "replay"]
MODES: tuple[str, ...] = ("off", "record", "replay")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    sample TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT,
    error TEXT,
    latency_ms REAL NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: equal requests give equal text, hence equal keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(
    request: Mapping[str, Any], prompt: str, sample: Any, body: str | None = None
) -> str:
    """The cache key of ``request`` under prompt ``name@version`` at position ``sample``.

    ``body``: ``canonical_json(request)`` if the caller has it (it is also what is sent),
    so a request is serialised once per call. The key is the same either way.
    """
    if body is None:
        body = canonical_json(request)
    # canonical_json({"prompt": ..., "request": ..., "sample": ...}), keys in sorted order
    payload = (
        f'{{"prompt":{canonical_json(prompt)},"request":{body},"sample":{canonical_json(sample)}}}'
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedCall:
    """One stored outcome: the response body, or the error that ended the call.

    Attributes:
        response: the API's JSON answer, or ``None`` when the call failed.
        error: ``{"kind": ..., "message": ..., "status": ...}`` of a failed call, else ``None``.
        latency_ms: wall time of the original call (replayed into the event log).
    """

    response: dict[str, Any] | None
    error: dict[str, Any] | None
    latency_ms: float


class ResponseCache:
    """The sqlite response store behind the ``off`` / ``record`` / ``replay`` modes.

    Args:
        path: the cache file (created in ``record`` mode); ignored when ``mode='off'``.
        mode: ``off``, ``record`` or ``replay``.

    Raises:
        ConfigError: unknown mode, no path, or (replay) a file that does not exist.
    """

    def __init__(self, path: str | Path | None, mode: str = "off") -> None:
        if mode not in MODES:
            raise ConfigError(f"cache: expected one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if mode == "off":
            return
        if self.path is None:
            raise ConfigError(f"cache={mode!r} needs cache_path (the .sqlite file to {mode} to)")
        if mode == "replay" and not self.path.is_file():
            raise ConfigError(
                f"cache_path {str(self.path)!r} does not exist; record it first with cache='record'"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if mode == "record":
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except sqlite3.DatabaseError as exc:  # e.g. "file is not a database"
            self._db.close()
            self._db = None
            raise ConfigError(
                f"cache_path {str(self.path)!r}: expected a simrec response cache (an SQLite "
                f"file written with cache='record'), but it cannot be used as one: {exc}"
            ) from None

    @property
    def enabled(self) -> bool:
        """Whether lookups can hit (``record`` or ``replay``)."""
        return self._db is not None

    def get(self, key: str) -> CachedCall | None:
        """The stored outcome for ``key``, or ``None``."""
        if self._db is None:
            return None
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT response, error, latency_ms FROM responses WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.OperationalError as exc:
                raise ConfigError(
                    f"cache file {str(self.path)!r} is not a simrec response cache: {exc}"
                ) from None
        if row is None:
            return None
        response, error, latency = row
        return CachedCall(
            json.loads(response) if response else None,
            json.loads(error) if error else None,
            float(latency),
        )

    def miss(self, key: str, what: str, prompt: str, model: str) -> CacheMissError:
        """The error replay mode raises when ``key`` is not recorded (not raised here)."""
        return CacheMissError(
            f"replay cache miss in {str(self.path)!r}: no recorded response for {what} "
            f"(model {model}, prompt {prompt}, key {key[:12]}). The run has diverged from the "
            "recording (different seeds, policy, personas, model, prompt version or "
            "options); re-record it with cache='record' (--cache record), which calls the API."
        )

    def put(
        self,
        key: str,
        request: Mapping[str, Any],
        call: CachedCall,
        *,
        prompt: str,
        sample: Any,
        body: str | None = None,
    ) -> None:
        """Store ``call`` for ``key`` (record mode only; a no-op otherwise).

        ``body``: ``canonical_json(request)`` if the caller has it (it was sent), so the
        request is not serialised again. Committed at once, so a crash later in the run
        loses none of the calls made.
        """
        if self._db is None or self.mode != "record":
            return
        row = (
            key,
            str(request.get("model", "")),
            prompt,
            canonical_json(sample),
            body if body is not None else canonical_json(request),
            canonical_json(call.response) if call.response is not None else None,
            canonical_json(call.error) if call.error is not None else None,
            call.latency_ms,
            time.time(),
        )
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row
            )

    def __len__(self) -> int:
        if self._db is None:
            return 0
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close (idempotent)."""
        if self._db is None:
            return
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
                self._db = None


def compact(path: str | Path) -> tuple[int, int]:
    """Shrink a recording to what replay reads: drop every stored request body (kept only
    for inspection; a lookup needs the key) and vacuum the file, so a recording committed
    beside a scenario stays small. Returns the file's size in bytes before and after.

    Raises:
        ConfigError: ``path`` is missing or not a simrec response cache.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} does not exist")
    before = path.stat().st_size
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("UPDATE responses SET request = ''")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{str(path)!r} is not a simrec response cache: {exc}") from None
    finally:
        db.close()
    return before, path.stat().st_size
