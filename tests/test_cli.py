"""The ``simrec`` command: transcripts, persona and catalog generation, one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simrec.catalog import load_catalog
from simrec.cli import main
from simrec.persona import load_personas

SUMMARY = re.compile(
    r"--- return (-?\d+\.\d\d) \| clicks (\d+) \| purchases (\d+) \| dismissals (\d+) \| "
    r"turns (\d+) \| (user left|turn limit) \| satisfaction (\d\.\d\d)"
)


def test_run_prints_transcripts_and_summaries(capsys):
    assert main(["run", "golf", "--policy", "random", "--episodes", "3", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert out.count("=== episode") == 3
    assert "turn 1:" in out and 'user: "' in out
    summaries = [line for line in out.splitlines() if line.startswith("---")]
    assert len(summaries) == 3
    fields = [SUMMARY.fullmatch(line) for line in summaries]
    assert all(fields), summaries  # return, clicks, purchases, dismissals, turns, ending
    returns = [float(m[1]) for m in fields]
    mean = re.search(r"random on simrec/Golf-v0, 3 episodes: mean return (-?[\d.]+)", out)
    assert mean and float(mean[1]) == pytest.approx(sum(returns) / 3, abs=0.01)


def test_run_is_reproducible_and_seed_dependent(capsys):
    main(["run", "books", "--policy", "popularity", "--episodes", "2", "--seed", "5"])
    first = capsys.readouterr().out
    main(["run", "books", "--policy", "popularity", "--episodes", "2", "--seed", "5"])
    assert capsys.readouterr().out == first
    main(["run", "books", "--policy", "popularity", "--episodes", "2", "--seed", "6"])
    assert capsys.readouterr().out != first


def test_unknown_preset_is_one_line_on_stderr_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "simrec.cli", "run", "golfx"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "simrec: error: unknown preset 'golfx'; available: books, golf, retail (or a path to a preset .yaml)"
    ]
    assert "Traceback" not in result.stderr


def generate(out: Path, domain: str = "golf", n: int = 50, seed: int = 7, *extra: str) -> int:
    return main(["personas", "generate", "--domain", domain, "--n", str(n), "--seed", str(seed),
                 "--out", str(out), *extra])  # fmt: skip


def test_personas_generate_writes_valid_reproducible_files(tmp_path: Path, capsys):
    assert generate(tmp_path / "a") == 0
    assert "wrote 50 golf personas" in capsys.readouterr().out
    assert generate(tmp_path / "b") == 0
    a, b = load_personas(tmp_path / "a"), load_personas(tmp_path / "b")
    assert len(a) == 50 and a == b
    assert len({p.name for p in a}) > 40
    assert main(["personas", "validate", str(tmp_path / "a")]) == 0


def test_personas_generate_refuses_to_overwrite(tmp_path: Path, capsys):
    assert generate(tmp_path, "books", 3, 1) == 0
    capsys.readouterr()
    assert generate(tmp_path, "books", 3, 1) == 2
    assert "simrec: error:" in capsys.readouterr().err
    assert generate(tmp_path, "books", 3, 1, "--overwrite") == 0


def test_personas_validate_reports_the_bad_file(tmp_path: Path, capsys):
    (tmp_path / "bad.yaml").write_text(
        "id: x\ndomain: golf\nbio: b\ntastes: {tags: {scenicc: 1}}\n"
    )
    assert main(["personas", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4" in err and "scenicc" in err


def test_catalog_generate_writes_a_loadable_file(tmp_path: Path, capsys):
    out = tmp_path / "golf.csv"
    assert (
        main(
            [
                "catalog",
                "generate",
                "--domain",
                "golf",
                "--n",
                "30",
                "--seed",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(load_catalog(out)) == 30
    assert main(["catalog", "generate", "--domain", "golf", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_bad_option_values_exit_with_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "golf", "--episodes", "0"])
    assert exc.value.code == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_run_with_claude_against_a_fake_api_records_then_replays(
    tmp_path: Path, monkeypatch, capsys
):
    from simrec.llm.fake_server import FakeMessagesAPI

    cache = tmp_path / "golf.sqlite"
    args = ["run", "golf", "--brain", "anthropic", "--episodes", "1", "--max-turns", "2",
            "--cache-path", str(cache)]  # fmt: skip
    with FakeMessagesAPI() as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cli")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        assert main([*args, "--cache", "record"]) == 0
        recorded = capsys.readouterr().out
        calls = api.calls
    assert calls >= 1 and "LLM" in recorded and "turn 1:" in recorded
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main([*args, "--cache", "replay"]) == 0
    replayed = capsys.readouterr().out
    assert replayed.split("LLM")[0] == recorded.split("LLM")[0]  # identical transcripts


def test_llm_options_without_the_llm_brain_are_refused(capsys):
    assert main(["run", "golf", "--cache", "replay"]) == 2
    assert "--cache applies only with --brain anthropic" in capsys.readouterr().err


def write_preset(folder: Path, **overrides: str) -> Path:
    """A preset file (copied-and-renamed golf style) with its own persona folder beside it."""
    assert generate(folder / "personas", "golf", 3, 1) == 0
    fields = {
        "id": "Mine-v0",
        "catalog": "{generate: {domain: golf, n_items: 200, seed: 0}}",
        "personas": "personas",
        "slate_size": "3",
        "max_turns": "4",
        **overrides,
    }
    path = folder / "my_preset.yaml"
    path.write_text("".join(f"{key}: {value}\n" for key, value in fields.items()))
    return path


def test_run_accepts_a_preset_file_whose_id_is_not_registered(tmp_path: Path, capsys):
    preset = write_preset(tmp_path)
    capsys.readouterr()
    assert main(["run", str(preset), "--episodes", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("=== episode") == 2
    assert "  3. " in out and "  4. " not in out  # the file's slate_size
    assert "random on simrec/Mine-v0, 2 episodes: mean return" in out


def one_error_line(capsys) -> str:
    """The single stderr line of a failed command (no traceback, nothing else)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simrec: error: "), lines
    return lines[0].removeprefix("simrec: error: ")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.yaml", "claude-haiku-5-5: [1\n", r"p\.yaml:\d+: invalid YAML: "),
        ("p.json", '{"claude-haiku-5-5": {"input": 1,}}', r"p\.json:1: invalid JSON: .*column"),
        ("p.yaml", "- 1\n", r"p\.yaml: expected a mapping \{model: .*got \[1\]"),
        ("p.yaml", "claude-haiku-5-5: {input: 1}\nclaude-opus-5-5: {input: -1}\n",
         r"p\.yaml:2: prices\.claude-opus-5-5\.input: expected a non-negative number, got -1"),
        ("p.yaml", "claude-haiku-5-5: {input: .nan}\n",
         r"p\.yaml:1: prices\.claude-haiku-5-5\.input: expected a non-negative number, got nan"),
        ("p.json", '{"claude-haiku-5-5": {"inptu": 1}}',
         r"p\.json: prices\.claude-haiku-5-5\.inptu: unknown; expected one of input, "),
        ("p.yaml", b"claude-haiku-5-5: {input: \xff}\n", r"p\.yaml: not a UTF-8 text file"),
    ],
)  # fmt: skip
def test_a_bad_prices_file_is_named_in_one_line(tmp_path: Path, capsys, name, text, expected):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(["run", "golf", "--brain", "anthropic", "--prices", str(path)])
    assert code == 2
    assert re.fullmatch(re.escape(str(tmp_path)) + "/" + expected + ".*", one_error_line(capsys))


