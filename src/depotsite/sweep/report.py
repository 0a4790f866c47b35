"""A sweep's outputs: the case table (Parquet and CSV), site frequencies, the tornado table, figures, manifest.

``cases.parquet`` / ``cases.csv``: one row per case, with the values of every varied key, the status and
message, the objective and its terms, every host's value share, every system's mean and worst hours, the open
sites, and with ``--posture`` the fixed posture's time, shortfall, objective and regret. ``sites.csv``: how
often each candidate site is open over the cases with a posture and its mean stock. ``tornado.csv``: for each
varied key, the mean objective at its lowest and highest setting (a grid key's values; an uncertain key's
draws below and above their median), largest swing first. ``robustness.html`` shows them with the figures.
"""

from __future__ import annotations

import json
import platform
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from depotsite import __version__
from depotsite.output.outdir import marker, write_atomically
from depotsite.output.robustness import Tornado, write_figures, write_html
from depotsite.output.runfolder import data_files
from depotsite.sweep.spec import SweepPlan
from depotsite.sweep.tasks import FAILED
from depotsite.tables import file_sha256
from depotsite.tomlfile import toml_value

OUTPUTS = (
    "cases.parquet",
    "cases.csv",
    "sites.csv",
    "tornado.csv",
    "robustness.html",
    "time_risk.png",
    "sites.png",
    "tornado.png",
)
"""The files a finished sweep writes beside ``tasks/`` and ``manifest.json``."""
TERM_COLUMNS = ("objective", "gap", "time_h", "risk", "cost_musd")


def clear_outputs(folder: Path, plan: SweepPlan) -> None:
    """Remove the outputs of an earlier run and mark the folder as a sweep in progress."""
    for name in OUTPUTS:
        (folder / name).unlink(missing_ok=True)
    doc = {**marker("sweep"), "complete": False, "sweep": plan.name, "sweep_file": str(plan.path)}
    write_atomically(folder / "manifest.json", json.dumps(doc, indent=2) + "\n")


def _cell(value: Any) -> Any:
    """A key's value as a table cell: numbers stay numbers, anything else its TOML text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return toml_value(value)
    return float(value)


def cases_frame(plan: SweepPlan, results: tuple[dict[str, Any], ...]) -> pd.DataFrame:
    """One row per case (see the module docstring), in the sweep's case order."""
    inputs = plan.inputs[plan.cases[0].case_id]
    hosts, systems = list(inputs.hosts), [w for w, n in inputs.requirement.items() if n > 0]
    with_posture = any("posture" in r for r in results)
    rows = []
    for case, r in zip(plan.cases, results, strict=True):
        row: dict[str, Any] = {"case_id": case.case_id, "grid_index": case.grid_index, "draw": case.draw}
        row |= {key: _cell(case.values[key]) for key in plan.keys}
        row |= {"status": r["status"], "message": r.get("message", "")}
        row |= {c: r.get(c) for c in TERM_COLUMNS}
        row["sites_open"] = len(r["open_sites"]) if "open_sites" in r else None
        row["open_sites"] = ";".join(r.get("open_sites", []))
        row |= {f"share_{h}": r.get("host_value_shares", {}).get(h) for h in hosts}
        times = r.get("system_times_h", {})
        for w in systems:
            row[f"mean_h_{w}"] = times.get(w, {}).get("mean")
            row[f"worst_h_{w}"] = times.get(w, {}).get("worst")
        if with_posture:
            fixed = r.get("posture", {})
            row["posture_status"] = fixed.get("status", "")
            row |= {f"posture_{c}": fixed.get(c) for c in ("time_h", "short_units", "short_value_pct", "objective")}
            for w in systems:
                row[f"posture_mean_h_{w}"] = fixed.get("system_times_h", {}).get(w, {}).get("mean")
                row[f"posture_worst_h_{w}"] = fixed.get("system_times_h", {}).get(w, {}).get("worst")
            row["regret_h"] = r.get("regret_h")
            row["regret_objective"] = r.get("regret_objective")
        row["task_s"] = r.get("task_s")
        row["worker"] = r.get("worker", "")
        rows.append(row)
    frame = pd.DataFrame(rows)
    numeric = [
        c for c in frame.columns if c not in ("case_id", "status", "message", "open_sites", "worker", "posture_status")
    ]
    for column in numeric:
        if all(v is None or isinstance(v, int | float) for v in frame[column]):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("grid_index", "draw"):
        frame[column] = frame[column].astype("Int64")
    return frame


