"""map.html shows its overlays with no network at all (headless Chromium, every connection refused), each
layer toggled on its own; map.png is a briefing map in LAEA Europe metres with legends and labels; the
Pareto plot labels every point. The pictures are checked by structure through the plotting API."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=10000",
]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian packages chromium, chromium-driver)")
def test_map_draws_routes_and_sites_offline(base_run, tmp_path):
    out, _ = base_run
    html = (out / "map.html").read_text()
    assert "cdn." not in html.split("<body>")[0]  # nothing to fetch before the plot
    dom = subprocess.run(
        [CHROMIUM, *OFFLINE, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", (out / "map.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    summary = json.loads((out / "summary.json").read_text())
    n_destinations = 14
    # plotly draws one <path class="point"> per marker and one js-line per line trace segment group
    assert len(re.findall(r'class="point"', dom)) == len(summary["open_sites"]) + n_destinations
    legend = re.findall(r'class="legendtext"[^>]*>([^<]+)<', dom)
    assert {f"routes: {w}" for w in summary["package"]["units"]} <= set(legend)
    holding = {h for h, units in summary["host_units"].items() if any(units.values())}
    assert {entry.split()[1] for entry in legend if entry.startswith("depots: ")} == holding
    assert "destinations" in legend
    assert len(re.findall(r'class="js-line"', dom)) > len(summary["package"]["units"])


def test_map_png_is_a_real_picture(base_run):
    out, _ = base_run
    from matplotlib.image import imread

    image = imread(out / "map.png")
    assert image.shape[0] > 500 and image.shape[1] > 800
    assert (image[..., :3].std(axis=(0, 1)) > 0.05).all()  # not a blank canvas


# --- the briefing map, the layer toggles and the Pareto plot, checked by structure -------------------------


@pytest.fixture(scope="module")
def base_posture(base_run):
    """The base run's posture rebuilt from its folder (no solve): result, instance and travel times."""
    from conftest import BASE
    from depotsite.instance import build_instance
    from depotsite.posture import SolveOutcome
    from depotsite.results import summarise
    from depotsite.scenario import load_scenario
    from depotsite.sources import read_inputs, travel_times_for

    out, _ = base_run
    scenario = load_scenario(BASE)
    inputs = read_inputs(scenario)
    travel = travel_times_for(inputs, scenario)  # the session's cache, filled by the base run
    p = build_instance(inputs, travel, scenario)
    with (out / "allocation.csv").open(newline="") as stream:
        stock = {(r["site_id"], r["system_id"]): int(r["units"]) for r in csv.DictReader(stream)}
    with (out / "deliveries.csv").open(newline="") as stream:
        ship = {(r["site_id"], r["destination_id"], r["system_id"]): int(r["units"]) for r in csv.DictReader(stream)}
    summary = json.loads((out / "summary.json").read_text())
    result = summarise(
        p,
        stock,
        ship,
        tuple(summary["open_sites"]),
        outcome=SolveOutcome(status="optimal", objective=summary["objective"], bound=None, gap=0.0, solve_s=0.0),
    )
    return result, p, travel


@pytest.fixture(scope="module")
def briefing(base_posture):
    import matplotlib.pyplot as plt

    from depotsite.output.briefing import briefing_figure

    figure = briefing_figure(*base_posture)
    yield figure, next(ax for ax in figure.axes if ax.get_gid() == "map")
    plt.close(figure)


def legends(ax) -> dict[str, list[str]]:
    from matplotlib.legend import Legend

    return {
        c.get_title().get_text(): [t.get_text() for t in c.get_texts()]
        for c in ax.get_children()
        if isinstance(c, Legend)
    }


def test_the_png_map_is_drawn_in_laea_europe_metres(base_posture, briefing):
    from pyproj import Transformer

    result, p, _ = base_posture
    _, ax = briefing
    to_laea = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    for h in {p.host_of[s] for s in result.open_sites}:
        drawn = next(c for c in ax.collections if c.get_gid() == f"depots:{h}").get_offsets()
        sites = [p.inputs.sites[s] for s in result.open_sites if p.host_of[s] == h]
        expected = [xy for s in sites for xy in to_laea.transform(s.lon, s.lat)]
        assert drawn.ravel().tolist() == pytest.approx(expected, abs=1.0)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for d in p.inputs.destinations.values():
        x, y = to_laea.transform(d.lon, d.lat)
        assert x0 < x < x1 and y0 < y < y1
    assert x1 - x0 > 1e6 and y1 - y0 > 1e6  # metres, not degrees
    assert ax.get_aspect() == 1.0
    assert any(
        c.get_facecolor().size and len(c.get_paths()) > 20 for c in ax.collections if c.get_gid() is None
    )  # the country boundaries as the base


