"""``map.html`` (plotly, its JavaScript embedded: works with no network) and ``map.png`` (matplotlib).

The base layer is the shipped country boundaries, drawn as plain lines on lon/lat axes rather than a
web map, so air-gapped machines see exactly what connected ones do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import shapely

from depotsite.instance import Instance
from depotsite.output.geojson import route_points
from depotsite.results import RunResult
from depotsite.traveltimes import TravelTimes

SYSTEM_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
HOST_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def _extent(p: Instance, margin_deg: float = 1.5) -> tuple[float, float, float, float]:
    lons = [s.lon for s in p.inputs.sites.values()] + [d.lon for d in p.inputs.destinations.values()]
    lats = [s.lat for s in p.inputs.sites.values()] + [d.lat for d in p.inputs.destinations.values()]
    return min(lons) - margin_deg, max(lons) + margin_deg, min(lats) - margin_deg, max(lats) + margin_deg


def _boundaries(p: Instance) -> gpd.GeoDataFrame | None:
    path = p.scenario.data.boundaries
    if path is None or not Path(path).is_file():
        return None
    frame = gpd.read_file(path)
    x0, x1, y0, y1 = _extent(p, 4.0)
    return frame[frame.intersects(shapely.box(x0, y0, x1, y1))]


def _outline(frame: gpd.GeoDataFrame) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geometry in frame.geometry.boundary:
        for line in getattr(geometry, "geoms", [geometry]):
            x, y = line.xy
            xs += [*x, None]
            ys += [*y, None]
    return xs, ys


def _colours(keys, palette) -> dict[str, str]:
    return {k: palette[i % len(palette)] for i, k in enumerate(sorted(keys))}


def html_map(result: RunResult, p: Instance, travel: TravelTimes, *,
             explanation: Mapping[str, Any] | None = None) -> go.Figure:
    """The interactive map; with an explanation, the binding rules under the map and each depot's reason in
    its hover text."""
    figure = go.Figure()
    why = {r["site_id"]: r["words"] for r in (explanation or {}).get("sites", [])}
    frame = _boundaries(p)
    if frame is not None:
        xs, ys = _outline(frame)
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#9a9a9a", "width": 0.8},
                                    name="borders", hoverinfo="skip"))
    system_colour = _colours(p.systems, SYSTEM_COLOURS)
    for w in p.systems:
        xs, ys, text = [], [], []
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
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"routes: {w}", text=text, hoverinfo="text",
                                    line={"color": system_colour[w], "width": 1.6}, opacity=0.75))
    host_colour = _colours(p.hosts, HOST_COLOURS)
    value = {s: sum(p.value[w] * n for (s2, w), n in result.stock.items() if s2 == s) for s in result.open_sites}
    for h in p.hosts:
        sites = [s for s in result.open_sites if p.host_of[s] == h]
        if not sites:
            continue
        figure.add_trace(go.Scatter(
            x=[p.inputs.sites[s].lon for s in sites], y=[p.inputs.sites[s].lat for s in sites], mode="markers",
            name=f"depots: {h} ({result.host_value_shares[h]:.1f}%)",
            marker={"size": [10 + 3 * math.sqrt(max(value[s], 0.0)) / 4 for s in sites], "color": host_colour[h],
                    "line": {"color": "black", "width": 1}},
            text=[f"{s} ({h}), {value[s]:.0f} M USD<br>" + ", ".join(
                f"{n} {w}" for (s2, w), n in result.stock.items() if s2 == s)
                + (f"<br>{_wrap(why[s])}" if s in why else "") for s in sites],
            hoverinfo="text",
        ))
    dests = list(p.inputs.destinations.values())
    figure.add_trace(go.Scatter(
        x=[d.lon for d in dests], y=[d.lat for d in dests], mode="markers", name="destinations",
        marker={"symbol": "star", "size": 11, "color": "gold", "line": {"color": "black", "width": 1}},
        text=[f"{d.destination_id} ({d.kind})" for d in dests], hoverinfo="text",
    ))
    x0, x1, y0, y1 = _extent(p)
    figure.update_layout(
        title=f"depotsite: {result.scenario} ({result.status}); mean time {result.terms['time_h']:.1f} h, "
              f"risk {result.terms['risk']:.1f}",
        xaxis={"range": [x0, x1], "title": "longitude", "showgrid": False},
        yaxis={"range": [y0, y1], "title": "latitude", "showgrid": False, "scaleanchor": "x",
               "scaleratio": 1 / math.cos(math.radians((y0 + y1) / 2))},
        plot_bgcolor="white", height=800, legend={"itemsizing": "constant"},
    )
    binding = [r["words"] for r in (explanation or {}).get("rules", []) if r["binding"]]
    if binding:
        figure.add_annotation(text="<b>rules that bind</b><br>" + "<br>".join(_wrap(w) for w in binding),
                              xref="paper", yref="paper", x=0, y=-0.08, yanchor="top", showarrow=False,
                              align="left", font={"size": 11})
        figure.update_layout(height=800 + 34 * sum(1 + len(w) // 150 for w in binding), margin={"b": 40 + 34 *
                             sum(1 + len(w) // 150 for w in binding)})
    return figure


def _wrap(text: str, width: int = 150) -> str:
    """Hover and annotation text broken into lines of about ``width`` characters."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


def png_map(path: Path, result: RunResult, p: Instance, travel: TravelTimes) -> None:
    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    frame = _boundaries(p)
    if frame is not None:
        frame.boundary.plot(ax=ax, color="#9a9a9a", linewidth=0.6)
    system_colour = _colours(p.systems, SYSTEM_COLOURS)
    for w in p.systems:
        first = True
        for x in result.deliveries:
            if x.system_id == w:
                lons, lats = zip(*route_points(p, travel, x), strict=True)
                ax.plot(lons, lats, color=system_colour[w], linewidth=1.0, alpha=0.7, label=w if first else None)
                first = False
    host_colour = _colours(p.hosts, HOST_COLOURS)
    for s in result.open_sites:
        site = p.inputs.sites[s]
        value = sum(p.value[w] * n for (s2, w), n in result.stock.items() if s2 == s)
        ax.scatter(site.lon, site.lat, s=30 + 2 * value ** 0.75 / 3, color=host_colour[site.host_id],
                   edgecolor="black", zorder=3)
        ax.annotate(s, (site.lon, site.lat), fontsize=7, xytext=(4, 4), textcoords="offset points")
    for d in p.inputs.destinations.values():
        ax.scatter(d.lon, d.lat, marker="*", s=90, color="gold", edgecolor="black", zorder=3)
    x0, x1, y0, y1 = _extent(p)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{result.scenario}: depots by host (size = value), routes by system")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_maps(folder: Path, result: RunResult, p: Instance, travel: TravelTimes, *,
               explanation: Mapping[str, Any] | None = None) -> None:
    html_map(result, p, travel, explanation=explanation).write_html(folder / "map.html", include_plotlyjs=True,
                                                                     full_html=True)
    png_map(folder / "map.png", result, p, travel)
