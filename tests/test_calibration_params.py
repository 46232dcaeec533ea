"""Utility-brain params files: written by the fit, read by runs, checked like the brain checks."""

from __future__ import annotations

import pytest

from simrec.calibration.params import BrainParams, load_brain_params, write_brain_params
from simrec.errors import ConfigError
from simrec.session import SessionDynamics


def test_a_written_file_reads_back(tmp_path):
    params = BrainParams({"outside_utility": 2.5}, {"item_decay": 0.7}, {"steps": 12})
    path = write_brain_params(tmp_path / "p.yaml", params, "fitted by a test\nline two")
    text = path.read_text()
    assert text.startswith("# fitted by a test\n# line two\n")
    back = load_brain_params(path)
    assert back.brain_kwargs == {"outside_utility": 2.5} and back.fit == {"steps": 12}
    assert back.session_dynamics() == SessionDynamics(item_decay=0.7)
    env = back.env_kwargs()
    assert env["brain"] == "utility" and env["dynamics"].item_decay == 0.7
    with pytest.raises(ConfigError, match="already exists"):
        write_brain_params(path, params)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("brain_kwargs: {outside: 1}\n", "p.yaml:1: field 'brain_kwargs.outside': unknown field"),
        ("brain_kwargs:\n  leave_threshold: 3\n",
         "p.yaml:2: field 'brain_kwargs.leave_threshold': expected a number in [0, 1], got 3"),
        ("brain_kwargs: {taste_weight: abc}\n", "field 'brain_kwargs.taste_weight': expected a number"),
        ("dynamics: {item_decay: 1.5}\n", "field 'dynamics.item_decay': expected a number in [0, 1]"),
        ("fit: {}\n", "expected brain_kwargs"),
        ("brain_kwargs: {}\nextra: 1\n", "unknown field"),
    ],
)  # fmt: skip
def test_bad_files_name_the_file_line_and_field(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_brain_params(path)
    assert message in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_brain_params(tmp_path / "missing.yaml")
