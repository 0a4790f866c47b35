"""A sweep's figures and its ``robustness.html``: distributions of time and risk, how often each site is open,
and which input moves the objective most (a tornado plot). Plain tables in, files out; no model code.

``time_risk.png``: histograms of the re-optimised time and risk over the cases with a posture (and of the
fixed posture's time, with ``--posture``). ``sites.png``: every candidate site at its coordinates over the
scenario's country boundaries, sized and shaded by the share of cases it is open in. ``tornado.png``: one
bar per varied key, from the mean objective at its lowest setting to that at its highest, largest first.
``robustness.html`` embeds the three figures (no network needed) beside the counts, the summary figures,
the tornado table and the most used sites.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from depotsite.output.outdir import write_atomically
from depotsite.output.units import risk_unit

FIGURES = ("time_risk.png", "tornado.png", "sites.png")
_SHOWN_SITES = 25


@dataclass(frozen=True)
class Tornado:
    """One bar of the tornado plot: a key, its lowest and highest setting and the mean objective at each."""

    key: str
    low: str
    high: str
    low_mean: float
    high_mean: float
    low_cases: int
    high_cases: int
    spread: float | None = None  # max - min of the means over every setting, when there are more than two

    @property
    def range(self) -> float:
        """How far the key moves the mean objective: over all its settings, else between the two ends."""
        return self.spread if self.spread is not None else abs(self.high_mean - self.low_mean)


def _save(figure, path: Path) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    try:
        figure.savefig(staged, format="png")
        staged.replace(path)
    finally:
        plt.close(figure)
        staged.unlink(missing_ok=True)


def time_risk_figure(frame: pd.DataFrame, *, risk_measure: str):
    """Histograms of time and risk over the cases with a posture (and the fixed posture's time)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    times = frame["time_h"].dropna()
    if len(times):
        left.hist(times, bins=min(30, max(5, len(times) // 3)), color="#1f77b4", alpha=0.8, label="re-optimised")
    if "posture_time_h" in frame and frame["posture_time_h"].notna().any():
        left.hist(
            frame["posture_time_h"].dropna(),
            bins=min(30, max(5, len(times) // 3)),
            color="#d62728",
            alpha=0.5,
            label="fixed posture",
        )
    left.set_xlabel("time to availability (hours)")
    left.set_ylabel("cases")
    labelled = left.get_legend_handles_labels()[0]  # each histogram on the left has a label
    if labelled:
        left.legend(fontsize=8)
    risks = frame["risk"].dropna()
    if len(risks):
        right.hist(risks, bins=min(30, max(5, len(risks) // 3)), color="#2ca02c", alpha=0.8)
    for ax, drawn in ((left, bool(labelled)), (right, len(risks) > 0)):
        if not drawn:  # every case failed: say so where the histogram would be
            ax.text(0.5, 0.5, "no case has a posture", ha="center", va="center", transform=ax.transAxes)
    right.set_xlabel(f"risk: {risk_measure} ({risk_unit(risk_measure)})")
    right.set_ylabel("cases")
    fig.suptitle(f"{len(times)} of {len(frame)} cases with a posture", fontsize=10)
    fig.tight_layout()
    return fig


def tornado_figure(bars: Sequence[Tornado]):
    """One horizontal bar per key from its low-setting mean objective to its high-setting one, largest on top."""
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.5 * max(1, len(bars))), dpi=100)
    for i, bar in enumerate(reversed(bars)):
        (lo, lo_label), (hi, hi_label) = sorted([(bar.low_mean, bar.low), (bar.high_mean, bar.high)])
        colour = "#d62728" if bar.high_mean > bar.low_mean else "#1f77b4"
        ax.barh(i, hi - lo or 1e-9, left=lo, color=colour, alpha=0.8)
        for x, label, sign in ((lo, lo_label, -1), (hi, hi_label, 1)):
            ax.annotate(
                label,
                (x, i),
                xytext=(4 * sign, 0),
                textcoords="offset points",
                ha="left" if sign > 0 else "right",
                va="center",
                fontsize=7,
            )
    ends = [m for b in bars for m in (b.low_mean, b.high_mean)]
    if ends:
        pad = 0.2 * ((max(ends) - min(ends)) or abs(max(ends)) or 1.0)
        ax.set_xlim(min(ends) - pad, max(ends) + pad)
    ax.set_yticks(range(len(bars)), [b.key for b in reversed(bars)], fontsize=8)
    ax.set_xlabel("mean objective at the key's lowest and highest setting (red: higher setting costs more)")
    ax.set_title("which input moves the objective most", fontsize=10)
    fig.tight_layout()
    return fig


def sites_figure(sites: pd.DataFrame, *, boundaries: Path | None):
    """Every candidate site at its coordinates, sized and shaded by the share of cases it is open in."""
    fig, ax = plt.subplots(figsize=(8, 7), dpi=100)
    lon0, lon1 = sites["lon"].min() - 1.5, sites["lon"].max() + 1.5
    lat0, lat1 = sites["lat"].min() - 1.5, sites["lat"].max() + 1.5
    if boundaries is not None and Path(boundaries).is_file():
        import geopandas as gpd

        countries = gpd.read_file(boundaries)
        countries.plot(ax=ax, color="#f2f2f2", edgecolor="#999999", linewidth=0.5)
    share = sites["open_share"].astype(float).fillna(0.0)  # all None (no case solved) is an object column
    points = ax.scatter(
        sites["lon"],
        sites["lat"],
        s=20 + 300 * share,
        c=share,
        cmap="viridis",
        vmin=0,
        vmax=1,
        edgecolors="black",
        linewidths=0.4,
        zorder=3,
    )
    for _, row in sites[share > 0].iterrows():
        ax.annotate(
            row["site_id"], (row["lon"], row["lat"]), xytext=(4, 4), textcoords="offset points", fontsize=6, zorder=4
        )
    fig.colorbar(points, ax=ax, label="share of cases open", shrink=0.7)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("how often each candidate site is open", fontsize=10)
    fig.tight_layout()
    return fig


def write_figures(
    folder: Path,
    frame: pd.DataFrame,
    sites: pd.DataFrame,
    bars: Sequence[Tornado],
    *,
    boundaries: Path | None,
    risk_measure: str,
) -> None:
    """``time_risk.png``, ``tornado.png`` and ``sites.png`` in ``folder``."""
    _save(time_risk_figure(frame, risk_measure=risk_measure), folder / "time_risk.png")
    _save(tornado_figure(bars), folder / "tornado.png")
    _save(sites_figure(sites, boundaries=boundaries), folder / "sites.png")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return str(value)


def write_html(
    path: Path,
    *,
    title: str,
    description: str,
    counts: Mapping[str, int],
    stats: Mapping[str, Mapping[str, float]],
    bars: Sequence[Tornado],
    sites: pd.DataFrame,
    posture: str | None,
) -> None:
    """``robustness.html``: counts, summary figures, the tornado table, the most used sites and the figures
    (embedded, so the page works with no network). Write the figures first."""
    images = "".join(
        f'<h2>{html.escape(name)}</h2><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode((path.parent / name).read_bytes()).decode()}">'
        for name in FIGURES
        if (path.parent / name).is_file()
    )
    shown = sites.head(_SHOWN_SITES)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(description)}</p>" if description else "",
        f"<p>Fixed posture: {html.escape(posture)}</p>" if posture else "",
        "<h2>cases by status</h2>",
        _table(["status", "cases"], sorted(counts.items())),
        "<h2>summary over the cases with a posture</h2>",
        _table(["figure", "min", "p10", "median", "p90", "max", "mean"], [[k, *v.values()] for k, v in stats.items()]),
        "<h2>which input moves the objective most</h2>",
        _table(
            ["key", "low setting", "mean objective", "high setting", "mean objective", "range"],
            [[b.key, b.low, b.low_mean, b.high, b.high_mean, b.range] for b in bars],
        ),
        "<h2>sites open most often</h2>",
        _table(
            ["site", "host", "cases open", "share open", "mean units"],
            [[r.site_id, r.host_id, r.cases_open, r.open_share, r.mean_units] for r in shown.itertuples()],
        ),
        images,
    ]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}img{max-width:100%}"
    )
    head = f'<meta charset="utf-8"><title>{html.escape(title)}</title><style>{style}</style>'
    page = f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>\n"
    write_atomically(path, page)