def test_the_png_map_has_a_legend_for_hosts_systems_and_unit_counts(base_posture, briefing):
    result, p, _ = base_posture
    _, ax = briefing
    found = legends(ax)
    assert set(found) == {"depots by host (share of value)", "routes by system", "units held at a depot"}
    holding = {p.host_of[s] for (s, _), n in result.stock.items() if n > 0}
    hosts = found["depots by host (share of value)"]
    assert {entry.split()[0] for entry in hosts if not entry.startswith("none held")} == holding
    assert [e for e in hosts if e.startswith("none held")] == [
        f"none held: {', '.join(h for h in p.hosts if h not in holding)}"
    ]
    assert {entry.split(":")[0] for entry in found["routes by system"]} == set(p.systems)
    assert all(entry.endswith(" units") for entry in found["units held at a depot"])


def test_the_png_map_labels_every_destination_and_depot_without_overlaps(base_posture, briefing):
    result, p, _ = base_posture
    figure, ax = briefing
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    assert sorted(t.get_text() for t in labels) == sorted(
        [*result.open_sites, *(d.name for d in p.inputs.destinations.values())]
    )
    renderer = figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not [
        (a.get_text(), b.get_text())
        for i, (a, ba) in enumerate(zip(labels, boxes, strict=True))
        for b, bb in zip(labels[i + 1 :], boxes[i + 1 :], strict=True)
        if ba.overlaps(bb)
    ]
    assert max(t.get_fontsize() for t in labels) <= 8


def test_smaller_fleets_are_drawn_narrower_and_on_top(base_posture, briefing):
    result, p, _ = base_posture
    _, ax = briefing
    routes = {c.get_gid().split(":")[1]: c for c in ax.collections if str(c.get_gid()).startswith("routes:")}
    assert set(routes) == set(p.systems)
    for w, collection in routes.items():
        assert len(collection.get_segments()) == sum(1 for x in result.deliveries if x.system_id == w)
    assert routes["himars"].get_zorder() > routes["leopard2"].get_zorder()
    assert routes["himars"].get_linewidth()[0] < routes["leopard2"].get_linewidth()[0]
    assert len({str(c.get_linestyle()) for c in routes.values()}) == len(routes)


def test_the_png_title_names_the_run_and_lists_its_overrides(base_posture):
    import matplotlib.pyplot as plt

    from conftest import BASE
    from depotsite.output.briefing import briefing_figure
    from depotsite.scenario import resolve_scenario

    result, p, travel = base_posture
    _, changes = resolve_scenario(BASE, overrides=["hosts.PL.max_value_share=0.15"])
    plain, changed = briefing_figure(result, p, travel), briefing_figure(result, p, travel, changes=changes)
    titles = [next(ax for ax in f.axes if ax.get_gid() == "map").get_title(loc="left") for f in (plain, changed)]
    plt.close(plain)
    plt.close(changed)
    assert titles[0].startswith("base: ") and "overrides" not in titles[0]
    assert titles[1].splitlines()[-1] == "overrides: hosts.PL.max_value_share: 0.35 -> 0.15"


def test_every_system_host_and_the_destinations_toggle_on_their_own_in_the_html(base_posture):
    from depotsite.output.maps import html_map

    result, p, travel = base_posture
    figure = html_map(result, p, travel)
    groups = [t.legendgroup for t in figure.data]
    holding = {p.host_of[s] for s in result.open_sites}
    assert {f"system:{w}" for w in p.systems} | {f"host:{h}" for h in holding} | {"destinations", "borders"} == set(
        groups
    )
    assert len(groups) == len(set(groups))  # one trace per group: each toggles alone
    assert figure.layout.legend.groupclick == "toggleitem"
    by_group = {t.legendgroup: t for t in figure.data}
    assert all(
        by_group[f"host:{h}"].x == tuple(p.inputs.sites[s].lon for s in result.open_sites if p.host_of[s] == h)
        for h in holding
    )


def test_every_pareto_point_is_labelled_and_the_knee_is_named():
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from depotsite.output.analysis import front_figure

    points = [
        SimpleNamespace(epsilon=r, result=SimpleNamespace(terms={"time_h": t, "risk": r, "cost_musd": 0.0}))
        for r, t in ((40.0, 80.0), (30.0, 83.0), (20.0, 90.0), (15.0, 110.0))
    ]
    p = SimpleNamespace(
        scenario=SimpleNamespace(name="demo", objective=SimpleNamespace(risk="max_host_share", time="mean"))
    )
    figure = front_figure(points, 2, p)
    ax = figure.axes[0]
    labels = {t.get_text(): t.xy for t in ax.texts if t.get_gid() == "point"}
    knee = [t for t in ax.texts if t.get_gid() == "knee"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(figure)
    assert labels == {"0": (40.0, 80.0), "1": (30.0, 83.0), "2": (20.0, 90.0), "3": (15.0, 110.0)}
    assert [k.xy for k in knee] == [(20.0, 90.0)]
    assert legend == ["knee: point 2 (90.0 h, 20)"]


# --- map.html: plotly's JavaScript beside it, simplified outlines, the page plotly would write ---------------


def test_map_html_loads_the_javascript_beside_it_and_lists_it_in_the_manifest(base_run):
    import plotly

    from depotsite.output.maps import PLOTLY_JS

    out, _ = base_run
    html = (out / "map.html").read_text()
    bundle = (out / PLOTLY_JS).read_bytes()
    assert f'<script charset="utf-8" src="{PLOTLY_JS}"></script>' in html
    assert bundle == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert len(html.encode()) < len(bundle) / 4  # the bundle is not inside the page too
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"map.html", PLOTLY_JS} <= set(manifest["outputs"])


