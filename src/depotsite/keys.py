"""The scenario reference, generated from the schema itself: every key with its type, default, unit and
meaning. ``depotsite keys`` prints it and ``docs/scenario.md`` is this module's Markdown (a test checks
the file is current), so the reference cannot drift from what the loader accepts.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from depotsite.scenario import Scenario

# Placeholders for the keys of the scenario's dict-valued tables.
PLACEHOLDERS = {
    "hosts": "<host_id>",
    "groups": "<group>",
    "systems": "<system_id>",
    "profiles": "<profile>",
    "max_unit_share": "<system_id>",
}
UNITS = (
    ("_h_per_day", "hours per day"),
    ("_kph", "km/h"),
    ("_h", "hours"),
    ("_km", "km"),
    ("_musd", "M USD"),
    ("_s", "seconds"),
)
# Defaults that depend on the machine or live outside the field, in words.
DEFAULT_TEXT = {
    "solver.threads": "up to 2 (never more than the CPUs)",
    "network.profiles": "tracked, wheeled, het, air, rail (see below)",
}
EXTENDS = (
    "extends",
    "path",
    "(none)",
    "",
    "A base scenario file this one changes: its keys apply first, this "
    "file's on top, --set on top of both; relative to this file.",
)


@dataclass(frozen=True)
class Key:
    """One scenario key: dotted path (placeholders for ids), type, default, unit and meaning."""

    path: str
    type: str
    default: str
    unit: str
    meaning: str


def _type_name(annotation: Any) -> str:
    """A field's type in the reference's words ("number", "list of string", "table of ...", "(optional)")."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " | ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {"Path": "path", "str": "string", "float": "number", "int": "integer", "bool": "true | false"}.get(
        getattr(annotation, "__name__", str(annotation)), str(annotation)
    )


def _unit(name: str, type_name: str) -> str:
    """The unit a key's name implies: "fraction 0-1" for shares, else the one its suffix names, else ""."""
    if "share" in name or name in ("keep_fraction", "threat", "mip_gap", "counted_share"):
        return "fraction 0-1"
    return next((unit for suffix, unit in UNITS if name.endswith(suffix)), "")


def _default(field: Any) -> str:
    """A field's default as TOML would write it; "(required)", "(none)", or "" for a nested table."""
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "(none)"
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly, optionally or as the values of a table."""
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is dict:
            arg = typing.get_args(arg)[1]
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _walk(model: type[BaseModel], prefix: str) -> list[Key]:
    """The keys of ``model`` in field order, each followed by the keys of the table it holds, if any."""
    keys = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        is_table = typing.get_origin(field.annotation) is dict
        nested = _nested(field.annotation)
        type_name = _type_name(field.annotation)
        default = DEFAULT_TEXT.get(path) or _default(field)
        keys.append(Key(path, type_name, default, _unit(name, type_name), field.description or ""))
        if nested is not None:
            keys += _walk(nested, f"{path}.{PLACEHOLDERS[name]}." if is_table else f"{path}.")
    return keys


def scenario_keys(prefix: str = "") -> list[Key]:
    """Every key of a scenario file, in file order, optionally only those under ``prefix``.

    ``extends`` comes first (the loader handles it, not the schema), then every field of ``Scenario``
    with its nested tables, so the reference is the schema itself.

    Parameters
    ----------
    prefix
        A dotted prefix such as ``hosts`` or ``objective.risk``; empty for all. A key matches when it is
        the prefix or lies under it (a trailing dot is ignored).

    Returns
    -------
    list of Key
        The matching keys; ids in table keys appear as placeholders (``hosts.<host_id>.threat``).
    """
    keys = [Key(*EXTENDS), *_walk(Scenario, "")]
    return [k for k in keys if not prefix or k.path == prefix or k.path.startswith(prefix.rstrip(".") + ".")]


def markdown() -> str:
    """``docs/scenario.md``: the whole reference as one Markdown table.

    A test compares the shipped file with this text, so the documentation cannot drift from the schema.

    Returns
    -------
    str
        A heading, the precedence of scenario sources, and one table row per key (key, type, default,
        unit, meaning), with any ``|`` in a cell escaped; ends with a newline.
    """
    lines = [
        "# Scenario keys",
        "",
        "Generated from the schema by `depotsite keys --markdown` (a test checks it is current). Precedence,",
        "highest first: `--set key=value` > the scenario file > the file it `extends` > the defaults below.",
        "Ids in table keys are placeholders: `hosts.<host_id>.max_value_share` is `hosts.PL.max_value_share`.",
        "",
        "| key | type | default | unit | meaning |",
        "|---|---|---|---|---|",
    ]
    for k in scenario_keys():
        cells = [f"`{k.path}`", k.type, k.default, k.unit, k.meaning]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
