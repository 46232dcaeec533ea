"""Usage ledger and prices; the CLI helpers that report them."""

from __future__ import annotations

import argparse

import pytest

from simrec.errors import ConfigError
from simrec.llm.accounting import CallRecord, Price, UsageLedger, resolve_prices
from simrec.llm.cli_support import add_llm_arguments, brain_kwargs_from_args, format_usage_report


def test_costs_split_live_calls_from_replayed_ones():
    ledger = UsageLedger({"m": {"input": 1, "output": 10, "cache_read": 0.1, "cache_write": 2}})
    ledger.add_call(CallRecord("m", "api", 100.0, 1000, 100, 5000, 0))
    ledger.add_call(CallRecord("m", "api", 300.0, 0, 0, error="rate_limit"))
    ledger.add_call(CallRecord("m", "cache", 50.0, 1000, 100, 0, 0))
    ledger.add_step()
    ledger.add_step(fallback="utility")
    s = ledger.summary()
    assert s.api_calls == 2 and s.cache_hits == 1 and s.errors == {"rate_limit": 1}
    assert s.cost_usd == pytest.approx((1000 * 1 + 100 * 10 + 5000 * 0.1) / 1e6)
    assert s.cost_saved_usd == pytest.approx((1000 + 1000) / 1e6)
    assert (s.latency_ms_p50, s.latency_ms_max) == (200.0, 300.0)
    assert s.invalid_responses == 1 and s.fallbacks == {"utility": 1}
    report = format_usage_report(ledger)
    assert "2 sent (0 retried attempts), 1 replayed" in report and "rate_limit 1" in report
    assert "invalid responses 1 (utility 1)" in report
    # what was spent now, beside what the replayed call cost when it was recorded
    assert (
        f"spent ${s.cost_usd:.4f}; the 1 replayed calls cost ${s.cost_saved_usd:.4f} when recorded"
        in report
    )
    assert "per step: 3,500 input tokens, 71% read from the prompt cache" in report


def test_unpriced_models_are_reported_not_guessed():
    ledger = UsageLedger()
    ledger.add_call(CallRecord("my-finetune", "api", 1.0, 10, 10))
    s = ledger.summary()
    assert s.cost_usd == 0.0 and s.unpriced_models == ["my-finetune"]
    assert "no price for: my-finetune" in format_usage_report(ledger)


def test_price_overrides_are_checked():
    assert resolve_prices({"claude-haiku-5-5": {"input": 9}})["claude-haiku-5-5"].input == 9.0
    assert resolve_prices({"x": Price(1, 2, 3, 4)})["x"] == Price(1, 2, 3, 4)
    with pytest.raises(ConfigError, match="prices.x: a new model needs every rate; missing"):
        resolve_prices({"x": {"input": 1}})
    with pytest.raises(ConfigError, match="prices.claude-haiku-5-5.input: expected a non-negative"):
        resolve_prices({"claude-haiku-5-5": {"input": -1}})
    with pytest.raises(ConfigError, match="prices.claude-haiku-5-5.inptu: unknown"):
        resolve_prices({"claude-haiku-5-5": {"inptu": 1}})


def test_cli_options_become_brain_kwargs(tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("my-model: {input: 1, output: 2, cache_read: 0.1, cache_write: 1.5}\n")
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    args = parser.parse_args(
        [
            "--model",
            "my-model",
            "--cache",
            "replay",
            "--cache-path",
            "x.sqlite",
            "--concurrency",
            "16",
            "--on-invalid",
            "skip",
            "--prices",
            str(prices),
        ]
    )
    assert brain_kwargs_from_args(args) == {
        "model": "my-model",
        "cache": "replay",
        "cache_path": "x.sqlite",
        "concurrency": 16,
        "on_invalid": "skip",
        "prices": {"my-model": {"input": 1, "output": 2, "cache_read": 0.1, "cache_write": 1.5}},
    }
    assert brain_kwargs_from_args(parser.parse_args([])) == {}
    with pytest.raises(ConfigError, match="--prices: file 'nope.yaml' not found"):
        brain_kwargs_from_args(parser.parse_args(["--prices", "nope.yaml"]))
