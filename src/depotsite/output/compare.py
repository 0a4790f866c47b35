"""Two or more run folders side by side, each against the first: objective and terms, host value shares,
per-system times, sites opened and closed, units moved and the scenario keys that differ.

Any run folder compares: a solve, a Pareto point (``point_NN``) or an alternative (``alternative_NN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.output.runfolder import TERMS, RunFolder

IGNORED_KEYS = ("name", "description")
"""Scenario keys shown as each run's name, not as a difference."""


@dataclass(frozen=True)
class RunColumn:
    """One run as compared: its figures, and its changes against the reference (the first run)."""

    path: str
    name: str
    status: str
    gap: float
    objective: float
    terms: dict[str, float]
    units: dict[str, str]  # term -> unit
    host_value_shares: dict[str, float]  # percent
    system_times_h: dict[str, dict[str, float]]  # system -> mean, worst
    open_sites: list[str]
    opened: list[str]  # open here, not in the reference
    closed: list[str]  # open in the reference, not here
    units_moved: int  # units at a site (and system) where the reference has fewer

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _normalised(scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each resolved scenario with the schema's defaults filled in, also for a host or system that only some
    of them name (a Pareto point caps every host), so a default is not shown as a difference. A scenario
    this version cannot validate is compared as written."""
    from pydantic import ValidationError

    from depotsite.overrides import merge
    from depotsite.scenario import Scenario

    ids = {table: sorted({i for s in scenarios for i in s.get(table, {})}) for table in ("hosts", "systems")}
    out = []
    for s in scenarios:
        filled = merge({table: {i: {} for i in found} for table, found in ids.items()}, s)
        try:
            out.append(Scenario.model_validate(filled).model_dump(mode="json", exclude_none=True))
        except ValidationError:
            out.append(s)
    return out


def units_moved(reference: dict[tuple[str, str], int], other: dict[tuple[str, str], int]) -> int:
    """Units that sit where the reference does not have them: the sum over (site, system) of the increase."""
    return sum(max(0, n - reference.get(key, 0)) for key, n in other.items())


def _column(run: RunFolder, reference: RunFolder) -> RunColumn:
    try:
        return _read_column(run, reference)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            [f"{run.path}/summary.json: no readable {exc} ({type(exc).__name__}); rewrite the run with this version"],
            heading="invalid run",
        ) from None


def _read_column(run: RunFolder, reference: RunFolder) -> RunColumn:
    s = run.summary
    opened, before = set(s["open_sites"]), set(reference.summary["open_sites"])
    return RunColumn(
        path=str(run.path),
        name=str(s["scenario"]),
        status=str(s["status"]),
        gap=float(s["gap"]),
        objective=float(s["objective"]),
        terms={t: float(s["terms"][t]["value"]) for t in TERMS},
        units={t: str(s["terms"][t]["unit"]) for t in TERMS},
        host_value_shares={h: float(v) for h, v in s["host_value_shares"].items()},
        system_times_h={
            w: {"mean": float(t["mean"]), "worst": float(t["worst"])} for w, t in s["system_times_h"].items()
        },
        open_sites=sorted(opened),
        opened=sorted(opened - before),
        closed=sorted(before - opened),
        units_moved=units_moved(reference.stock, run.stock),
    )


@dataclass(frozen=True)
class Comparison:
    """The compared runs (the first is the reference) and the scenario keys whose values differ."""

    runs: list[RunColumn]
    scenario: dict[str, list[Any]]  # key -> its value in each run (None where unset)
    stock_differs: bool

    def identical(self) -> bool:
        """No difference in stock, shares, terms, objective or scenario keys."""
        first = self.runs[0]
        same = all(
            r.terms == first.terms and r.objective == first.objective and r.host_value_shares == first.host_value_shares
            for r in self.runs
        )
        return same and not self.scenario and not self.stock_differs

    def as_json(self) -> dict[str, Any]:
        """The comparison as plain JSON: ``reference``, ``runs`` and ``scenario_differences``."""
        return {
            "reference": self.runs[0].path,
            "runs": [r.as_json() for r in self.runs],
            "scenario_differences": self.scenario,
            "identical": self.identical(),
        }

    def table_rows(self) -> list[tuple[str, list[str]]]:
        """One row per figure, one cell per run, as the ``compare`` table shows them."""
        runs = self.runs
        rows = [
            ("status", [r.status + (f" (gap {100 * r.gap:.2g}%)" if r.gap > 0 else "") for r in runs]),
            ("objective", [f"{r.objective:.4g}" for r in runs]),
        ]
        rows += [(f"{t} ({runs[0].units[t]})", [f"{r.terms[t]:.2f}" for r in runs]) for t in TERMS]
        hosts = sorted({h for r in runs for h in r.host_value_shares})
        rows += [(f"share {h}", [f"{r.host_value_shares.get(h, 0.0):.1f}%" for r in runs]) for h in hosts]
        systems = list(dict.fromkeys(w for r in runs for w in r.system_times_h))
        for w in systems:
            rows.append(
                (
                    f"{w} mean/worst h",
                    [
                        f"{r.system_times_h[w]['mean']:.1f}/{r.system_times_h[w]['worst']:.1f}"
                        if w in r.system_times_h
                        else "-"
                        for r in runs
                    ],
                )
            )
        rows += [
            ("sites open", [str(len(r.open_sites)) for r in runs]),
            ("sites opened", [", ".join(r.opened) or "-" for r in runs]),
            ("sites closed", [", ".join(r.closed) or "-" for r in runs]),
            ("units moved", [str(r.units_moved) for r in runs]),
        ]
        rows += [(k, ["(unset)" if v is None else _shown(v) for v in values]) for k, values in self.scenario.items()]
        return rows


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def compare_runs(paths: list[Path]) -> Comparison:
    """Read every run folder and compare each with the first.

    Parameters
    ----------
    paths
        Two or more run folders; the first is the reference.

    Returns
    -------
    Comparison
        Each run's figures and changes, and the scenario keys that differ between any two runs.

    Raises
    ------
    InputError
        When a folder is not a readable run folder (every problem listed).
    """
    folders = [RunFolder.read(Path(p)) for p in paths]
    reference = folders[0]
    flat = [_flatten(s) for s in _normalised([f.scenario for f in folders])]
    keys = sorted({k for f in flat for k in f} - set(IGNORED_KEYS))
    scenario = {k: [f.get(k) for f in flat] for k in keys if any(f.get(k) != flat[0].get(k) for f in flat)}
    return Comparison(
        runs=[_column(f, reference) for f in folders],
        scenario=scenario,
        stock_differs=any(f.stock != reference.stock for f in folders),
    )
