"""``map.html`` (plotly, its JavaScript embedded: works with no network) and ``map.png`` (matplotlib,
``depotsite.output.briefing``).

The interactive map draws the shipped country boundaries as plain lines on lon/lat axes rather than a
web map, so air-gapped machines see exactly what connected ones do. Its legend toggles each layer on its
own: the routes of each system, the depots of each host, the destinations and the borders (each is its
own legend group; a click hides one, a double click shows it alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from depotsite.instance import Instance
from depotsite.output.basemap import HOST_COLOURS, SYSTEM_COLOURS, boundaries, colours, extent
from depotsite.output.geojson import route_points
from depotsite.results import RunResult
from depotsite.traveltimes import TravelTimes

if TYPE_CHECKING:
    import geopandas as gpd

    from depotsite.overrides import Override


def _outline(frame: gpd.GeoDataFrame) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geometry in frame.geometry.boundary:
        for line in getattr(geometry, "geoms", [geometry]):
            x, y = line.xy
            xs += [*x, None]
            ys += [*y, None]
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
    text; with changes, the run's overrides under the title."""
    figure = go.Figure()
    frame = boundaries(p)
    if frame is not None:
        xs, ys = _outline(frame)
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": "#9a9a9a", "width": 0.8},
                name="borders",
                legendgroup="borders",
                hoverinfo="skip",
            )
        )
    figure.add_traces(_route_traces(result, p, travel))
    figure.add_traces(_depot_traces(result, p, explanation))
    dests = list(p.inputs.destinations.values())
    figure.add_trace(
        go.Scatter(
            x=[d.lon for d in dests],
            y=[d.lat for d in dests],
            mode="markers",
            name="destinations",
            marker={"symbol": "star", "size": 11, "color": "gold", "line": {"color": "black", "width": 1}},
            text=[f"{d.destination_id} ({d.kind})" for d in dests],
            hoverinfo="text",
            legendgroup="destinations",
        )
    )
    x0, x1, y0, y1 = extent(p)
    title = (
        f"depotsite: {result.scenario} ({result.status}); mean time {result.terms['time_h']:.1f} h, "
        f"risk {result.terms['risk']:.1f}"
    )
    if changes:
        title += "<br><sup>overrides: " + _wrap("; ".join(c.describe() for c in changes)) + "</sup>"
    figure.update_layout(
        title=title,
        xaxis={"range": [x0, x1], "title": "longitude", "showgrid": False},
        yaxis={
            "range": [y0, y1],
            "title": "latitude",
            "showgrid": False,
            "scaleanchor": "x",
            "scaleratio": 1 / math.cos(math.radians((y0 + y1) / 2)),
        },
        plot_bgcolor="white",
        height=800,
        legend={"itemsizing": "constant", "groupclick": "toggleitem"},
    )
    binding = [r["words"] for r in (explanation or {}).get("rules", []) if r["binding"]]
    if binding:
        figure.add_annotation(
            text="<b>rules that bind</b><br>" + "<br>".join(_wrap(w) for w in binding),
            xref="paper",
            yref="paper",
            x=0,
            y=-0.08,
            yanchor="top",
            showarrow=False,
            align="left",
            font={"size": 11},
        )
        figure.update_layout(
            height=800 + 34 * sum(1 + len(w) // 150 for w in binding),
            margin={"b": 40 + 34 * sum(1 + len(w) // 150 for w in binding)},
        )
    return figure


def _route_traces(result: RunResult, p: Instance, travel: TravelTimes) -> list[go.Scatter]:
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
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"routes: {w}",
                text=text,
                hoverinfo="text",
                line={"color": system_colour[w], "width": 1.6},
                opacity=0.75,
                legendgroup=f"system:{w}",
                **_section(i, "routes by system"),
            )
        )
    return traces


def _depot_traces(result: RunResult, p: Instance, explanation: Mapping[str, Any] | None) -> list[go.Scatter]:
    """One marker trace per host holding stock, each its own legend group ``host:<id>``."""
    why = {r["site_id"]: r["words"] for r in (explanation or {}).get("sites", [])}
    host_colour = colours(p.hosts, HOST_COLOURS)
    value = {s: sum(p.value[w] * n for (s2, w), n in result.stock.items() if s2 == s) for s in result.open_sites}
    holding = [h for h in p.hosts if any(p.host_of[s] == h for s in result.open_sites)]
    traces = []
    for i, h in enumerate(holding):
        sites = [s for s in result.open_sites if p.host_of[s] == h]
        traces.append(
            go.Scatter(
                x=[p.inputs.sites[s].lon for s in sites],
                y=[p.inputs.sites[s].lat for s in sites],
                mode="markers",
                name=f"depots: {h} ({result.host_value_shares[h]:.1f}%)",
                marker={
                    "size": [10 + 3 * math.sqrt(max(value[s], 0.0)) / 4 for s in sites],
                    "color": host_colour[h],
                    "line": {"color": "black", "width": 1},
                },
                text=[
                    f"{s} ({h}), {value[s]:.0f} M USD<br>"
                    + ", ".join(f"{n} {w}" for (s2, w), n in result.stock.items() if s2 == s)
                    + (f"<br>{_wrap(why[s])}" if s in why else "")
                    for s in sites
                ],
                hoverinfo="text",
                legendgroup=f"host:{h}",
                **_section(i, "depots by host"),
            )
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
    import matplotlib.pyplot as plt

    from depotsite.output.briefing import briefing_figure

    figure = briefing_figure(result, p, travel, changes=changes)
    try:
        figure.savefig(path, bbox_inches="tight", pad_inches=0.15)
    finally:
        plt.close(figure)


def write_maps(
    folder: Path,
    result: RunResult,
    p: Instance,
    travel: TravelTimes,
    *,
    explanation: Mapping[str, Any] | None = None,
    changes: Sequence[Override] = (),
) -> None:
    """``map.html`` and ``map.png`` into ``folder``; ``changes`` (the run's overrides) go under the titles."""
    figure = html_map(result, p, travel, explanation=explanation, changes=changes)
    figure.write_html(folder / "map.html", include_plotlyjs=True, full_html=True)
    png_map(folder / "map.png", result, p, travel, changes=changes)
