"""Write the outputs of the trade-off commands: Pareto front, stress test, alternatives.

Every Pareto point and every alternative is written as a full run folder (``write_run_into``: allocation,
deliveries, summary, GeoJSON, the resolved scenario and a manifest), so ``compare``, ``verify``,
``report`` and ``stress`` work on it. Its resolved scenario is the run's scenario with the bound that made
the posture, where a scenario key can state it (a Pareto point's risk cap, for the ``max_host_share``
measure, as a value cap on every host); its name and description say which point or alternative it is and
``summary.json`` records the bound. Maps are left out of these folders (one per posture would be large).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from depotsite.analysis.stress import StressCase
from depotsite.analysis.tradeoffs import Alternative, FrontPoint
from depotsite.instance import Instance
from depotsite.output.outdir import atomic_folder
from depotsite.output.runfolder import risk_unit, write_run_into
from depotsite.overrides import MISSING, Override, name_override
from depotsite.results import RunResult
from depotsite.tables import write_csv
from depotsite.tomlfile import toml_value
from depotsite.traveltimes import TravelTimes

MAX_NAME_CHARS = 120  # of the scenario's name inside a derived run's name (the name may hold 200)
MAX_QUOTED_CHARS = 1_500  # of the scenario's description inside a derived run's description


@dataclass(frozen=True)
class Provenance:
    """What every run folder of a trade-off command records: travel times, command line and overrides."""

    travel: TravelTimes
    command: list[str]
    overrides: tuple[str, ...] = ()
    changes: tuple[Override, ...] = ()


@dataclass(frozen=True)
class DerivedRun:
    """A posture of a trade-off command as a run of its own: instance, result, overrides and bound."""

    instance: Instance
    result: RunResult
    overrides: tuple[str, ...]
    changes: tuple[Override, ...]
    bound: dict[str, Any]


def weighted_objective(p: Instance, result: RunResult) -> float:
    """The scenario's weighted objective at a posture (a Pareto point minimised one term, not this)."""
    w = p.scenario.objective
    return (
        w.time_weight * result.terms["time_h"]
        + w.risk_weight * result.terms["risk"]
        + w.cost_weight * result.terms["cost_musd"]
    )


def derive_run(
    p: Instance,
    result: RunResult,
    provenance: Provenance,
    *,
    label: str,
    explanation: str,
    caps: dict[str, float],
    bound: dict[str, Any],
    objective: float | None = None,
) -> DerivedRun:
    """The run of one posture of a trade-off command, named ``<scenario>, <label>``.

    ``caps`` (host -> value share) are added to the scenario as ``hosts.<id>.max_value_share`` where they
    are tighter than its own, and recorded as overrides (so ``verify --scenario`` reproduces them); the
    description is ``explanation`` followed by the scenario's own, quoted. ``objective`` replaces the
    result's (a Pareto point's solver objective is one term, not the scenario's weighted objective).
    """
    sc = p.scenario
    name = f"{sc.name[:MAX_NAME_CHARS]}, {label}"
    quoted = sc.description if len(sc.description) <= MAX_QUOTED_CHARS else sc.description[:MAX_QUOTED_CHARS] + "..."
    description = f'{explanation} The scenario of {sc.name[:MAX_NAME_CHARS]}: "{quoted}"' if quoted else explanation
    dump = sc.model_dump()
    changes, overrides = [], []
    for h, cap in caps.items():
        old = sc.hosts[h].max_value_share if h in sc.hosts else None
        if old is not None and old <= cap:
            continue
        dump["hosts"].setdefault(h, {})["max_value_share"] = cap
        changes.append(Override(f"hosts.{h}.max_value_share", MISSING if old is None else old, cap, label))
        overrides.append(f"hosts.{h}.max_value_share={cap!r}")
    dump.update(name=name, description=description)
    scenario = type(sc).model_validate(dump)
    return DerivedRun(
        instance=replace(p, scenario=scenario, name=name),
        result=replace(result, scenario=name, objective=result.objective if objective is None else objective),
        overrides=(*provenance.overrides, *overrides, name_override(name), f"description={toml_value(description)}"),
        changes=(*provenance.changes, *changes),
        bound=bound,
    )


