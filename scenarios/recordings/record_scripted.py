"""Re-record a scenario's LLM calls with the scripted model on the loopback fake API.

Run: ``python scenarios/recordings/record_scripted.py [scenarios/llm_recommenders.yaml ...]``

For each scenario: starts :class:`~simrec.llm.fake_server.FakeMessagesAPI` on 127.0.0.1
answering the LLM policies' prompts with :mod:`simrec.policies.llm_scripted` (and the
LLM users', if any, with the fake's default reaction), deletes the scenario's recording
(its ``cache:`` file), runs the scenario with ``SIMREC_CACHE_MODE=record`` (no key
needed, no network), checks the recording replays with no call, and compacts it
(``simrec cache compact``: what replay reads, small enough to commit).

To record with a real model instead, see docs/scenarios.md ("llm_recommenders.yaml").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from simrec.llm.cache import compact
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.policies.llm_scripted import scripted_messages
from simrec.scenario import load_scenario
from simrec.scenario_run import run_scenario

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent / "llm_recommenders.yaml"


def recording_of(path: Path) -> Path:
    """The recording a scenario replays (its policies' ``cache_path``)."""
    scenario = load_scenario(path)
    paths = {
        spec.params["cache_path"]
        for spec in scenario.policies.values()
        if "cache_path" in spec.params
    }
    if len(paths) != 1:
        raise SystemExit(f"{path}: expected one recording (a 'cache:' field), found {paths}")
    return Path(paths.pop())


def record(path: Path) -> None:
    """Record ``path``'s LLM calls afresh, check the replay, compact the file."""
    recording = recording_of(path)
    recording.unlink(missing_ok=True)
    saved = {k: os.environ.get(k) for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
    with FakeMessagesAPI(default=scripted_messages()) as api:
        os.environ.update(
            ANTHROPIC_API_KEY="scripted", ANTHROPIC_BASE_URL=api.url, SIMREC_CACHE_MODE="record"
        )
        try:
            recorded = run_scenario(load_scenario(path))
        finally:
            del os.environ["SIMREC_CACHE_MODE"]
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        calls = api.calls
    replayed = run_scenario(load_scenario(path))  # replay: a miss would raise here
    same = json.dumps(replayed.per_seed, sort_keys=True) == json.dumps(
        recorded.per_seed, sort_keys=True
    )
    assert same, f"{path}: the replay differs from the recorded run"
    before, after = compact(recording)
    print(
        f"{path.name}: {calls} calls recorded to {recording} ({before:,} -> {after:,} bytes); "
        f"{len(recorded.outcomes) - len(recorded.failures)} of {len(recorded.outcomes)} "
        "assertions hold"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=[DEFAULT])
    for path in parser.parse_args().scenarios:
        record(path)


if __name__ == "__main__":
    sys.exit(main())