@pytest.mark.parametrize("mode", ["record", "replay"])
def test_a_cache_path_that_is_not_sqlite_is_named_in_one_line(
    tmp_path: Path, capsys, monkeypatch, mode
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cli")  # the key is not what fails
    cache = tmp_path / "notes.sqlite"
    cache.write_text("these are my notes, not a database\n" * 20)
    args = ["run", "golf", "--brain", "anthropic", "--cache", mode, "--cache-path", str(cache)]
    assert main(args) == 2
    assert one_error_line(capsys) == (
        f"cache_path {str(cache)!r}: expected a simrec response cache (an SQLite file written "
        "with cache='record'), but it cannot be used as one: file is not a database"
    )


@pytest.mark.parametrize(
    ("catalog", "expected"),
    [
        ("{generate: {domain: golf, seed: x}}",
         "field 'catalog.generate.seed': expected an integer >= 0, got 'x'"),
        ("{generate: {domain: golf, n_items: 2.5}}",
         "field 'catalog.generate.n_items': expected an integer >= 1, got 2.5"),
        ("{generate: {domain: golf, n_itmes: 50}}",
         "field 'catalog.generate.n_itmes': unknown field; expected one of: domain, n_items, seed"),
        ("{generate: {domain: golff}}",
         "field 'catalog.generate.domain': expected one of books, golf, retail, got 'golff'"),
        ("{path: a.csv, generate: {domain: golf}}",
         "field 'catalog': expected a file path, {path: ...} or {generate: {domain: ..., "
         "n_items: ..., seed: ...}}, got {'path': 'a.csv', 'generate': {'domain': 'golf'}}"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["run", "generate"])
def test_a_bad_catalog_spec_in_a_preset_file_names_file_line_and_field(
    tmp_path: Path, capsys, command, catalog, expected
):
    preset = write_preset(tmp_path, catalog=catalog)
    capsys.readouterr()
    extra = ["--sessions", "1", "--out", str(tmp_path / "out")] if command == "generate" else []
    assert main([command, str(preset), *extra]) == 2
    assert one_error_line(capsys) == f"{preset}:2: {expected}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command",
    [["run", "golf", "--brain", "anthropic"],
     ["generate", "golf", "--brain", "anthropic", "--sessions", "2", "--out", "DIR"]],
)  # fmt: skip
def test_the_claude_brain_without_an_api_key_is_one_line_naming_the_variable(
    tmp_path: Path, command: list[str]
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    out = tmp_path / "dataset"
    argv = [str(out) if arg == "DIR" else arg for arg in command]
    result = subprocess.run(
        [sys.executable, "-m", "simrec.cli", *argv], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("simrec: error: ANTHROPIC_API_KEY is not set: export ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()  # generate leaves no empty dataset directory behind


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"simrec {version('simrec')}"


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "golf", "--seed", "99999999999999999999999", "--episodes", "1"],
        ["run", "golf", "--seed", "-1", "--episodes", "1"],
        ["generate", "golf", "--seed", "-1", "--sessions", "2", "--out", "x"],
        ["personas", "generate", "--domain", "golf", "--n", "1", "--seed", "-5", "--out", "x"],
        ["catalog", "generate", "--domain", "golf", "--seed", "2.5", "--out", "x.csv"],
    ],
)
def test_a_seed_out_of_range_is_a_usage_error_naming_the_option(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: expected a seed (an integer in [0, 4294967295])" in err
    assert "Traceback" not in err and "bad parameters" not in err


def test_generate_with_brain_kwargs_of_the_wrong_type_names_the_field(tmp_path: Path, capsys):
    argv = ["generate", "golf", "--sessions", "2", "--out", str(tmp_path / "d"), "--no-progress"]
    assert main([*argv, "--brain-kwargs", '{"outside_utility": "x"}']) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "simrec: error: brain 'utility': brain_kwargs: UtilityParams: field 'outside_utility': "
        "expected a number in [-100, 100], got 'x'"
    )


def test_personas_validate_refuses_an_unknown_domain_unless_given_a_catalog(tmp_path: Path, capsys):
    generate(tmp_path, "golf", 1, 0)
    (path,) = tmp_path.glob("*.yaml")
    path.write_text(path.read_text().replace("domain: golf", "domain: golff"))
    capsys.readouterr()
    assert main(["personas", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: field 'domain': unknown domain 'golff'; expected one of: books, golf" in err
    assert "--catalog" in err
    catalog = tmp_path / "cat" / "golf.csv"
    catalog.parent.mkdir()
    main(["catalog", "generate", "--domain", "golf", "--out", str(catalog)])
    assert main(["personas", "validate", str(tmp_path), "--catalog", str(catalog)]) == 0
    assert "1 personas valid" in capsys.readouterr().out


def test_persona_files_with_an_upper_case_suffix_are_read(tmp_path: Path, capsys):
    generate(tmp_path, "golf", 2, 0)
    for path in tmp_path.glob("*.yaml"):
        path.rename(path.with_suffix(".YAML"))
    assert main(["personas", "validate", str(tmp_path)]) == 0
    assert "2 personas valid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--timeout", "nan", "argument --timeout: expected a positive number, got nan"),
        ("--timeout", "-1", "argument --timeout: expected a positive number, got -1"),
        ("--max-retries", "-1", "argument --max-retries: expected an integer >= 0, got -1"),
        ("--concurrency", "0", "argument --concurrency: expected a positive integer, got 0"),
    ],
)
def test_llm_options_with_nonsense_values_are_usage_errors(option, value, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "golf", "--brain", "anthropic", option, value])
    assert exc.value.code == 2
    assert expected in capsys.readouterr().err


