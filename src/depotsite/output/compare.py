"""What changed between two run folders: stock, shares, objective terms and scenario keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depotsite.output.runfolder import TERMS, RunFolder


@dataclass(frozen=True)
class Change:
    what: str  # "stock", "share", "term", "scenario"
    key: str
    before: Any
    after: Any


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def compare_runs(a: Path, b: Path) -> list[Change]:
    """Every difference between run ``a`` and run ``b``, stock first, then shares, terms, scenario keys."""
    run_a, run_b = RunFolder.read(a), RunFolder.read(b)
    changes = []
    stock_a, stock_b = run_a.stock, run_b.stock
    for pair in sorted(set(stock_a) | set(stock_b)):
        before, after = stock_a.get(pair, 0), stock_b.get(pair, 0)
        if before != after:
            changes.append(Change("stock", "/".join(pair), before, after))
    shares_a, shares_b = run_a.summary["host_value_shares"], run_b.summary["host_value_shares"]
    for host in sorted(set(shares_a) | set(shares_b)):
        before, after = shares_a.get(host, 0.0), shares_b.get(host, 0.0)
        if abs(before - after) > 1e-6:
            changes.append(Change("share", host, before, after))
    for term in TERMS:
        before = run_a.summary["terms"][term]["value"]
        after = run_b.summary["terms"][term]["value"]
        if abs(before - after) > 1e-9:
            changes.append(Change("term", f"{term} ({run_b.summary['terms'][term]['unit']})", before, after))
    if abs(run_a.summary["objective"] - run_b.summary["objective"]) > 1e-9:
        changes.append(Change("term", "objective", run_a.summary["objective"], run_b.summary["objective"]))
    flat_a, flat_b = _flatten(run_a.scenario), _flatten(run_b.scenario)
    for key in sorted(set(flat_a) | set(flat_b)):
        if flat_a.get(key) != flat_b.get(key):
            changes.append(Change("scenario", key, flat_a.get(key, "(unset)"), flat_b.get(key, "(unset)")))
    return changes
