"""The one place that creates, locks and replaces output folders and files.

An output folder may be new, empty, or a depotsite folder of the same kind (recognised by the marker that
opens its ``manifest.json``); an output file may be new or a regular file that is not an input. Anything
else (a foreign folder, a file, a link, ``/``, ``.``, ``..``, the home folder, the scenario's or an
input's folder) is an ``InputError`` naming the path, raised before any work and again under the lock.
Writes are staged in ``.NAME.tmp-<pid>-<random>`` and renamed into place (an earlier folder goes aside to
``.NAME.old-<pid>-<random>`` first); writers into one folder take turns on an ``fcntl.flock`` of that
folder (no lock file is left behind); SIGTERM while staging removes the staged files; the next writer
removes what a killed one left. The README's "Safety rules" say the same for users.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from depotsite.errors import InputError

log = logging.getLogger(__name__)

HEADING = "cannot write the output"
TOOL = "depotsite"
KINDS = ("run", "pareto", "stress", "alternatives", "report", "sweep")
MANIFEST = "manifest.json"
_MANIFEST_MAX_BYTES = 1 << 22  # a manifest is a few KB; a bigger file is not ours and is not read


def marker(kind: str) -> dict[str, str]:
    """The keys that open every manifest depotsite writes, so a later run recognises the folder."""
    return {"tool": TOOL, "kind": kind}


def folder_kind(folder: Path) -> str | None:
    """The kind of depotsite output ``folder`` is (``"run"``, ``"pareto"``, ...), or None if it is not one.

    Parameters
    ----------
    folder
        Any path; only its ``manifest.json`` is read (and only if it is a small regular file).

    Returns
    -------
    str or None
        The manifest's ``kind``; ``"run"`` for a run folder written before manifests carried the marker.
    """
    manifest = Path(folder) / MANIFEST
    try:
        info = manifest.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MANIFEST_MAX_BYTES:
            return None
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("tool") == TOOL and data.get("kind") in KINDS:
        return str(data["kind"])
    versions = data.get("versions")
    if "tool" not in data and isinstance(versions, dict) and TOOL in versions:
        return "run"
    return None


def scenario_inputs(scenario_file: Path, data: Any) -> list[Path]:
    """The scenario file and every ``[data]`` path of the resolved scenario (tables, roads, matrix, ...)."""
    from depotsite.scenario import DATA_KEYS

    paths = [Path(getattr(data, key)) for key in DATA_KEYS if getattr(data, key, None) is not None]
    return [Path(scenario_file), *paths]


def absolute_path(target: Path) -> Path:
    """The absolute path with its parents resolved but its last component kept (a link stays a link)."""
    absolute = Path(os.path.abspath(target))
    return absolute if absolute == Path(absolute.anchor) else absolute.parent.resolve() / absolute.name


def _shown(option: str, target: Path, absolute: Path) -> str:
    return f"{option} {target}" + ("" if str(target) == str(absolute) else f" ({absolute})")


def _place_problem(path: Path) -> str | None:
    """A place no output may replace, whatever it holds."""
    if path == Path(path.anchor):
        return "is the root folder"
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents:
        return "is the current folder or one of its parents"
    with contextlib.suppress(RuntimeError, KeyError):
        home = Path.home().resolve()
        if path == home or path in home.parents:
            return "is your home folder or one of its parents"
    return None


def _input_problem(path: Path, inputs: Iterable[Path], *, is_folder: bool) -> str | None:
    """Whether writing ``path`` would replace, or write inside, a file or folder the run reads."""
    for source in dict.fromkeys(form for given in inputs for form in (absolute_path(given), Path(given).resolve())):
        if path == source:
            return f"is an input of this run ({source})"
        if source.is_dir():
            if path.is_relative_to(source):
                return f"is inside the input folder {source}"
            if is_folder and source.is_relative_to(path):
                return f"holds the input folder {source}"
        elif is_folder and source.is_relative_to(path):
            return (
                f"is the folder of an input of this run ({source})"
                if source.parent == path
                else f"holds an input of this run ({source})"
            )
    return None


def _parent_problem(path: Path) -> str | None:
    """The nearest existing ancestor must be a folder we may write in."""
    ancestor = path.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot write in {ancestor} (permission denied)"
    return None


def _common_problem(path: Path, inputs: Iterable[Path], *, is_folder: bool) -> str | None:
    if os.path.islink(path):
        return "is a symbolic link; depotsite does not write through links: give the real path or a new one"
    problem = _place_problem(path) or _input_problem(path, inputs, is_folder=is_folder)
    if problem is not None:
        return problem + ("; give a new or empty folder elsewhere" if is_folder else "; give another file name")
    return _parent_problem(path)


def _folder_contents_problem(path: Path, kind: str) -> str | None:
    if not os.path.lexists(path):
        return None
    if not path.is_dir():
        return f"is a file, not a folder; give a new or empty folder, or a {kind} folder written by depotsite"
    try:
        empty = not any(path.iterdir())
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    found = None if empty else folder_kind(path)
    if empty or found == kind:
        return None
    if found is not None:
        return f"is a depotsite {found} folder, not a {kind} folder; give another folder"
    return (
        f"is a folder that depotsite did not write (it is not empty and has no manifest.json of a {kind} "
        f"folder); nothing was changed. Give a new or empty folder, or move this one away yourself"
    )


def folder_problems(target: Path, *, kind: str, inputs: Iterable[Path] = (), option: str = "--out") -> list[str]:
    """Why ``target`` may not become a ``kind`` output folder (an empty list if it may).

    Parameters
    ----------
    target
        The folder as the user gave it.
    kind
        One of ``KINDS``: an existing folder is replaced only if it is a depotsite folder of this kind.
    inputs
        Files and folders the command reads (see ``scenario_inputs``); the target may not be one of them,
        the folder of one, a folder holding one, or inside an input folder.
    option
        The command-line option that named the target, for the message.

    Returns
    -------
    list of str
        At most one line, naming the path, what is wrong and what to do.
    """
    path = absolute_path(target)
    problem = _common_problem(path, inputs, is_folder=True) or _folder_contents_problem(path, kind)
    return [] if problem is None else [f"{_shown(option, target, path)}: {problem}"]


def file_problems(target: Path, *, inputs: Iterable[Path] = (), option: str = "--out") -> list[str]:
    """Why ``target`` may not be written as an output file (an empty list if it may); see ``folder_problems``."""
    path = absolute_path(target)
    problem = _common_problem(path, inputs, is_folder=False)
    if problem is None and os.path.lexists(path):
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            problem = "is a folder; give a file name"
        elif not stat.S_ISREG(mode):
            problem = "is not a regular file (a device, pipe or socket); give a file name"
    return [] if problem is None else [f"{_shown(option, target, path)}: {problem}"]


def refuse(problems: list[str]) -> None:
    """Raise one ``InputError`` listing every problem, if there are any."""
    if problems:
        raise InputError(problems, heading=HEADING)


def check_folder(target: Path, *, kind: str, inputs: Iterable[Path] = (), option: str = "--out") -> None:
    """Raise ``InputError`` unless ``target`` may become a ``kind`` output folder (see ``folder_problems``)."""
    refuse(folder_problems(target, kind=kind, inputs=inputs, option=option))


def check_file(target: Path, *, inputs: Iterable[Path] = (), option: str = "--out") -> None:
    """Raise ``InputError`` unless ``target`` may be written as an output file (see ``file_problems``)."""
    refuse(file_problems(target, inputs=inputs, option=option))


def _prepare_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError([f"--out {path}: cannot create {path.parent} ({exc.strerror})"], heading=HEADING) from exc


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on the folder that holds ``target``; wait (and say so) if taken.

    Locking the parent folder itself, not a lock file beside the target, leaves nothing behind outside the
    output; writers into one parent folder take turns, which is what two writers of one target need.
    """
    parent = target.parent
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise InputError(
            [f"--out {target}: cannot open {parent} to lock it ({exc.strerror})"], heading=HEADING
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another depotsite process writing into %s (for %s)", parent, target)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover: we hold the lock, so no writer of ours is using it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path, *, kind: str | None = None) -> None:
    """Remove what killed writers into ``target`` left behind (call with the lock held).

    A staged ``.NAME.tmp-<pid>-*`` or an aside ``.NAME.old-<pid>-*`` whose process no longer runs is
    removed with a warning; if ``target`` is missing and an earlier ``kind`` folder was caught aside
    between the two renames, it is put back. Leftovers of a process that still runs are only reported.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-(\d+)-[0-9a-f]+")
    for leftover in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(leftover.name)
        if match is None:
            continue
        pid = int(match.group(2))
        if _pid_running(pid):
            log.warning("%s was left by process %d, which still runs; left in place", leftover, pid)
        elif (
            match.group(1) == "old"
            and kind is not None
            and not os.path.lexists(target)
            and folder_kind(leftover) == kind
        ):
            os.replace(leftover, target)
            log.warning("put back %s as %s: process %d was stopped while replacing it", leftover, target, pid)
        else:
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            log.warning("removed %s, left behind by process %d that no longer runs", leftover, pid)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While staging, SIGTERM raises ``SystemExit(143)`` so the staged files are removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back for the renames, so a target is never left missing between them."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sibling(target: Path, what: str) -> Path:
    """A hidden sibling named with our pid, so a later writer knows whether its owner still runs."""
    return target.with_name(f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}")


def _commit_folder(staging: Path, target: Path) -> None:
    old = None
    with _signals_deferred():
        if os.path.lexists(target):
            old = _sibling(target, "old")
            os.replace(target, old)
        os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_marker(folder: Path, kind: str) -> None:
    """Write the ``manifest.json`` that marks ``folder`` as a depotsite ``kind`` folder: the marker alone
    (no date, no number: a public report discloses nothing through it)."""
    (folder / MANIFEST).write_text(json.dumps(marker(kind)) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_folder(target: Path, *, kind: str = "run") -> Iterator[Path]:
    """Yield a staged folder that replaces ``target`` only if the block succeeds.

    Parameters
    ----------
    target
        The output folder; it is checked again here, under the lock (``folder_problems``), so a folder
        that became foreign while the command worked is refused, not replaced.
    kind
        The kind of output (``KINDS``). For kinds other than ``"run"`` the marker is written first; a run
        folder's marker opens the manifest ``export`` writes. The block must leave a folder recognised as
        ``kind``, so that the next writer may replace it.

    Yields
    ------
    Path
        The staged folder to write into.
    """
    target = absolute_path(target)
    check_folder(target, kind=kind)
    _prepare_parent(target)
    with locked(target), _sigterm_raises():
        clean_stale(target, kind=kind)
        check_folder(target, kind=kind)
        staging = _sibling(target, "tmp")
        staging.mkdir()  # the umask applies, as to any folder the user makes
        try:
            if kind != "run":
                write_marker(staging, kind)
            yield staging
            if folder_kind(staging) != kind:
                raise RuntimeError(f"{target}: the {kind} folder lacks its manifest marker; nothing was written")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _commit_folder(staging, target)


@contextlib.contextmanager
def atomic_file(target: Path, *, inputs: Iterable[Path] = (), option: str = "--out") -> Iterator[Path]:
    """Yield a staged file that replaces ``target`` (``os.replace``) only if the block succeeds.

    Parameters
    ----------
    target
        The output file, checked again here under the lock (``file_problems``).
    inputs
        Files and folders the command reads; the target may not be one of them.
    option
        The command-line option that named the target, for messages.

    Yields
    ------
    Path
        A new, empty hidden sibling of ``target`` to write.
    """
    target = absolute_path(target)
    inputs = list(inputs)
    check_file(target, inputs=inputs, option=option)
    _prepare_parent(target)
    with locked(target), _sigterm_raises():
        clean_stale(target)
        check_file(target, inputs=inputs, option=option)
        staging = _sibling(target, "tmp")
        os.close(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            yield staging
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        with _signals_deferred():
            os.replace(staging, target)


@contextlib.contextmanager
def resumable_folder(target: Path, *, kind: str, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a folder that a command keeps and updates in place across runs (a sweep's, which resumes).

    The folder may be new, empty or a depotsite ``kind`` folder (``folder_problems``, checked again under
    the lock); a new or empty one gets the ``kind`` marker at once, so an interrupted command leaves a
    folder the next one recognises. The folder itself is locked (``fcntl.flock``) while the block runs, so
    two commands writing into it take turns; write its files with ``write_atomically``.

    Parameters
    ----------
    target
        The folder as the user gave it.
    kind
        One of ``KINDS``.
    inputs
        Files and folders the command reads (see ``folder_problems``).

    Yields
    ------
    Path
        The folder's absolute path.
    """
    path = absolute_path(target)
    inputs = list(inputs)
    check_folder(target, kind=kind, inputs=inputs)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise InputError([f"--out {target}: cannot create or open it ({exc.strerror})"], heading=HEADING) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another depotsite process writing into %s", path)
            fcntl.flock(fd, fcntl.LOCK_EX)
        check_folder(target, kind=kind, inputs=inputs)
        if folder_kind(path) != kind:
            write_marker(path, kind)
        yield path
    finally:
        os.close(fd)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write a file through a hidden sibling renamed into place: readers see the old file or the new one."""
    staging = _sibling(Path(path), "tmp")
    try:
        staging.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
