"""Message Batches mode: every turn of many sessions as one batch request (half price).

With ``generate(..., batch=True)`` (``simrec generate --batch``) the brain's calls of one
step — one per session in flight — go out as a single Message Batches API request
instead of concurrent Messages calls: half the price, hours instead of seconds.

The LLM brain supplies three methods (:class:`BatchCapable`): its SDK client, a
:class:`BatchJob` per step (the Messages API ``params`` to send, or none when the brain
can answer without a call, e.g. from its response cache), and the reaction built from a
batch item's result (succeeded, or errored / expired / canceled: the brain's declared
fallback applies). :class:`BatchBrain` does the rest:

* each request gets a ``custom_id`` derived from its content, so results — which come
  back in any order — are matched by id, and a re-run produces the same ids;
* the batch id is written to a small ledger file (atomically) before polling starts, so a
  run killed mid-batch and resumed picks the same batch up again instead of paying twice
  (the resumed shard replays earlier turns from their ended batches, whose results stay
  retrievable);
* items that failed are resubmitted up to ``max_retries`` times; what still fails is
  handed to the brain's fallback and counted as ``invalid_response``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from simrec.datagen.store import read_json, write_json
from simrec.reaction import Reaction
from simrec.session import Session


@dataclass(frozen=True)
class BatchJob:
    """One step of one session in batch mode.

    Attributes:
        params: the Messages API ``params`` to submit, or ``None`` when the step needs no
            call (the brain answers it itself, e.g. from its response cache).
        context: the brain's own bookkeeping, handed back to ``batch_reaction``.
    """

    params: dict[str, Any] | None
    context: Any = None


@runtime_checkable
class BatchCapable(Protocol):
    """What an LLM brain provides to run in batch mode."""

    name: str

    def batch_client(self) -> Any:
        """An ``anthropic.Anthropic`` client (``client.messages.batches`` is used), or
        ``None`` when every step will be answered without a call (replay)."""
        ...

    def batch_request(
        self, session: Session, slate: Sequence[int], message: str | None
    ) -> BatchJob:
        """The job of this step: what to submit (model, system, messages, tools …) if anything."""
        ...

    def batch_reaction(
        self,
        session: Session,
        slate: Sequence[int],
        rng: np.random.Generator,
        job: BatchJob,
        result: Any,
    ) -> Reaction:
        """The reaction for a batch item's ``result`` (``result.type``: succeeded, errored …;
        ``None`` for a job with no ``params``)."""
        ...


def custom_ids(requests: Sequence[dict]) -> list[str]:
    """Content-derived ids (``^[A-Za-z0-9_-]{1,64}$``), unique within the list."""
    seen: dict[str, int] = {}
    out = []
    for params in requests:
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:40]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        out.append(f"r{digest}-{n}")
    return out


class BatchBrain:
    """Runs a :class:`BatchCapable` brain through the Message Batches API.

    Args:
        inner: the LLM brain.
        ledger: JSON file recording submitted batches (survives restarts).
        poll_interval: seconds between status checks.
        max_retries: resubmissions of failed items before the brain's fallback applies.
        on_submitted: called with each new batch id (after the ledger is written).
    """

    def __init__(
        self,
        inner: BatchCapable,
        ledger: Path,
        poll_interval: float = 10.0,
        max_retries: int = 2,
        on_submitted: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.deterministic = getattr(inner, "deterministic", False)
        self.ledger = Path(ledger)
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.on_submitted = on_submitted
        self.client = inner.batch_client()
        self._batches: dict[str, str] = read_json(self.ledger) if self.ledger.exists() else {}

    def __getattr__(self, name: str) -> Any:  # model, config, template … of the LLM brain
        return getattr(self.inner, name)

    def react(
        self,
        sessions: Sequence[Session],
        slates: Sequence[Sequence[int]],
        messages: Sequence[str | None],
        rngs: Sequence[np.random.Generator],
    ) -> list[Reaction]:
        """One Message Batch for all ``sessions``; reactions in the order of ``sessions``.

        Steps whose job has no ``params`` are not submitted (no batch at all if none has).
        """
        jobs = [
            self.inner.batch_request(s, slate, m)
            for s, slate, m in zip(sessions, slates, messages, strict=True)
        ]
        sent = [job for job in jobs if job.params is not None]
        ids = dict(zip(map(id, sent), custom_ids([job.params for job in sent]), strict=True))
        pending = {ids[id(job)]: job.params for job in sent}
        results = self._results(pending) if pending else {}
        return [
            self.inner.batch_reaction(s, slate, rng, job, results.get(ids.get(id(job))))
            for s, slate, rng, job in zip(sessions, slates, rngs, jobs, strict=True)
        ]

    def _results(self, pending: dict[str, dict]) -> dict[str, Any]:
        """Results by custom id, resubmitting failed items up to ``max_retries`` times."""
        results: dict[str, Any] = {}
        for attempt in range(self.max_retries + 1):
            batch = self._batch_id(pending, attempt)
            got = self._collect(batch, set(pending))
            results.update(got)
            pending = {c: p for c, p in pending.items() if got[c].type != "succeeded"}
            if not pending:
                break
        return results

    def _batch_id(self, requests: dict[str, dict], attempt: int) -> str:
        key = hashlib.sha256(("\n".join(sorted(requests)) + f"#{attempt}").encode()).hexdigest()
        if key not in self._batches:
            batch = self.client.messages.batches.create(
                requests=[{"custom_id": c, "params": p} for c, p in requests.items()]
            )
            self._batches[key] = batch.id
            write_json(self.ledger, self._batches)
            if self.on_submitted is not None:
                self.on_submitted(batch.id)
        return self._batches[key]

    def _collect(self, batch_id: str, wanted: set[str]) -> dict[str, Any]:
        batches = self.client.messages.batches
        while batches.retrieve(batch_id).processing_status != "ended":
            time.sleep(self.poll_interval)
        got = {item.custom_id: item.result for item in batches.results(batch_id)}
        missing = wanted - set(got)
        if missing:
            raise RuntimeError(
                f"message batch {batch_id}: no result for {len(missing)} request(s), "
                f"e.g. {sorted(missing)[0]}"
            )
        return {c: got[c] for c in wanted}
