"""Write the outputs of the trade-off commands: Pareto front, stress test, alternatives."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from depotsite.analysis.stress import StressCase
from depotsite.analysis.tradeoffs import Alternative, FrontPoint
from depotsite.instance import Instance
from depotsite.output.outdir import atomic_folder
from depotsite.output.runfolder import risk_unit
from depotsite.results import RunResult
from depotsite.tables import write_csv


def write_allocation(path: Path, result: RunResult, p: Instance) -> None:
    write_csv(path, ["site_id", "host_id", "system_id", "units"],
               [[s, p.host_of[s], w, n] for (s, w), n in result.stock.items()])


def write_front(out: Path, front: list[FrontPoint], knee_index: int, p: Instance) -> None:
    from depotsite.selfcheck import check_posture

    for point in front:  # each point minimises one term under a bound on the other: no weighted objective
        check_posture(point.result, p, objective=False)
    with atomic_folder(out, kind="pareto") as folder:
        rows = []
        for i, point in enumerate(front):
            name = f"point_{i:02d}"
            (folder / name).mkdir()
            write_allocation(folder / name / "allocation.csv", point.result, p)
            r = point.result
            rows.append([i, f"{point.epsilon:.10g}", f"{r.terms['time_h']:.10g}", f"{r.terms['risk']:.10g}",
                         f"{r.terms['cost_musd']:.3f}", r.status, f"{r.gap:.6g}", f"{name}/allocation.csv",
                         "yes" if i == knee_index else ""])
        write_csv(folder / "front.csv", ["point", "epsilon", "time_h", "risk", "cost_musd", "status", "gap",
                                          "allocation", "knee"], rows)
        knee = front[knee_index].result
        (folder / "summary.json").write_text(json.dumps({
            "scenario": p.scenario.name, "points": len(front), "risk_measure": p.scenario.objective.risk,
            "risk_unit": risk_unit(p.scenario.objective.risk), "time_measure": p.scenario.objective.time,
            "knee": {"point": knee_index, "time_h": knee.terms["time_h"], "risk": knee.terms["risk"],
                     "cost_musd": knee.terms["cost_musd"], "open_sites": list(knee.open_sites)},
        }, indent=2) + "\n")
        (folder / "scenario.resolved.toml").write_text(p.scenario.to_toml())
        fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
        times = [pt.result.terms["time_h"] for pt in front]
        risks = [pt.result.terms["risk"] for pt in front]
        ax.plot(risks, times, "o-", color="#1f77b4")
        ax.plot([risks[knee_index]], [times[knee_index]], "o", markersize=13, markerfacecolor="none",
                markeredgecolor="#d62728", markeredgewidth=2, label=f"knee (point {knee_index})")
        ax.set_xlabel(f"risk: {p.scenario.objective.risk} ({risk_unit(p.scenario.objective.risk)})")
        ax.set_ylabel(f"time: {p.scenario.objective.time} time-to-availability (hours)")
        ax.set_title(f"{p.scenario.name}: time vs concentration risk")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "front.png")
        plt.close(fig)


def write_stress(out: Path, cases: list[StressCase], p: Instance) -> None:
    with atomic_folder(out, kind="stress") as folder:
        header = ["lost_hosts", "units_short", "value_lost_pct"]
        for w in p.systems:
            header += [f"{w}_short", f"{w}_mean_h", f"{w}_worst_h"]
        rows = []
        for c in cases:
            row = ["+".join(c.lost), c.total_short, f"{c.value_lost_pct:.4f}"]
            for w in p.systems:
                row += [c.short[w], "" if c.mean_h[w] is None else f"{c.mean_h[w]:.4f}",
                        "" if c.worst_h[w] is None else f"{c.worst_h[w]:.4f}"]
            rows.append(row)
        write_csv(folder / "stress.csv", header, rows)


def write_alternatives(out: Path, best: RunResult, found: list[Alternative], p: Instance) -> None:
    from depotsite.selfcheck import check_posture

    for result in (best, *(alt.result for alt in found)):
        check_posture(result, p)
    with atomic_folder(out, kind="alternatives") as folder:
        (folder / "optimum").mkdir()
        write_allocation(folder / "optimum" / "allocation.csv", best, p)
        rows = [[0, "optimum", f"{best.objective:.6f}", f"{best.terms['time_h']:.4f}", f"{best.terms['risk']:.4f}",
                 f"{best.terms['cost_musd']:.2f}", ";".join(best.open_sites), "optimum/allocation.csv"]]
        for alt in found:
            name = f"alternative_{alt.rank:02d}"
            (folder / name).mkdir()
            write_allocation(folder / name / "allocation.csv", alt.result, p)
            r = alt.result
            rows.append([alt.rank, alt.difference, f"{r.objective:.6f}", f"{r.terms['time_h']:.4f}",
                         f"{r.terms['risk']:.4f}", f"{r.terms['cost_musd']:.2f}", ";".join(r.open_sites),
                         f"{name}/allocation.csv"])
        write_csv(folder / "alternatives.csv", ["rank", "difference", "objective", "time_h", "risk", "cost_musd",
                                                 "open_sites", "allocation"], rows)
