"""Optional (`make test-browser`): open the index and a report in headless Chromium.

Uses Debian's ``chromium`` package. Makes the AUMI demo reports first if ``reports/index.html``
is missing, then saves screenshots in ``reports/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="apt install chromium")]


@pytest.fixture(scope="module")
def reports() -> Path:
    index = ROOT / "reports" / "index.html"
    if not (ROOT / "reports" / "aumi" / "all" / "04_slutevaluering.html").exists():
        from ungeanalyse.config import load_config
        from ungeanalyse.demo import make_demo
        from ungeanalyse.pipeline import run

        cfg = load_config(ROOT / "config" / "aumi.yml")
        make_demo(cfg)
        assert run(cfg, progress=False).exit_code == 0
    return index.parent


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("page", ["index.html", "aumi/all/02_maaltal.html",
                                  "aumi/all/04_pixi.html"])
def test_page_renders_in_chromium(reports, page):
    url = (reports / page).as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1" in dom.stdout and "Traceback" not in dom.stdout
    shots = reports / "screenshots"
    shots.mkdir(exist_ok=True)
    png = shots / (page.replace("/", "_").removesuffix(".html") + ".png")
    shot = _chromium(f"--screenshot={png}", "--window-size=1280,1800", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.exists() and png.stat().st_size > 20_000