def pareto_point_run(p: Instance, point: FrontPoint, index: int, points: int, provenance: Provenance) -> DerivedRun:
    """A Pareto point as a run: its risk bound as host caps (``max_host_share``) and in its description."""
    measure, unit = p.scenario.objective.risk, risk_unit(p.scenario.objective.risk)
    explanation = (
        f"Pareto point {index} of {points}: the posture with the least {p.scenario.objective.time} "
        f"time whose risk ({measure}) is at most {point.epsilon:.6g} {unit}, then the least risk at that "
        "time; its objective is the scenario's weighted objective at this posture."
    )
    caps = {h: point.epsilon / 100.0 for h in p.hosts} if measure == "max_host_share" else {}
    bound = {
        "kind": "pareto_point",
        "point": index,
        "points": points,
        "risk_measure": measure,
        "risk_unit": unit,
        "epsilon": point.epsilon,
        "stated_as_host_caps": bool(caps),
        "method": "minimise time with risk <= epsilon, then risk with time <= that optimum",
    }
    return derive_run(
        p,
        point.result,
        provenance,
        label=f"Pareto point {index}",
        explanation=explanation,
        caps=caps,
        bound=bound,
        objective=weighted_objective(p, point.result),
    )


def _write_member(folder: Path, run: DerivedRun, provenance: Provenance) -> None:
    """One member of a front or a set of alternatives as a full run folder (no maps), checked first."""
    write_run_into(
        folder,
        run.result,
        run.instance,
        provenance.travel,
        command=provenance.command,
        overrides=run.overrides,
        changes=run.changes,
        maps=False,
        bound=run.bound,
    )


def write_front(out: Path, front: list[FrontPoint], knee_index: int, p: Instance, *, provenance: Provenance) -> None:
    """``front.csv``, ``front.png``, a summary and every point as a run folder ``point_NN``."""
    with atomic_folder(out, kind="pareto") as folder:
        rows = []
        for i, point in enumerate(front):
            name = f"point_{i:02d}"
            run = pareto_point_run(p, point, i, len(front), provenance)
            _write_member(folder / name, run, provenance)
            r = point.result
            rows.append(
                [
                    i,
                    f"{point.epsilon:.10g}",
                    f"{r.terms['time_h']:.10g}",
                    f"{r.terms['risk']:.10g}",
                    f"{r.terms['cost_musd']:.3f}",
                    r.status,
                    f"{r.gap:.6g}",
                    name,
                    f"{name}/allocation.csv",
                    "yes" if i == knee_index else "",
                ]
            )
        write_csv(
            folder / "front.csv",
            ["point", "epsilon", "time_h", "risk", "cost_musd", "status", "gap", "run", "allocation", "knee"],
            rows,
        )
        knee = front[knee_index].result
        (folder / "summary.json").write_text(
            json.dumps(
                {
                    "scenario": p.scenario.name,
                    "points": len(front),
                    "risk_measure": p.scenario.objective.risk,
                    "risk_unit": risk_unit(p.scenario.objective.risk),
                    "time_measure": p.scenario.objective.time,
                    "knee": {
                        "point": knee_index,
                        "run": f"point_{knee_index:02d}",
                        "time_h": knee.terms["time_h"],
                        "risk": knee.terms["risk"],
                        "cost_musd": knee.terms["cost_musd"],
                        "open_sites": list(knee.open_sites),
                    },
                },
                indent=2,
            )
            + "\n"
        )
        (folder / "scenario.resolved.toml").write_text(p.scenario.to_toml())
        _front_png(folder / "front.png", front, knee_index, p)


def _front_png(path: Path, front: list[FrontPoint], knee_index: int, p: Instance) -> None:
    figure = front_figure(front, knee_index, p)
    try:
        figure.savefig(path)
    finally:
        plt.close(figure)


