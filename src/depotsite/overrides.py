"""Overrides of a scenario: ``--set key.path=value`` parsed and applied, and every change recorded.

A change is recorded with its key, the value before and after, and where it came from (``--set``, or
the variant file that changes the file it ``extends``), so a run can say what changed: its name counts
the ``--set`` overrides (``base+2 overrides``), its description is regenerated to say which keys were
changed, and ``summary.json`` lists every change.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from depotsite.errors import ScenarioError
from depotsite.tables import shown
from depotsite.tomlfile import parse_toml, toml_value

MAX_SET_CHARS = 4_096
"""Longest ``--set key=value`` text."""
SET = "--set"
"""Where a change given on the command line comes from."""
RUN_CONTROL = frozenset({"name", "description", "solver.time_limit_s", "solver.threads", "solver.log"})
"""Keys that change how a run is solved or named, not the question it answers: not counted in its name."""
MAX_DESCRIPTION_CHARS = 10_000
_SHOWN_VALUE_CHARS = 60
_COUNTED_NAME = re.compile(r"^(?P<base>.+)\+(?P<count>\d+) overrides?$")


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


MISSING: Any = _Missing()
"""The value of a key a scenario does not set."""


@dataclass(frozen=True)
class Override:
    """One change to a scenario key: its value before (``MISSING`` if unset) and after, and its source."""

    key: str
    old: Any
    new: Any
    source: str  # "--set", or the name of the variant file that states the new value

    def as_json(self) -> dict[str, Any]:
        """The change as ``summary.json`` lists it (``old`` is null for a key that was unset)."""
        return {"key": self.key, "old": None if self.old is MISSING else self.old, "new": self.new, "from": self.source}

    def describe(self) -> str:
        """``key: old -> new`` with each value as TOML would write it (long values cut)."""
        return f"{self.key}: {_value_text(self.old)} -> {_value_text(self.new)}"


def _value_text(value: Any) -> str:
    if value is MISSING:
        return "(unset)"
    try:
        text = toml_value(value)
    except TypeError:
        text = str(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else text[:_SHOWN_VALUE_CHARS] + "..."


def merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """``high`` over ``low``, table by table (neither is changed)."""
    out = copy.deepcopy(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every leaf (an empty table is a leaf)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def get(data: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted key, or ``MISSING``."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def assign(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted key, creating the tables on the way.

    Raises
    ------
    ScenarioError
        When a part of the key is a value, not a table.
    """
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ScenarioError([f"--set {dotted}: {part!r} is a value, not a table"])
    node[parts[-1]] = value


def file_changes(low: dict[str, Any], high: dict[str, Any], source: str) -> list[Override]:
    """The keys a variant file (``high``) changes in the file it extends (``low``); name and description aside."""
    changes = []
    for key, value in flatten(high).items():
        old = get(low, key)
        if old != value and key not in ("name", "description"):
            changes.append(Override(key, old, value, source))
    return changes


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key.path=value``; the value is read as TOML (numbers, booleans, lists, strings).

    Raises
    ------
    ScenarioError
        Text longer than ``MAX_SET_CHARS``, not valid UTF-8, without ``=``, or nested too deeply.
    """
    if len(text) > MAX_SET_CHARS:
        raise ScenarioError(
            [f"--set {shown(text)}: longer than {MAX_SET_CHARS:,} characters; put large values in a scenario file"]
        )
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise ScenarioError([f"--set {shown(text)}: not valid UTF-8 text"])
    if "=" not in text:
        raise ScenarioError([f"--set {shown(text)}: expected key.path=value, e.g. hosts.PL.max_value_share=0.3"])
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError([f"--set {shown(text)}: the key is empty or has an empty part"])
    try:
        value = parse_toml(f"v = {raw.strip()}", f"--set {shown(key)}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word such as a site id or "makespan"
    return key, value


def name_override(name: str) -> str:
    """``--name NAME`` as the override it is recorded as (quoted, so ``--name 2024`` stays a string)."""
    return f"name={toml_value(name)}"


def counted(changes: list[Override] | tuple[Override, ...]) -> list[Override]:
    """The ``--set`` changes that change the question a run answers: ``RUN_CONTROL`` keys and values set to
    what they already were aside."""
    return [c for c in changes if c.source == SET and c.key not in RUN_CONTROL and c.old != c.new]


def run_name(name: str, changes: list[Override] | tuple[Override, ...]) -> str:
    """The scenario's name with its counted ``--set`` changes: ``base``, ``base+1 override``, ``base+2 overrides``.

    A name that already counts overrides (a resolved scenario solved again with more) adds to its count.
    """
    n = len(counted(changes))
    if n == 0:
        return name
    found = _COUNTED_NAME.match(name)
    if found is not None:
        name, n = found["base"], n + int(found["count"])
    return f"{name}+{n} override{'s' * (n != 1)}"


def changed_description(name: str, description: str, changes: list[Override] | tuple[Override, ...]) -> str:
    """A description that says the scenario was changed, and by what, before the original text.

    The original description was written for the scenario without these changes, so it is kept only
    as a quotation that says so: no claim of it stands unqualified.
    """
    changed = counted(changes)
    if not changed:
        return description
    listed = "; ".join(c.describe() for c in changed)
    text = f"{name} changed by {len(changed)} override{'s' * (len(changed) != 1)} (--set): {listed}."
    if description:
        text += f' The description of {name} before these changes, which may no longer hold: "{description}"'
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 3] + "..."
