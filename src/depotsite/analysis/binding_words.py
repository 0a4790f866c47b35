"""The explanation of a posture in words a policy team reads, and as JSON-ready data."""

from __future__ import annotations

import dataclasses

from depotsite.analysis.binding import Explanation, RuleReport
from depotsite.analysis.site_reasons import SiteReport


def describe_rule(r: RuleReport) -> str:
    """One line a policy team can read: the rule, whether it binds, its price and the re-solved change."""
    step = {
        "pp": "point",
        "units": "unit",
        "hosts": "host fewer",
        "sites": "site more",
        "M USD": "step of budget",
        "h": "hour later",
    }[r.unit]
    line = f"{r.key} ({r.label}): "
    if r.binding and r.unit == "h":
        line += f"binds: it keeps out a route within an hour of it (latest unit at {r.used:.4g} h)"
    elif r.binding:
        line += f"binds ({r.used:.4g} of {r.limit:g} {r.unit})"
    elif r.minimum:
        line += f"slack {r.slack:.4g} {r.unit} ({r.used:.4g} against at least {r.limit:g})"
    else:
        line += f"slack {r.slack:.4g} {r.unit} ({r.used:.4g} of {r.limit:g} used)"
    if r.binding and r.price is not None and abs(r.price) > 1e-9:
        verb = "save" if r.price < 0 else "cost"
        line += f"; each {step} would {verb} {abs(r.price):.3g} of the objective (LP price)"
    if r.checked is not None:
        terms = ", ".join(f"{k} {_change(v)}" for k, v in r.checked.items() if k != "objective")
        line += f"; re-solved one {step}: objective {_change(r.checked['objective'])} ({terms}, {r.checked_status})"
    elif r.checked_status is not None:
        line += f"; {r.checked_status}"
    return line


def _change(value: float) -> str:
    """A signed change, round-off (below 1e-9) shown as 0."""
    return "+0" if abs(value) < 1e-9 else f"{value:+.3g}"


def describe_site(site: SiteReport) -> str:
    """One line per open site: what it holds and serves, the hours it saves, the rules it meets."""
    held = ", ".join(f"{n} {w}" for w, n in site.units.items())
    served = ", ".join(f"{d} {n}" for d, n in site.serves.items())
    why = f"; {'; '.join(site.rules)}" if site.rules else ""
    speed = (
        f"saves {site.saved_h:.3g} h of mean time over the next fastest site"
        if site.saved_h > 1e-9
        else f"costs {-site.saved_h:.3g} h of mean time against the next fastest site (chosen for spread, caps or cost)"
    )
    return f"{site.site_id} ({site.host_id}): holds {held}; serves {served}; {speed}{why}"


def as_dict(explanation: Explanation) -> dict:
    """The explanation as plain JSON-ready data (for summary.json and --json)."""
    return {
        "rules": [dataclasses.asdict(r) | {"words": describe_rule(r)} for r in explanation.rules],
        "sites": [dataclasses.asdict(s) | {"words": describe_site(s)} for s in explanation.sites],
        "notes": list(explanation.notes),
    }
