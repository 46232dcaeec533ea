"""The README is the front door: its commands are what CI runs, its Python snippet works."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_install_and_test_commands():
    setup = code_blocks("bash")[0]
    commands = [line.split("#")[0].strip() for line in setup.splitlines() if line.strip()]
    install = next(c for c in commands if c.startswith("pip install"))
    test = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"python -m {install}" in ci
    assert test in ci.splitlines()


def test_the_first_python_snippet_runs():
    snippet = code_blocks("python")[0]
    exec(compile(snippet, "README.md", "exec"), {"print": lambda *a, **k: None})


def test_the_transcript_example_is_real_output(capsys):
    from simrec.cli import main

    intro, example = re.search(r"A persona reacting to slates \(`(.*?)`.*?```text\n(.*?)```",
                               README, flags=re.S).groups()  # fmt: skip
    assert main(intro.split()[1:]) == 0
    out = iter(capsys.readouterr().out.splitlines())
    for line in example.splitlines():
        if line.strip() != "...":  # the example is abridged; the rest is printed in order
            assert line in out, f"README transcript line not in the real output: {line!r}"
