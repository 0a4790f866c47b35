"""``map.png``: the posture as a map for a briefing, in the equal-area LAEA Europe projection (EPSG:3035).

The shipped country boundaries are the base, each host holding stock shaded in its host colour. Depots
are coloured by host and sized by the units they hold; routes are drawn per system in the system's
colour, the system with the most units first, widest and underneath, each smaller fleet narrower, in its
own line style and on top, so HIMARS on the roads the Leopards use stays visible. Every depot (site id)
and destination (name) is labelled, each label at the first of a few offsets where it overlaps no marker
and no earlier label. Three legends name the hosts, the systems and the marker sizes; the title gives the
run's name, its terms and every override.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.transforms import Bbox
from pyproj import Transformer

from depotsite.network import laea
from depotsite.output.basemap import HOST_COLOURS, SYSTEM_COLOURS, colours, simplified_boundaries
from depotsite.output.geojson import route_points
from depotsite.output.units import risk_unit

if TYPE_CHECKING:
    from depotsite.instance import Instance
    from depotsite.overrides import Override
    from depotsite.results import RunResult
    from depotsite.traveltimes import TravelTimes

CRS = "EPSG:3035"  # ETRS89 / LAEA Europe: equal area, metres
LAEA_EUROPE = laea.forward(**laea.EPSG_3035)
"""The operation PROJ picks from EPSG:4326 (lon/lat order) to ``CRS``, written out (``depotsite.network.laea``)."""
MARGIN_M = 120_000.0
LINE_STYLES: list[Any] = ["-", (0, (6, 2)), (0, (4, 1.5, 1, 1.5)), (0, (1.5, 1.2))]
SIZE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
LABEL_OFFSETS = (
    (5, 5, "left", "bottom"),
    (-5, 5, "right", "bottom"),
    (5, -5, "left", "top"),
    (-5, -5, "right", "top"),
    (8, 0, "left", "center"),
    (-8, 0, "right", "center"),
    (0, 10, "center", "bottom"),
    (0, -10, "center", "top"),
)
MAX_OVERRIDE_LINES = 3
HALO = [patheffects.withStroke(linewidth=2.2, foreground="white", alpha=0.85)]  # labels legible over routes


def marker_area(units: int) -> float:
    """Marker area (points squared) of a depot holding ``units``: proportional to the units, plus a floor."""
    return 18.0 + 4.5 * units


def briefing_figure(result: RunResult, p: Instance, travel: TravelTimes, *, changes: Sequence[Override] = ()) -> Figure:
    """The briefing map of a posture as a matplotlib figure (its axes in EPSG:3035 metres).

    Parameters
    ----------
    result, p, travel
        The posture, the resolved numbers of its model and the travel times it used.
    changes
        The overrides of the run (``depotsite.scenario.resolve_scenario``), listed under the title.

    Returns
    -------
    Figure
        One map axes (``gid`` ``"map"``) with its legends, outside pyplot's figure registry (nothing to
        close; it is freed with its last reference). ``savefig`` draws it with matplotlib's Agg renderer.
    """
    fig = Figure(figsize=(12.5, 8.5), dpi=110)
    FigureCanvasAgg(fig)  # the labels' placement measures text with its renderer
    ax = fig.add_axes((0.02, 0.03, 0.72, 0.84), gid="map")
    project = Transformer.from_pipeline(LAEA_EUROPE).transform
    host_colour, system_colour = colours(p.hosts, HOST_COLOURS), colours(p.systems, SYSTEM_COLOURS)
    held = {p.host_of[s] for (s, _), n in result.stock.items() if n > 0}
    _base(ax, p, {h: host_colour[h] for h in held}, project)
    _graticule(ax, p, project)
    styles = _routes(ax, result, p, travel, project, system_colour)
    anchors = _depots(ax, result, p, project, host_colour) + _destinations(ax, p, project)
    _frame(ax, p, project)
    ax.apply_aspect()
    _labels(ax, anchors)
    _legends(ax, result, p, host_colour, held, styles)
    ax.set_title(_title(result, changes), loc="left", fontsize=10)
    return fig


def _base(ax: Axes, p: Instance, shaded: dict[str, str], project) -> None:
    """The countries in LAEA metres, each polygon one path of a collection (as geopandas draws them, without
    importing geopandas and pandas), and each host holding stock shaded over them in its colour. The
    outlines are those ``map.html`` draws, simplified to ``OUTLINE_TOLERANCE_DEG`` (``simplified_boundaries``):
    under a pixel, and a tenth of the vertices to project and draw."""
    shapes = simplified_boundaries(p)
    if shapes is None:
        return
    paths = [(props.get("country_id"), _polygon_paths(geometry, project)) for props, geometry in shapes]
    ax.add_collection(
        PathCollection(
            [path for _, parts in paths for path in parts],
            facecolor="#f4f4f2",
            edgecolor="#a0a0a0",
            linewidth=0.5,
            zorder=0,
        )
    )
    for h, colour in shaded.items():
        hosts = [path for country, parts in paths if country == h for path in parts]
        if hosts:
            ax.add_collection(
                PathCollection(hosts, facecolor=colour, alpha=0.16, edgecolor="#808080", linewidth=0.6, zorder=0.5)
            )
    ax.autoscale_view()


def _polygon_paths(geometry: Any, project) -> list[Path]:
    """A matplotlib path per polygon of a (multi)polygon, its holes as further closed rings, projected (all
    the geometry's vertices in one call of ``project``)."""
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon" and not g.is_empty]
    rings = [[np.asarray(ring.coords) for ring in (polygon.exterior, *polygon.interiors)] for polygon in polygons]
    if not rings:
        return []
    lon, lat = np.concatenate([r for parts in rings for r in parts]).T
    xy = np.column_stack(project(lon, lat))
    paths, start = [], 0
    for parts in rings:
        codes = np.full(sum(len(r) for r in parts), Path.LINETO, dtype=Path.code_type)
        at = 0
        for r in parts:
            codes[at], codes[at + len(r) - 1] = Path.MOVETO, Path.CLOSEPOLY
            at += len(r)
        paths.append(Path(xy[start : start + at], codes))
        start += at
    return paths


def _places(p: Instance) -> tuple[list[float], list[float]]:
    """Longitudes and latitudes of every candidate site and destination: what the map must show."""
    sites, dests = p.inputs.sites.values(), p.inputs.destinations.values()
    return [s.lon for s in sites] + [d.lon for d in dests], [s.lat for s in sites] + [d.lat for d in dests]


def _graticule(ax: Axes, p: Instance, project) -> None:
    """Meridians and parallels every 5 degrees, faint: the reader's bearings in a projection without axes."""
    lons, lats = _places(p)
    lon_range = range(5 * math.floor(min(lons) / 5 - 2), 5 * math.ceil(max(lons) / 5 + 2) + 1, 5)
    lat_range = range(5 * math.floor(min(lats) / 5 - 2), 5 * math.ceil(max(lats) / 5 + 2) + 1, 5)
    steps = [i / 4 for i in range(4 * (lat_range[-1] - lat_range[0]) + 1)]
    for lon in lon_range:
        ax.plot(*project([lon] * len(steps), [lat_range[0] + s for s in steps]), color="#d0d0d0", lw=0.4, zorder=0.2)
    steps = [i / 4 for i in range(4 * (lon_range[-1] - lon_range[0]) + 1)]
    for lat in lat_range:
        ax.plot(*project([lon_range[0] + s for s in steps], [lat] * len(steps)), color="#d0d0d0", lw=0.4, zorder=0.2)


def _routes(
    ax: Axes, result: RunResult, p: Instance, travel: TravelTimes, project, system_colour: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """One line collection per system (``gid`` ``routes:<system>``), the largest fleet first and underneath."""
    units = {w: sum(x.units for x in result.deliveries if x.system_id == w) for w in p.systems}
    order = sorted(p.systems, key=lambda w: (-units[w], w))
    styles: dict[str, dict[str, Any]] = {}
    for rank, w in enumerate(order):
        style = {
            "color": system_colour[w],
            "linestyle": LINE_STYLES[rank % len(LINE_STYLES)],
            "linewidth": max(3.4 - 0.8 * rank, 0.9),
        }
        segments = []
        for x in result.deliveries:
            if x.system_id == w:
                lons, lats = zip(*route_points(p, travel, x), strict=True)
                segments.append(list(zip(*project(lons, lats), strict=True)))
        ax.add_collection(
            LineCollection(
                segments,
                colors=style["color"],
                linestyles=style["linestyle"],
                linewidths=style["linewidth"],
                alpha=0.55 if rank == 0 else 0.9,
                capstyle="round",
                zorder=2 + rank,
                gid=f"routes:{w}",
                label=w,
            )
        )
        styles[w] = {**style, "units": units[w], "routes": len(segments)}
    return styles


def _depots(
    ax: Axes, result: RunResult, p: Instance, project, host_colour: dict[str, str]
) -> list[tuple[str, float, float, float, dict[str, Any]]]:
    """One scatter per host (``gid`` ``depots:<host>``); the label anchors of the depots."""
    anchors = []
    for h in p.hosts:
        sites = [s for s in result.open_sites if p.host_of[s] == h]
        if not sites:
            continue
        xs, ys = project([p.inputs.sites[s].lon for s in sites], [p.inputs.sites[s].lat for s in sites])
        held = [sum(n for (s2, _), n in result.stock.items() if s2 == s) for s in sites]
        sizes = [marker_area(n) for n in held]
        ax.scatter(
            xs, ys, s=sizes, color=host_colour[h], edgecolor="black", linewidth=0.8, zorder=10, gid=f"depots:{h}"
        )
        style = {"fontsize": 7, "color": "#202020"}
        anchors += [(s, x, y, math.sqrt(a) / 2, style) for s, x, y, a in zip(sites, xs, ys, sizes, strict=True)]
    return anchors


def _destinations(ax: Axes, p: Instance, project) -> list[tuple[str, float, float, float, dict[str, Any]]]:
    dests = list(p.inputs.destinations.values())
    xs, ys = project([d.lon for d in dests], [d.lat for d in dests])
    ax.scatter(xs, ys, marker="*", s=110, color="gold", edgecolor="black", linewidth=0.7, zorder=11, gid="destinations")
    style = {"fontsize": 6.5, "color": "#5a4a00", "fontstyle": "italic"}
    return [(d.name, x, y, 6.0, style) for d, x, y in zip(dests, xs, ys, strict=True)]


def _frame(ax: Axes, p: Instance, project) -> None:
    """Limits around every candidate site and destination, equal aspect, a scale bar and the projection."""
    xs, ys = project(*_places(p))
    x0, x1, y0, y1 = min(xs) - MARGIN_M, max(xs) + MARGIN_M, min(ys) - MARGIN_M, max(ys) + MARGIN_M
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_anchor("NW")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("easting (m, EPSG:3035)", fontsize=7, color="#707070")
    ax.set_ylabel("northing (m, EPSG:3035)", fontsize=7, color="#707070")
    length_m = next(v * 1000.0 for v in (1000, 500, 250, 100, 50, 20, 10, 5, 1) if v * 1000.0 <= (x1 - x0) / 5)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length_m], [by, by], color="black", lw=2.5, solid_capstyle="butt", zorder=12)
    ax.text(
        bx + length_m / 2,
        by + 0.012 * (y1 - y0),
        f"{length_m / 1000:.0f} km",
        ha="center",
        va="bottom",
        fontsize=7,
        zorder=12,
    )
    ax.text(
        0.995,
        0.005,
        "LAEA Europe (EPSG:3035), equal-area; boundaries: the run's boundaries file",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
        color="#707070",
    )


