"""map.html shows its overlays with no network at all (headless Chromium, every connection refused)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000"]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian packages chromium, chromium-driver)")
def test_map_draws_routes_and_sites_offline(base_run, tmp_path):
    out, _ = base_run
    html = (out / "map.html").read_text()
    assert "cdn." not in html.split("<body>")[0]  # nothing to fetch before the plot
    dom = subprocess.run([CHROMIUM, *OFFLINE, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          (out / "map.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    summary = json.loads((out / "summary.json").read_text())
    n_destinations = 14
    # plotly draws one <path class="point"> per marker and one js-line per line trace segment group
    assert len(re.findall(r'class="point"', dom)) == len(summary["open_sites"]) + n_destinations
    legend = re.findall(r'class="legendtext"[^>]*>([^<]+)<', dom)
    assert {f"routes: {w}" for w in summary["package"]["units"]} <= set(legend)
    assert len(re.findall(r'class="js-line"', dom)) > len(summary["package"]["units"])


def test_map_png_is_a_real_picture(base_run):
    out, _ = base_run
    from matplotlib.image import imread

    image = imread(out / "map.png")
    assert image.shape[0] > 500 and image.shape[1] > 800
    assert (image[..., :3].std(axis=(0, 1)) > 0.05).all()  # not a blank canvas
