"""Batch mode through the real anthropic SDK against a fake Message Batches API on 127.0.0.1.

The fake server returns results in shuffled order, fails some items (once, or always),
and ends a batch only after a few status checks, like the real service.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from simrec.brains import UtilityBrain, register_brain
from simrec.datagen import generate
from simrec.datagen.batches import BatchBrain

anthropic = pytest.importorskip("anthropic")

STAMP = "2026-11-22T00:00:00Z"


class FakeBatches:
    """State of the fake API: submitted batches, and which requests should fail."""

    def __init__(self) -> None:
        self.batches: dict[str, dict] = {}
        self.created = 0
        self.fail: str | None = None  # "once" or "always": the first request ever answered
        self.victim: str | None = None
        self.failures = 0
        self.rng = random.Random(0)
        self.lock = threading.Lock()

    def answer(self, request: dict) -> dict:
        params = request["params"]
        step = json.loads(params["messages"][0]["content"])
        if self.fail is not None and self.victim is None:
            self.victim = step["key"]
        if step["key"] == self.victim and (self.fail == "always" or self.failures == 0):
            self.failures += 1
            return {
                "type": "errored",
                "error": {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                },
            }
        click = step["turn"] % len(step["slate"])  # a checkable, made-up decision
        message = {
            "id": f"msg_{request['custom_id']}",
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": [{"type": "text", "text": json.dumps({"click": click})}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 12},
        }
        return {"type": "succeeded", "message": message}


def batch_object(batch_id: str, status: str, base: str, n: int) -> dict:
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            "processing": 0 if status == "ended" else n,
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        },
        "created_at": STAMP,
        "expires_at": STAMP,
        "ended_at": STAMP if status == "ended" else None,
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{base}/v1/messages/batches/{batch_id}/results"
        if status == "ended"
        else None,
    }


def make_handler(api: FakeBatches, base: list[str]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: str, kind: str = "application/json") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with api.lock:
                api.created += 1
                batch_id = f"msgbatch_{api.created:04d}"
                api.batches[batch_id] = {"requests": body["requests"], "polls": 0}
            self._send(
                200,
                json.dumps(batch_object(batch_id, "in_progress", base[0], len(body["requests"]))),
            )

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            batch = api.batches.get(parts[3]) if len(parts) >= 4 else None
            if batch is None:
                self._send(
                    404,
                    json.dumps(
                        {
                            "type": "error",
                            "error": {"type": "not_found_error", "message": "no such batch"},
                        }
                    ),
                )
                return
            if len(parts) == 5 and parts[4] == "results":
                with api.lock:
                    lines = [
                        {"custom_id": r["custom_id"], "result": api.answer(r)}
                        for r in batch["requests"]
                    ]
                    api.rng.shuffle(lines)  # results come back in any order
                self._send(200, "".join(json.dumps(x) + "\n" for x in lines), "application/binary")
                return
            batch["polls"] += 1
            status = "ended" if batch["polls"] >= 2 else "in_progress"
            self._send(
                200, json.dumps(batch_object(parts[3], status, base[0], len(batch["requests"])))
            )

    return Handler


@pytest.fixture
def fake_api():
    api = FakeBatches()
    base: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api, base))
    base.append(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ScriptedLLM.base_url = base[0]
    yield api
    server.shutdown()


def fingerprint(session, slate) -> str:
    return f"{session.persona.persona_id}:{session.turn}:{','.join(map(str, slate))}"


class _ScriptedLLM(UtilityBrain):
    """An LLM-like brain for batch mode: asks the fake API, falls back to utility on errors."""

    name = "scripted-llm"
    model = "claude-fake-1"
    base_url = ""

    def reaction_cost(self, reaction, session):
        return (reaction.input_tokens * 1.0 + reaction.output_tokens * 5.0) / 1e6

    def batch_client(self):
        return anthropic.Anthropic(api_key="test-key", base_url=self.base_url, max_retries=0)

    def batch_request(self, session, slate, message):
        step = {"key": fingerprint(session, slate), "turn": session.turn, "slate": list(slate)}
        return {
            "model": self.model,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": json.dumps(step)}],
        }

    def batch_reaction(self, session, slate, rng, result):
        base = self.react_one(session, slate, rng)  # keeps the session's draws in step
        if result.type != "succeeded":
            return replace(base, brain=f"{self.name}->utility", invalid_response=True)
        click = json.loads(result.message.content[0].text)["click"]
        k = len(slate)
        return replace(
            base,
            clicked=[pos == click for pos in range(k)],
            purchased=[False] * k,
            dismissed=[False] * k,
            brain=self.name,
            input_tokens=result.message.usage.input_tokens,
            output_tokens=result.message.usage.output_tokens,
        )


register_brain("scripted-llm", _ScriptedLLM)
OPTIONS = {"max_turns": 4, "brain": "scripted-llm", "batch": True, "batch_poll": 0.01}


def test_batch_mode_matches_out_of_order_results_and_retries_failures(fake_api, tmp_path):
    env_turn_click = {}
    fake_api.fail = "once"
    ds = generate("golf", "popularity", 6, 0, tmp_path / "run", shard_size=6, **OPTIONS)
    turns, inter = ds.turns, ds.interactions
    assert (turns["brain"] == "scripted-llm").all() and not turns["invalid_response"].any()
    clicks = inter[inter["clicked"]]
    for row in clicks.itertuples():
        env_turn_click[(row.session_id, row.turn)] = row.position
    # every turn got the click its own request asked for, though results were shuffled
    assert env_turn_click == {(r.session_id, r.turn): (r.turn - 1) % 5 for r in turns.itertuples()}
    steps = turns["turn"].max()
    assert fake_api.created == steps + 1  # one batch per step, plus one retry of the failed item
    assert ds.manifest["usage"]["input_tokens"] == 120 * len(turns)
    assert turns["cost_usd"].tolist() == [0.5 * (120 + 12 * 5.0) / 1e6] * len(turns)  # half price
    assert not (tmp_path / "run" / "_batches.json").exists()


def test_items_that_keep_failing_are_reported_and_handled_by_the_fallback(fake_api, tmp_path):
    fake_api.fail = "always"
    ds = generate("golf", "popularity", 6, 0, tmp_path / "run", shard_size=6, **OPTIONS)
    bad = ds.turns[ds.turns["invalid_response"]]
    persona, turn = fake_api.victim.split(":")[:2]
    assert len(bad) >= 1 and (bad["brain"] == "scripted-llm->utility").all()
    assert (bad["turn"] == int(turn) + 1).all() and (bad["persona_id"] == persona).all()
    assert fake_api.failures == 3 * len(bad)  # first try and two retries, then the fallback


def test_a_restart_mid_batch_picks_the_pending_batch_up(fake_api, tmp_path):
    from simrec.env import RecSessionEnv
    from simrec.presets import find_preset

    env = RecSessionEnv(**{**find_preset("golf").kwargs, "brain": "scripted-llm"})
    env.reset(seed=3)
    session, rng = env.session, env.np_random
    slate = [0, 1, 2, 3, 4]
    ledger = tmp_path / "_batches.json"

    def crash(batch_id):
        raise KeyboardInterrupt(batch_id)

    first = BatchBrain(env.brain, ledger, poll_interval=0.01, on_submitted=crash)
    with pytest.raises(KeyboardInterrupt):
        first.react([session], [slate], [None], [rng])
    assert fake_api.created == 1 and json.loads(ledger.read_text())

    again = BatchBrain(env.brain, ledger, poll_interval=0.01)
    reaction = again.react([session], [slate], [None], [rng])[0]
    assert fake_api.created == 1  # no second submission: the pending batch was reused
    assert reaction.clicked == [True, False, False, False, False]