def _labels(ax: Axes, anchors: list[tuple[str, float, float, float, dict[str, Any]]]) -> None:
    """Each label (``gid`` ``label``) at the first offset where it stays inside the map and overlaps no
    other marker and no earlier label; at the first offset when none does."""
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    scale = ax.figure.dpi / 72.0
    markers = []
    for _, x, y, r, _ in anchors:
        cx, cy = ax.transData.transform((x, y))
        markers.append(Bbox.from_extents(cx - r * scale, cy - r * scale, cx + r * scale, cy + r * scale))
    inside = ax.get_window_extent(renderer)
    placed: list[Bbox] = []
    for i, (text, x, y, r, style) in enumerate(anchors):
        others = [*markers[:i], *markers[i + 1 :], *placed]
        label = None
        for offset in LABEL_OFFSETS:
            label = _annotate(ax, text, (x, y), offset, 0.7 * r, style)
            box = label.get_window_extent(renderer)
            if (
                inside.contains(box.x0, box.y0)
                and inside.contains(box.x1, box.y1)
                and not any(box.overlaps(b) for b in others)
            ):
                break
            label.remove()
            label = None
        if label is None:
            label = _annotate(ax, text, (x, y), LABEL_OFFSETS[0], 0.7 * r, style)
        placed.append(label.get_window_extent(renderer))