def test_the_page_draws_the_figure_html_map_validates(base_posture):
    """The JSON in map.html is html_map_spec's figure with plotly's default template; plotly accepts it."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from depotsite.output.maps import default_template, html_map_spec, html_page

    result, p, travel = base_posture
    figure = html_map_spec(result, p, travel)
    figure["layout"]["template"] = default_template()
    page = html_page(figure, script="plotly.min.js")
    call = page.split('Plotly.newPlot("depotsite-map", ', 1)[1]
    data, end = json.JSONDecoder().raw_decode(call)
    layout, _ = json.JSONDecoder().raw_decode(call[end + 2 :])
    assert data == figure["data"] and layout == figure["layout"]
    assert layout["template"] == pio.templates[pio.templates.default].to_plotly_json()
    validated = go.Figure({"data": data, "layout": layout})  # raises on any key plotly does not know
    assert [t.name for t in validated.data] == [t["name"] for t in data]


def test_simplified_outlines_stay_within_the_tolerance_of_the_boundaries(base_posture):
    """Every outline vertex of map.html lies within the simplification tolerance plus half a rounding step
    of the country's own boundary, and the outlines hold far fewer vertices than the file."""
    import shapely

    from depotsite.output.basemap import OUTLINE_TOLERANCE_DEG, boundary_shapes, simplified_boundaries
    from depotsite.output.maps import OUTLINE_DECIMALS, _outline

    _, p, _ = base_posture
    raw, simple = boundary_shapes(p), simplified_boundaries(p)
    assert [props for props, _ in raw] == [props for props, _ in simple]
    allowed = OUTLINE_TOLERANCE_DEG + 0.5 * 10**-OUTLINE_DECIMALS * math.sqrt(2) + 1e-9
    for (_, geometry), (_, simplified) in zip(raw, simple, strict=True):
        xs, ys = _outline([simplified])
        vertices = shapely.points([(x, y) for x, y in zip(xs, ys, strict=True) if x is not None])
        assert shapely.distance(vertices, geometry.boundary).max() <= allowed
    xs, _ = _outline([g for _, g in simple])
    assert sum(x is not None for x in xs) < 0.6 * sum(shapely.get_num_coordinates(g) for _, g in raw)


def test_the_boundaries_are_read_once_for_both_maps_and_again_when_the_file_changes(tmp_path, base_posture):
    """Both maps of a run draw the same simplified geometries (read and simplified once); a boundaries file
    rewritten between runs of one process is read again, not served from the cache."""
    import dataclasses

    from depotsite.output.basemap import simplified_boundaries

    _, p, _ = base_posture
    first, again = simplified_boundaries(p), simplified_boundaries(p)
    assert all(a is b for (_, a), (_, b) in zip(first, again, strict=True))
    again[0][0]["country_id"] = "XX"  # a caller's change to the properties does not reach the next caller
    assert simplified_boundaries(p)[0][0]["country_id"] != "XX"

    copy = tmp_path / "countries.geojson"
    copy.write_bytes(Path(p.scenario.data.boundaries).read_bytes())
    moved = p.scenario.model_copy(update={"data": p.scenario.data.model_copy(update={"boundaries": copy})})
    q = dataclasses.replace(p, scenario=moved)
    assert [props for props, _ in simplified_boundaries(q)] == [props for props, _ in first]
    collection = json.loads(copy.read_text(encoding="utf-8"))
    kept = [f for f in collection["features"] if f["properties"]["country_id"] != "PL"]
    copy.write_text(json.dumps({**collection, "features": kept}), encoding="utf-8")
    assert [props["country_id"] for props, _ in simplified_boundaries(q)] == [
        props["country_id"] for props, _ in first if props["country_id"] != "PL"
    ]


def test_the_png_maps_projection_is_pyprojs_epsg_3035(base_posture):
    """The written-out LAEA Europe operation gives PROJ's own EPSG:4326 to EPSG:3035 metres over the map."""
    import numpy as np
    from pyproj import Transformer

    from depotsite.output.basemap import extent
    from depotsite.output.briefing import CRS, LAEA_EUROPE

    _, p, _ = base_posture
    x0, x1, y0, y1 = extent(p, 4.0)
    lon, lat = (a.ravel() for a in np.meshgrid(np.linspace(x0, x1, 40), np.linspace(y0, y1, 40)))
    expected = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    drawn = Transformer.from_pipeline(LAEA_EUROPE).transform(lon, lat)
    assert np.abs(np.subtract(drawn, expected)).max() < 1e-6
