"""Re-make ``llm_check.sqlite``: the scenario's LLM-played visits, answered by simrec's fake
Messages API with its scripted user (not a language model), recorded through the real SDK.

    python examples/llm_check/record.py

To record a real model instead, see the comment at the top of ``llm_check.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from simrec.cli import main
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.llm.scripted_user import scripted_messages

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    recording = HERE / "llm_check.sqlite"
    recording.unlink(missing_ok=True)
    os.environ.setdefault("ANTHROPIC_API_KEY", "fake-key-for-the-loopback-server")
    os.environ["SIMREC_CACHE_MODE"] = "record"  # the scenario's cache: record, not replay
    with FakeMessagesAPI(default=scripted_messages()) as api:
        code = main(
            ["calibrate", "compare", str(HERE / "llm_check.yaml"), "--brains", "utility,anthropic",
             "--cache", "record", "--cache-path", str(recording), "--base-url", api.url,
             "--out", str(HERE / "results"), "--quiet"]
        )  # fmt: skip
    raise SystemExit(code)
