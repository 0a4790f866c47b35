"""A sweep's folder while it runs: one ``tasks/<case_id>.json`` per finished case, so a sweep resumes.

Each result is written as soon as its case finishes (atomically), with the case's fingerprint: a hash of
everything its answer depends on (the resolved scenario, the changes to the sites table, the input files'
SHA-256, the fixed posture). A later run of the sweep into the same folder skips every case whose stored
result has the same fingerprint, unless it ended as ``error`` or ``worker_lost`` (solved again); results of
cases the sweep no longer has are removed. The time limit is not part of the fingerprint: raise it and a
case stored as ``time_limit`` or ``no_posture`` keeps its answer (delete its file to solve it again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from depotsite.output.outdir import write_atomically
from depotsite.sweep.tasks import RESULT_FORMAT, RETRIED

log = logging.getLogger(__name__)

TASKS = "tasks"


def fingerprint(parts: dict[str, Any]) -> str:
    """SHA-256 of the JSON of ``parts`` (sorted keys): equal parts, equal fingerprint."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class SweepStore:
    """The ``tasks`` folder of a sweep folder: finished cases read back and new ones recorded."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / TASKS
        self.folder.mkdir(exist_ok=True)

    def path(self, case_id: str) -> Path:
        return self.folder / f"{case_id}.json"

    def done(self, fingerprints: dict[str, str]) -> dict[str, dict[str, Any]]:
        """The stored results still valid for these cases (case id -> fingerprint); stale files removed.

        A file that cannot be read as a result is left out (its case is solved again) with a warning.
        """
        found = {}
        for file in sorted(self.folder.glob("*.json")):
            case_id = file.stem
            if case_id not in fingerprints:
                file.unlink(missing_ok=True)
                log.info("sweep: removed %s (no such case in the sweep any more)", file)
                continue
            try:
                result = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                log.warning("sweep: %s cannot be read (%s); its case is solved again", file, exc)
                continue
            if (
                isinstance(result, dict)
                and result.get("format") == RESULT_FORMAT
                and result.get("case_id") == case_id
                and result.get("fingerprint") == fingerprints[case_id]
                and result.get("status") not in RETRIED
            ):
                found[case_id] = result
        return found

    def record(self, result: dict[str, Any]) -> None:
        """Store one finished case (replacing an earlier result of it)."""
        write_atomically(self.path(result["case_id"]), json.dumps(result, indent=1) + "\n")