def _annotate(
    ax: Axes,
    text: str,
    xy: tuple[float, float],
    offset: tuple[float, float, str, str],
    pad: float,
    style: dict[str, Any],
) -> Any:
    dx, dy, ha, va = offset
    shift = (dx + math.copysign(pad, dx) if dx else 0.0, dy + math.copysign(pad, dy) if dy else 0.0)
    return ax.annotate(
        text,
        xy,
        xytext=shift,
        textcoords="offset points",
        ha=ha,
        va=va,
        zorder=13,
        gid="label",
        path_effects=HALO,
        **style,
    )


def _legends(
    ax: Axes,
    result: RunResult,
    p: Instance,
    host_colour: dict[str, str],
    held: set[str],
    styles: dict[str, dict[str, Any]],
) -> None:
    """Hosts (colour, share of value), systems (line, units, routes) and marker sizes, stacked at the right."""
    names = {h: p.inputs.hosts[h].name for h in p.hosts}
    hosts: list[tuple[Any, str]] = [
        (Patch(facecolor=host_colour[h], edgecolor="black"), f"{h} {names[h]}: {result.host_value_shares[h]:.1f}%")
        for h in p.hosts
        if h in held
    ]
    empty = [h for h in p.hosts if h not in held]
    if empty:
        hosts.append((Patch(facecolor="#f4f4f2", edgecolor="#a0a0a0"), f"none held: {', '.join(empty)}"))
    systems = [
        (
            Line2D([], [], color=s["color"], linestyle=s["linestyle"], linewidth=s["linewidth"]),
            f"{w}: {s['units']} units, {s['routes']} routes",
        )
        for w, s in styles.items()
    ]
    held_at = [sum(n for (s2, _), n in result.stock.items() if s2 == s) for s in result.open_sites]
    biggest = max(held_at, default=1)
    steps = [n for n in SIZE_STEPS if n <= 1.3 * biggest][-3:]
    sizes = [
        (
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=math.sqrt(marker_area(n)),
                markerfacecolor="#c8c8c8",
                markeredgecolor="black",
            ),
            f"{n} units",
        )
        for n in steps
    ]
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    top = 1.0
    for title, entries, spacing in (
        ("depots by host (share of value)", hosts, 0.6),
        ("routes by system", systems, 0.6),
        ("units held at a depot", sizes, 1.6),
    ):
        legend = Legend(
            ax,
            [e[0] for e in entries],
            [e[1] for e in entries],
            title=title,
            loc="upper left",
            bbox_to_anchor=(1.02, top),
            fontsize=8,
            title_fontsize=9,
            frameon=False,
            alignment="left",
            labelspacing=spacing,
            borderaxespad=0.0,
            handlelength=2.8,
        )
        ax.add_artist(legend)
        legend.set_clip_on(False)  # add_artist clips to the map; the legends stand beside it
        top = legend.get_window_extent(renderer).transformed(ax.transAxes.inverted()).y0 - 0.04


def _title(result: RunResult, changes: Sequence[Override]) -> str:
    t = result.terms
    lines = [
        f"{result.scenario}: where the package is held and how it reaches Ukraine",
        f"{result.time_measure} time {t['time_h']:.1f} h · risk ({result.risk_measure}) {t['risk']:.2f} "
        f"{risk_unit(result.risk_measure, short=True)} · cost {t['cost_musd']:.0f} M USD · "
        f"{len(result.open_sites)} sites open · {result.status}",
    ]
    if changes:
        wrapped = textwrap.wrap("overrides: " + "; ".join(c.describe() for c in changes), 130)
        if len(wrapped) > MAX_OVERRIDE_LINES:
            keep = MAX_OVERRIDE_LINES - 1
            wrapped = [*wrapped[:keep], f"{wrapped[keep]} ... (summary.json lists all)"]
        lines += wrapped
    return "\n".join(lines)