def site_frequencies(plan: SweepPlan, results: tuple[dict[str, Any], ...]) -> pd.DataFrame:
    """Per candidate site: cases it is open in, their share of the cases with a posture, its mean stock."""
    inputs = plan.inputs[plan.cases[0].case_id]
    systems = [w for w, n in inputs.requirement.items() if n > 0]
    solved = [r for r in results if r["status"] not in FAILED]
    units: dict[tuple[str, str], int] = defaultdict(int)
    opened: dict[str, int] = defaultdict(int)
    for r in solved:
        for s in r["open_sites"]:
            opened[s] += 1
        for s, w, n in r["stock"]:
            units[s, w] += n
    n = len(solved)
    rows = []
    for s, site in inputs.sites.items():
        row: dict[str, Any] = {
            "site_id": s,
            "name": site.name,
            "host_id": site.host_id,
            "kind": site.kind,
            "lat": site.lat,
            "lon": site.lon,
            "cases_open": opened[s],
            "open_share": opened[s] / n if n else None,
            "mean_units": sum(units[s, w] for w in systems) / n if n else None,
        }
        row |= {f"mean_units_{w}": units[s, w] / n if n else None for w in systems}
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["cases_open", "site_id"], ascending=[False, True], kind="stable")


def tornado(plan: SweepPlan, frame: pd.DataFrame, column: str = "objective") -> list[Tornado]:
    """For each varied key: the mean of ``column`` at its lowest and highest setting, largest swing first.

    A grid key's settings are its values (the mean over every other key and draw at each); an uncertain
    key's are its draws at or below their median and above it (for a choice, each value). Only cases with a
    posture count; a key with a single setting among them is left out.

    Returns
    -------
    list of Tornado
        Key, the low and high settings in words, the means there, and the swing (high - low mean).
    """
    solved = frame[frame[column].notna()]
    bars = []
    for key in plan.keys:
        if solved.empty:
            break
        values = solved[key]
        numeric = pd.api.types.is_numeric_dtype(values)
        dist = plan.spec.uncertain.get(key)
        if dist is not None and dist.distribution != "choice" and numeric:
            median = float(values.median())
            low, high = solved[values <= median], solved[values > median]
            if low.empty or high.empty:
                continue
            bars.append(
                Tornado(
                    key,
                    f"<= {median:.4g}",
                    f"> {median:.4g}",
                    float(low[column].mean()),
                    float(high[column].mean()),
                    len(low),
                    len(high),
                )
            )
            continue
        means = solved.groupby(key, sort=True)[column].agg(["mean", "count"])
        if len(means) < 2:
            continue
        order = list(means.index) if numeric else sorted(means.index, key=lambda v: means.loc[v, "mean"])
        first, last = order[0], order[-1]
        label = (lambda v: f"{v:g}") if numeric else str
        bars.append(
            Tornado(
                key,
                label(first),
                label(last),
                float(means.loc[first, "mean"]),
                float(means.loc[last, "mean"]),
                int(means.loc[first, "count"]),
                int(means.loc[last, "count"]),
                spread=float(means["mean"].max() - means["mean"].min()),
            )
        )
    return sorted(bars, key=lambda b: (-b.range, b.key))


