"""Every kind of report opened in a real browser (headless Chromium): it renders, every chart
drew something, nothing was fetched from a network, and the console has no errors.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); Playwright drives it
over the DevTools protocol, so no browser is downloaded. Where Chromium is missing the
test is skipped saying so, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simrec.report import write_report
from tests.report_support import real_fidelity, write_dataset, write_scenario_result

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
START_TIMEOUT = 180.0
PAGE_TIMEOUT_MS = 180_000
"""Playwright's waits (30 s by default): generous, as other jobs may load the machine."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    """Chromium started with the flags the closed network needs, a fresh profile, and
    Playwright connected to it over the DevTools protocol."""
    executable = os.environ.get("SIMREC_CHROMIUM") or next(
        (found for name in CANDIDATES if (found := shutil.which(name))), None
    )
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = _debugging_port(profile / "DevToolsActivePort", process)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            yield chromium
            chromium.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _debugging_port(path: Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Chromium exited at start with status {process.returncode}")
        if path.exists():
            first = path.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        time.sleep(0.1)
    pytest.fail(f"Chromium did not open its debugging port within {START_TIMEOUT:.0f} s")


def _pages(root: Path) -> dict[str, Path]:
    results = root / "results"
    scenario = write_scenario_result(results)
    fidelity = results / "fidelity.json"
    fidelity.write_text(json.dumps(real_fidelity()))
    dataset = write_dataset(root / "golf-run")
    return {
        "scenario": write_report(scenario)[0],
        "fidelity": write_report(fidelity)[0],
        "dataset": write_report(dataset)[0],
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    return _pages(tmp_path_factory.mktemp("reports"))


def _ink(png: bytes) -> tuple[float, int]:
    """Share of pixels that differ from the background (the commonest colour), and the
    number of distinct colours."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    inked = np.abs(pixels - background).sum(axis=1) > 60
    return float(inked.mean()), len(colours)


CHARTS = {"scenario": 20, "dataset": 4, "fidelity": 2}
"""Charts each report of the test inputs has at least (per-turn, request, drift, metrics)."""


@pytest.mark.parametrize("kind", ["scenario", "dataset", "fidelity"])
def test_every_chart_of_every_report_draws_in_chromium(browser, pages, kind):
    path = pages[kind]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: fetched.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
    )
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("document.readyState === 'complete'")
        plots = page.locator(".plot")
        count = plots.count()
        assert count >= CHARTS[kind]
        assert count == len(re.findall(r'class="(?:panel )?plot(?: wide)?"', path.read_text()))
        for i in range(count):
            plot = plots.nth(i)
            title = plot.locator("h3").first.inner_text()
            plot.scroll_into_view_if_needed()
            svg = plot.locator("svg")
            drawing = svg if svg.count() else plot
            box = drawing.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 80, (title, box)
            share, colours = _ink(drawing.screenshot())
            assert share > 0.02 and colours > 8, f"{kind}: chart {title!r} looks blank"
        assert errors == []
        assert fetched == []
    finally:
        context.close()
