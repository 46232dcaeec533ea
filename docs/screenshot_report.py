"""Make the README's picture of a scenario report: ``docs/images/report-steerability.png``.

Run: ``python docs/screenshot_report.py`` (needs the ``dev`` extra and Debian's
``chromium``). It runs the shipped steerability scenario, writes its report with
``simrec report``, opens the page in headless Chromium and saves the top of it (title,
verdict, assertions, the first charts) as a palette PNG under 300 kB.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "report-steerability.png"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
)  # fmt: skip
WIDTH, HEIGHT = 1200, 1500
LIMIT_BYTES = 300_000


def main() -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from simrec.scenario import load_scenario
    from simrec.scenario_report import write_results
    from simrec.scenario_run import run_scenario

    chromium = shutil.which("chromium") or sys.exit("needs chromium: apt-get install chromium")
    os.chdir(ROOT)  # the page names the scenario file as given: relative to the repo
    with tempfile.TemporaryDirectory() as folder:
        scenario = load_scenario("scenarios/steerability.yaml")
        json_path, _ = write_results(run_scenario(scenario), folder)
        subprocess.run([sys.executable, "-m", "simrec.cli", "report", str(json_path)], check=True)
        profile = Path(folder) / "profile"
        process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = profile / "DevToolsActivePort"
            for _ in range(600):
                if port_file.exists() and port_file.read_text().split("\n")[0].isdigit():
                    break
                time.sleep(0.1)
            port = int(port_file.read_text().split("\n")[0])
            with sync_playwright() as playwright:
                browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.goto(json_path.with_suffix(".html").as_uri(), wait_until="load")
                png = page.screenshot(clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
                browser.close()
        finally:
            process.terminate()
            process.wait()
    # a 256-colour palette keeps every policy's colour apart (fewer colours merge them)
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, dither=0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    image.save(OUT, optimize=True)
    size = OUT.stat().st_size
    print(f"{OUT.relative_to(ROOT)}: {WIDTH}x{HEIGHT}, {size / 1000:.0f} kB")
    if size > LIMIT_BYTES:
        sys.exit(f"larger than {LIMIT_BYTES / 1000:.0f} kB")


if __name__ == "__main__":
    main()