def front_figure(front: Sequence[FrontPoint], knee_index: int, p: Instance) -> Figure:
    """The Pareto front as a figure: time against risk, every point labelled with its number (the
    ``point_NN`` run folder), the knee circled and named.

    Parameters
    ----------
    front
        The points, in the order of their run folders.
    knee_index
        The knee's position in ``front``.
    p
        The instance: the risk and time measures and the scenario's name for the axes and title.

    Returns
    -------
    Figure
        One axes; labels are ``Text`` artists whose text is the point number (gid ``point``).
    """
    fig, ax = plt.subplots(figsize=(7.5, 5.5), dpi=110)
    times = [pt.result.terms["time_h"] for pt in front]
    risks = [pt.result.terms["risk"] for pt in front]
    ax.plot(risks, times, "o-", color="#1f77b4", zorder=2)
    for i, (risk, time) in enumerate(zip(risks, times, strict=True)):
        ax.annotate(
            str(i),
            (risk, time),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=8,
            gid="point",
            fontweight="bold" if i == knee_index else "normal",
        )
    ax.plot(
        [risks[knee_index]],
        [times[knee_index]],
        "o",
        markersize=14,
        markerfacecolor="none",
        markeredgecolor="#d62728",
        markeredgewidth=2,
        zorder=3,
        label=f"knee: point {knee_index} ({times[knee_index]:.1f} h, {risks[knee_index]:.3g})",
    )
    ax.annotate(
        "knee",
        (risks[knee_index], times[knee_index]),
        xytext=(14, -16),
        textcoords="offset points",
        fontsize=8,
        color="#d62728",
        gid="knee",
        arrowprops={"arrowstyle": "-", "color": "#d62728"},
    )
    ax.set_xlabel(f"risk: {p.scenario.objective.risk} ({risk_unit(p.scenario.objective.risk)})")
    ax.set_ylabel(f"time: {p.scenario.objective.time} time-to-availability (hours)")
    ax.set_title(
        f"{p.scenario.name}: time vs concentration risk ({len(front)} points, run folders point_NN)", fontsize=10
    )
    ax.margins(0.08)  # room for the labels of the end points
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_stress(out: Path, cases: list[StressCase], p: Instance) -> None:
    """``stress.csv``: one row per lost set, worst first (by the value that cannot be delivered)."""
    with atomic_folder(out, kind="stress") as folder:
        header = ["lost_hosts", "value_short_pct", "value_lost_pct", "units_short", "systems_short"]
        for w in p.systems:
            header += [f"{w}_short", f"{w}_mean_h", f"{w}_worst_h"]
        rows = []
        for c in cases:
            row = [
                "+".join(c.lost),
                f"{c.value_short_pct:.4f}",
                f"{c.value_lost_pct:.4f}",
                c.total_short,
                ";".join(c.systems_short),
            ]
            for w in p.systems:
                row += [
                    c.short[w],
                    "" if c.mean_h[w] is None else f"{c.mean_h[w]:.4f}",
                    "" if c.worst_h[w] is None else f"{c.worst_h[w]:.4f}",
                ]
            rows.append(row)
        write_csv(folder / "stress.csv", header, rows)


def alternative_run(
    p: Instance, best: RunResult, alt: Alternative | None, within_pct: float, provenance: Provenance
) -> DerivedRun:
    """The optimum (``alt`` None) or an alternative as a run; the allowance and the no-good cuts that made
    it are in its description and bound (no scenario key states them)."""
    if alt is None:
        explanation = (
            f"The optimum of the alternatives search (alternatives are within {within_pct:g}% of its "
            f"objective, {best.objective:.6g})."
        )
        return derive_run(
            p,
            best,
            provenance,
            label="optimum",
            explanation=explanation,
            caps={},
            bound={"kind": "optimum", "within_pct": within_pct},
        )
    explanation = (
        f"Alternative {alt.rank}: a posture whose weighted objective is within {within_pct:g}% of the "
        f"optimum's ({best.objective:.6g}) and whose open sites differ from the optimum's and every "
        f"earlier alternative's; against the optimum it {alt.difference}."
    )
    bound = {
        "kind": "alternative",
        "rank": alt.rank,
        "within_pct": within_pct,
        "optimum_objective": best.objective,
        "objective_at_most": best.objective * (1 + within_pct / 100),
        "difference": alt.difference,
        "method": "no-good cuts on the open sites of the optimum and every earlier alternative",
    }
    return derive_run(
        p, alt.result, provenance, label=f"alternative {alt.rank}", explanation=explanation, caps={}, bound=bound
    )


def write_alternatives(
    out: Path, best: RunResult, found: list[Alternative], p: Instance, *, within_pct: float, provenance: Provenance
) -> None:
    """``alternatives.csv`` and the optimum and every alternative as run folders."""
    with atomic_folder(out, kind="alternatives") as folder:
        rows = []
        for alt in (None, *found):
            name = "optimum" if alt is None else f"alternative_{alt.rank:02d}"
            run = alternative_run(p, best, alt, within_pct, provenance)
            _write_member(folder / name, run, provenance)
            r = run.result
            rows.append(
                [
                    0 if alt is None else alt.rank,
                    "optimum" if alt is None else alt.difference,
                    f"{r.objective:.6f}",
                    f"{r.terms['time_h']:.4f}",
                    f"{r.terms['risk']:.4f}",
                    f"{r.terms['cost_musd']:.2f}",
                    ";".join(r.open_sites),
                    name,
                    f"{name}/allocation.csv",
                ]
            )
        write_csv(
            folder / "alternatives.csv",
            ["rank", "difference", "objective", "time_h", "risk", "cost_musd", "open_sites", "run", "allocation"],
            rows,
        )