def _summary(frame: pd.DataFrame, columns: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for column in columns:
        if column not in frame:
            continue
        values = sorted(float(v) for v in frame[column].dropna())
        if not values:
            continue
        quantiles = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
        out[column] = {
            "min": values[0],
            "p10": quantiles[0],
            "median": statistics.median(values),
            "p90": quantiles[-1],
            "max": values[-1],
            "mean": statistics.fmean(values),
        }
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"depotsite": __version__, "python": platform.python_version()}
    for name in ("dask", "distributed", "pyarrow", "pandas", "pyomo", "highspy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_outputs(
    folder: Path,
    plan: SweepPlan,
    results: tuple[dict[str, Any], ...],
    *,
    posture_source: Path | None,
    command: list[str],
    cluster: str,
) -> None:
    """Write every output of a finished sweep (each file atomically), the manifest last."""
    frame = cases_frame(plan, results)
    staged = folder / ".cases.parquet.tmp"
    frame.to_parquet(staged, engine="pyarrow", index=False)
    staged.replace(folder / "cases.parquet")
    write_atomically(folder / "cases.csv", frame.to_csv(index=False, float_format="%.10g"))
    sites = site_frequencies(plan, results)
    write_atomically(folder / "sites.csv", sites.to_csv(index=False, float_format="%.6g"))
    bars = tornado(plan, frame)
    write_atomically(
        folder / "tornado.csv",
        pd.DataFrame(
            [
                {
                    "key": b.key,
                    "low": b.low,
                    "high": b.high,
                    "low_mean_objective": b.low_mean,
                    "high_mean_objective": b.high_mean,
                    "low_cases": b.low_cases,
                    "high_cases": b.high_cases,
                    "swing": b.high_mean - b.low_mean,
                    "range": b.range,
                }
                for b in bars
            ],
            columns=[
                "key",
                "low",
                "high",
                "low_mean_objective",
                "high_mean_objective",
                "low_cases",
                "high_cases",
                "swing",
                "range",
            ],
        ).to_csv(index=False, float_format="%.10g"),
    )
    counts = frame["status"].value_counts().to_dict()
    summary_columns = ["objective", "time_h", "risk", "cost_musd"]
    if "posture_time_h" in frame:
        summary_columns += ["posture_time_h", "posture_short_units", "regret_h", "regret_objective"]
    stats = _summary(frame, summary_columns)
    base = plan.base_scenario
    write_figures(folder, frame, sites, bars, boundaries=base.data.boundaries, risk_measure=base.objective.risk)
    write_html(
        folder / "robustness.html",
        title=f"{plan.name}: {len(frame)} cases",
        description=plan.description,
        counts=counts,
        stats=stats,
        bars=bars,
        sites=sites,
        posture=str(posture_source) if posture_source else None,
    )
    outputs = {name: file_sha256(folder / name) for name in OUTPUTS if (folder / name).is_file()}
    doc = {
        **marker("sweep"),
        "complete": True,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "sweep": plan.name,
        "sweep_file": {"path": str(plan.path), "sha256": file_sha256(plan.path)},
        "scenario": {"path": str(plan.base), "sha256": file_sha256(plan.base)},
        "inputs": {
            role: {"path": str(path.resolve()), "sha256": file_sha256(path)}
            for role, path in data_files(base.data).items()
        },
        "posture": None
        if posture_source is None
        else {
            "path": str(Path(posture_source).resolve()),
            "allocation_sha256": file_sha256(Path(posture_source) / "allocation.csv"),
        },
        "cases": len(frame),
        "statuses": {k: int(v) for k, v in sorted(counts.items())},
        "keys": list(plan.keys),
        "seed": plan.spec.seed,
        "draws": plan.spec.draws,
        "summary": stats,
        "cluster": cluster,
        "outputs": dict(sorted(outputs.items())),
        "tasks": len(list((folder / "tasks").glob("*.json"))),
        "versions": _versions(),
        "platform": platform.platform(),
    }
    write_atomically(folder / "manifest.json", json.dumps(doc, indent=2) + "\n")