def test_run_with_an_llm_policy_reports_its_calls_apart(tmp_path: Path, monkeypatch, capsys):
    from simrec.llm.fake_server import FakeMessagesAPI
    from simrec.policies.llm_scripted import scripted_messages

    args = ["run", "golf", "--episodes", "3", "--max-turns", "2", "--quiet",
            "--policy", "llm_reranker", "--policy-param", "candidates=12"]  # fmt: skip
    with FakeMessagesAPI(default=scripted_messages()) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cli")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        assert main(args) == 0
        alone = capsys.readouterr().out
        assert main([*args, "--concurrency", "3"]) == 0
        together = capsys.readouterr().out
    assert f"policy LLM calls: {api.calls // 2} sent" in alone
    assert "simulated-user" not in alone  # the users were offline
    assert alone.split("policy LLM")[0] == together.split("policy LLM")[0]  # same episodes


def test_policy_params_are_checked_and_never_take_a_key(capsys):
    assert main(["run", "golf", "--policy", "linucb", "--policy-param", "alpha=oops"]) == 2
    assert "'alpha'" in capsys.readouterr().err
    assert main(["run", "golf", "--policy", "llm_reranker", "--policy-param", "api_key=sk"]) == 2
    assert "set the key in the environment" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "golf", "--policy-param", "alpha"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_generate_with_an_llm_policy_reports_its_usage_apart(tmp_path: Path, monkeypatch, capsys):
    from simrec.llm.fake_server import FakeMessagesAPI
    from simrec.policies.llm_scripted import scripted_messages

    with FakeMessagesAPI(default=scripted_messages()) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cli")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        assert main(["generate", "golf", "--policy", "llm_reranker", "--sessions", "2",
                     "--max-turns", "2", "--out", str(tmp_path / "d"), "--workers", "1",
                     "--no-progress", "--policy-param", "candidates=10"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "policy LLM (claude-haiku-5-5): tokens: input" in out
    assert f"input {api.usage['input_tokens']:,}," in out and "policy fallbacks: 0 of" in out
    assert "\ntokens:" not in out  # the offline users spent nothing
