"""``map.html`` (plotly; its JavaScript in ``plotly.min.js`` next to it: works with no network) and
``map.png`` (matplotlib, ``depotsite.output.briefing``).

The interactive map draws the shipped country boundaries as plain lines on lon/lat axes rather than a
web map, so air-gapped machines see exactly what connected ones do. The outlines are simplified to
``OUTLINE_TOLERANCE_DEG`` (about 1 km, under a pixel of the 800-pixel-high map) and rounded to
``OUTLINE_DECIMALS`` decimals, and plotly's 4.8 MB of JavaScript is its own file rather than inside the
page: the base's ``map.html`` is 0.35 MB instead of 5.6 MB, written in a fraction of the time. Its
legend toggles each layer on its own: the routes of each system, the depots of each host, the
destinations and the borders (each is its own legend group; a click hides one, a double click shows it
alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depotsite.instance import Instance
from depotsite.output.basemap import (
    HOST_COLOURS,
    SYSTEM_COLOURS,
    colours,
    extent,
    simplified_boundaries,
)
from depotsite.output.geojson import route_points
from depotsite.results import RunResult
from depotsite.traveltimes import TravelTimes

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import shapely

    from depotsite.overrides import Override

OUTLINE_DECIMALS = 3
"""Decimals of the outlines' longitudes and latitudes in ``map.html`` (0.001 degrees, about 110 m)."""
PLOTLY_JS = "plotly.min.js"
"""The file next to ``map.html`` that holds plotly's JavaScript (written from the installed plotly)."""


def _outline(geometries: Sequence[shapely.Geometry]) -> tuple[list[float | None], list[float | None]]:
    """The countries' outlines (``simplified_boundaries``) as one line trace's coordinates, rounded to
    ``OUTLINE_DECIMALS``."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geometry in geometries:
        boundary = geometry.boundary
        for line in getattr(boundary, "geoms", [boundary]):
            x, y = line.xy
            xs += [*(round(v, OUTLINE_DECIMALS) for v in x), None]
            ys += [*(round(v, OUTLINE_DECIMALS) for v in y), None]
    return xs, ys


def html_map(
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    explanation: Mapping[str, Any] | None = None,
    changes: Sequence[Override] = (),
) -> go.Figure:
    """The interactive map, a legend group per layer (``system:<id>``, ``host:<id>``, ``destinations``,
    ``borders``); with an explanation, the binding rules under the map and each depot's reason in its hover
    text; with changes, the run's overrides under the title. The figure of ``html_map_spec``, validated."""
    import plotly.graph_objects as go

    return go.Figure(html_map_spec(result, p, travel, explanation=explanation, changes=changes))


