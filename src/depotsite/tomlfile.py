"""TOML files: a writer (``tomllib`` only reads) and a guarded reader.

The reader checks the file with ``os.stat`` before opening it (a FIFO would block), names the byte offset
of non-UTF-8 text, refuses nesting deeper than ``MAX_DEPTH`` and never repeats the file's contents in an
error: a scenario path may point at any file.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from depotsite.errors import ScenarioError
from depotsite.tables import NotUtf8, unreadable, utf8_lines

MAX_DEPTH = 16
"""Deepest nesting of tables and arrays in a scenario file or a ``--set`` value."""


# --- TOML writing (tomllib only reads) ------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """One TOML value: a boolean, number, string, array or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML also forbids a raw DEL."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one (ASCII letters, digits, '_' and '-'), else a quoted key."""
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write nested dicts as TOML: scalars and lists first, then each dict as a ``[table]``."""
    lines = [f"{_toml_key(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        if isinstance(value, dict) and value:
            name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
            out += f"\n[{name}]\n" + dump_toml(value, name)
    return out


# --- reading --------------------------------------------------------------------------------------------


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in a parsed TOML value (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """Parse TOML text, refusing nesting deeper than ``MAX_DEPTH`` (which could exhaust recursion later)."""
    too_deep = ScenarioError([f"{where}: tables or arrays nested more than {MAX_DEPTH} deep; flatten them"])
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def read_toml(path: Path) -> dict[str, Any]:
    """A scenario file's TOML; its contents are never repeated in an error (it may be any file)."""
    reason = unreadable(path)
    if reason is not None:
        raise ScenarioError([f"{path}: scenario {reason}" if reason == "file not found" else f"{path}: {reason}"])
    try:
        with path.open("rb") as stream:
            text = "".join(utf8_lines(stream))
    except NotUtf8 as exc:
        raise ScenarioError([f"{path}: {exc}; save the scenario as UTF-8 TOML"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read ({exc.strerror})"]) from None
    try:
        return parse_toml(text, str(path))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML ({exc})"]) from None