def html_map_spec(
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    explanation: Mapping[str, Any] | None = None,
    changes: Sequence[Override] = (),
) -> dict[str, Any]:
    """``html_map`` as plotly's plain figure dictionary (``data`` and ``layout``), without plotly's validation
    of every coordinate: what ``map.html`` is written from."""
    data: list[dict[str, Any]] = []
    shapes = simplified_boundaries(p)
    if shapes is not None:
        xs, ys = _outline([geometry for _, geometry in shapes])
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "line": {"color": "#9a9a9a", "width": 0.8},
                "name": "borders",
                "legendgroup": "borders",
                "hoverinfo": "skip",
            }
        )
    data += _route_traces(result, p, travel)
    data += _depot_traces(result, p, explanation)
    dests = list(p.inputs.destinations.values())
    data.append(
        {
            "type": "scatter",
            "x": [d.lon for d in dests],
            "y": [d.lat for d in dests],
            "mode": "markers",
            "name": "destinations",
            "marker": {"symbol": "star", "size": 11, "color": "gold", "line": {"color": "black", "width": 1}},
            "text": [f"{d.destination_id} ({d.kind})" for d in dests],
            "hoverinfo": "text",
            "legendgroup": "destinations",
        }
    )
    x0, x1, y0, y1 = extent(p)
    title = (
        f"depotsite: {result.scenario} ({result.status}); mean time {result.terms['time_h']:.1f} h, "
        f"risk {result.terms['risk']:.1f}"
    )
    if changes:
        title += "<br><sup>overrides: " + _wrap("; ".join(c.describe() for c in changes)) + "</sup>"
    layout: dict[str, Any] = {
        "title": {"text": title},
        "xaxis": {"range": [x0, x1], "title": {"text": "longitude"}, "showgrid": False},
        "yaxis": {
            "range": [y0, y1],
            "title": {"text": "latitude"},
            "showgrid": False,
            "scaleanchor": "x",
            "scaleratio": 1 / math.cos(math.radians((y0 + y1) / 2)),
        },
        "plot_bgcolor": "white",
        "height": 800,
        "legend": {"itemsizing": "constant", "groupclick": "toggleitem"},
    }
    binding = [r["words"] for r in (explanation or {}).get("rules", []) if r["binding"]]
    if binding:
        layout["annotations"] = [
            {
                "text": "<b>rules that bind</b><br>" + "<br>".join(_wrap(w) for w in binding),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.08,
                "yanchor": "top",
                "showarrow": False,
                "align": "left",
                "font": {"size": 11},
            }
        ]
        layout["height"] = 800 + 34 * sum(1 + len(w) // 150 for w in binding)
        layout["margin"] = {"b": 40 + 34 * sum(1 + len(w) // 150 for w in binding)}
    return {"data": data, "layout": layout}


def _route_traces(result: RunResult, p: Instance, travel: TravelTimes) -> list[dict[str, Any]]:
    """One line trace per system, each its own legend group ``system:<id>``."""
    system_colour = colours(p.systems, SYSTEM_COLOURS)
    traces = []
    for i, w in enumerate(p.systems):
        xs: list[float | None] = []
        ys: list[float | None] = []
        text = []
        for x in result.deliveries:
            if x.system_id != w:
                continue
            for lon, lat in route_points(p, travel, x):
                xs.append(lon)
                ys.append(lat)
                text.append(f"{x.units} x {w}: {x.site_id} -> {x.destination_id}, {x.available_h:.1f} h")
            xs.append(None)
            ys.append(None)
            text.append("")
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": f"routes: {w}",
                "text": text,
                "hoverinfo": "text",
                "line": {"color": system_colour[w], "width": 1.6},
                "opacity": 0.75,
                "legendgroup": f"system:{w}",
                **_section(i, "routes by system"),
            }
        )
    return traces


def _depot_traces(result: RunResult, p: Instance, explanation: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One marker trace per host holding stock, each its own legend group ``host:<id>``."""
    why = {r["site_id"]: r["words"] for r in (explanation or {}).get("sites", [])}
    host_colour = colours(p.hosts, HOST_COLOURS)
    value = {s: sum(p.value[w] * n for (s2, w), n in result.stock.items() if s2 == s) for s in result.open_sites}
    holding = [h for h in p.hosts if any(p.host_of[s] == h for s in result.open_sites)]
    traces = []
    for i, h in enumerate(holding):
        sites = [s for s in result.open_sites if p.host_of[s] == h]
        traces.append(
            {
                "type": "scatter",
                "x": [p.inputs.sites[s].lon for s in sites],
                "y": [p.inputs.sites[s].lat for s in sites],
                "mode": "markers",
                "name": f"depots: {h} ({result.host_value_shares[h]:.1f}%)",
                "marker": {
                    "size": [10 + 3 * math.sqrt(max(value[s], 0.0)) / 4 for s in sites],
                    "color": host_colour[h],
                    "line": {"color": "black", "width": 1},
                },
                "text": [
                    f"{s} ({h}), {value[s]:.0f} M USD<br>"
                    + ", ".join(f"{n} {w}" for (s2, w), n in result.stock.items() if s2 == s)
                    + (f"<br>{_wrap(why[s])}" if s in why else "")
                    for s in sites
                ],
                "hoverinfo": "text",
                "legendgroup": f"host:{h}",
                **_section(i, "depots by host"),
            }
        )
    return traces


def _section(index: int, title: str) -> dict[str, Any]:
    """The legend's section title, on the first trace of a kind only (every trace is its own group)."""
    return {"legendgrouptitle": {"text": title}} if index == 0 else {}


def _wrap(text: str, width: int = 150) -> str:
    """Hover and annotation text broken into lines of about ``width`` characters."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


def png_map(
    path: Path, result: RunResult, p: Instance, travel: TravelTimes, *, changes: Sequence[Override] = ()
) -> None:
    """``map.png``: the briefing map (``depotsite.output.briefing.briefing_figure``) at 110 dpi, cropped to
    what is drawn."""
    from depotsite.output.briefing import briefing_figure

    figure = briefing_figure(result, p, travel, changes=changes)
    # what bbox_inches="tight" computes, from the renderer the labels were placed with: "tight" would draw
    # the whole figure once more only to measure it
    drawn = figure.get_tightbbox(figure.canvas.get_renderer())  # type: ignore[attr-defined]
    figure.savefig(path, bbox_inches=drawn.padded(0.15))


def write_maps(
    folder: Path,
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    explanation: Mapping[str, Any] | None = None,
    changes: Sequence[Override] = (),
) -> None:
    """``map.html`` (with ``plotly.min.js``) and ``map.png`` into ``folder``; ``changes`` (the run's
    overrides) go under the titles."""
    html_map_file(folder, result, p, travel, explanation=explanation, changes=changes)
    png_map(folder / "map.png", result, p, travel, changes=changes)


def html_map_file(
    folder: Path,
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    explanation: Mapping[str, Any] | None = None,
    changes: Sequence[Override] = (),
) -> None:
    """``map.html`` into ``folder``, loading plotly's JavaScript from ``plotly.min.js`` beside it (copied
    from the installed plotly, so the page needs no network and the run folder stays self-contained).

    Written from ``html_map_spec`` with plotly's default template (what ``go.Figure`` would add) into the
    page plotly's ``to_html`` writes, without its validation of each of the tens of thousands of
    coordinates and without importing its JSON and validation machinery (``html_page``)."""
    figure = html_map_spec(result, p, travel, explanation=explanation, changes=changes)
    figure["layout"]["template"] = default_template()
    (folder / "map.html").write_text(html_page(figure, script=PLOTLY_JS), encoding="utf-8")
    write_plotly_js(folder / PLOTLY_JS)


def html_page(figure: Mapping[str, Any], *, script: str, div_id: str = "depotsite-map") -> str:
    """A full HTML page drawing a plotly figure dictionary, as ``plotly.io.to_html(include_plotlyjs=script)``
    writes it, with a fixed element id (the same run writes the same page).

    Parameters
    ----------
    figure
        ``data`` and ``layout`` (``html_map_spec``); plain JSON values only.
    script
        Where the page loads plotly's JavaScript from, relative to the page.
    """
    import json

    def encoded(value: Any) -> str:
        # as plotly encodes: compact, and "</" escaped so no string can close the script element
        return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")

    height = figure["layout"].get("height", 800)
    return (
        '<!doctype html>\n<html>\n<head>\n    <meta charset="utf-8" />\n'
        "    <style>html, body {height: 100%;}</style>\n</head>\n<body>\n"
        f'    <div style="height:{height}px; width:100%;">\n'
        "        <script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f'        <script charset="utf-8" src="{script}"></script>\n'
        f'        <div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>\n'
        "        <script>\n            window.PLOTLYENV=window.PLOTLYENV || {};\n"
        f'            if (document.getElementById("{div_id}")) {{\n'
        f'                Plotly.newPlot("{div_id}", {encoded(figure["data"])}, {encoded(figure["layout"])}, '
        '{"responsive": true});\n'
        "            }\n        </script>\n    </div>\n</body>\n</html>\n"
    )


def default_template() -> dict[str, Any]:
    """plotly's default template as its plain dictionary: read from the JSON file plotly ships it in (plotly's
    own template registry would import its whole validation machinery to build the same dictionary)."""
    import json

    import plotly
    import plotly.io as pio

    name = pio.templates.default
    shipped = Path(plotly.__file__).parent / "package_data" / "templates" / f"{name}.json"
    if isinstance(name, str) and shipped.is_file():
        return json.loads(shipped.read_text(encoding="utf-8"))
    return pio.templates[name].to_plotly_json()


def write_plotly_js(path: Path) -> None:
    """The installed plotly's minified JavaScript bundle, copied to ``path`` (found without importing plotly)."""
    import importlib.util
    import shutil

    spec = importlib.util.find_spec("plotly")
    bundle = Path(spec.origin).parent / "package_data" / "plotly.min.js" if spec and spec.origin else None
    if bundle is not None and bundle.is_file():
        shutil.copyfile(bundle, path)
    else:  # an unusual install: ask plotly for the text
        from plotly.offline import get_plotlyjs

        path.write_text(get_plotlyjs(), encoding="utf-8")
