"""The on-disk travel-time cache, keyed by a hash of everything a matrix depends on.

Every entry is one ``.npz`` file holding the arrays of a matrix, its cache key and format, and a SHA-256
checksum of all of them. An entry that cannot be read, was written by another format or for another key,
or whose arrays no longer match their checksum is reported as a warning naming the file, moved aside
(``*.corrupt``) and recomputed: a damaged cache never stops a run. A cache folder that cannot be read or
written is a warning too.
"""

import contextlib
import hashlib
import json
import logging
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from depotsite.inputs import Inputs
from depotsite.network.files import road_files
from depotsite.scenario import Scenario
from depotsite.tables import file_sha256
from depotsite.traveltimes import Crossing, Leg

log = logging.getLogger(__name__)

CACHE_FORMAT = 6  # bump when routing changes what a cached matrix holds; 4: flights round closed airspace;
# 5: borders by kind, march discipline and loading, countries, regions, crossings and exposure of every leg;
# 6: rail legs (mode, rail km, gauge breaks) and the rail network in the key
ARRAYS = (
    "meta",
    "hours",
    "road_km",
    "rail_km",
    "borders",
    "gauge_breaks",
    "snap_km",
    "path_len",
    "coords",
    "ukraine_h",
    "exposure_h",
)
# what reading a damaged zip or array can raise (BadZipFile for a truncated file, zlib.error for bad deflate)
_DAMAGED = (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile, zlib.error)

Entry = tuple[dict, dict, list[str]]  # legs, unreachable pairs and routing warnings


class BadCacheEntry(Exception):
    """A cache entry that must be discarded; the message says what is wrong with it."""


def cache_key(inputs: Inputs, scenario: Scenario) -> str:
    """Hash of everything a matrix depends on: road, rail and boundary files, profiles, avoidance, points.

    A changed input gives a new key, so a stale matrix is never reused; ``CACHE_FORMAT`` is part of it.

    Parameters
    ----------
    inputs
        The tables: site and destination ids, coordinates and kinds, and each system's profile.
    scenario
        Its road and boundary files (hashed by content; both must be set), its rail files (when set) and its
        ``[network]`` table.

    Returns
    -------
    str
        The hex SHA-256 of all of it as sorted JSON.
    """
    data = scenario.data
    assert data.roads is not None and data.boundaries is not None
    payload = {
        "format": CACHE_FORMAT,
        "roads": [file_sha256(p) for p in road_files(data.roads)],
        "rail": [file_sha256(p) for p in road_files(data.rail)] if data.rail is not None else None,
        "boundaries": file_sha256(data.boundaries),
        "profiles": {k: v.model_dump(mode="json") for k, v in sorted(scenario.network.profiles.items())},
        "avoid": sorted(scenario.network.avoid_countries),
        "avoid_regions": sorted(scenario.network.avoid_regions),
        "regions": file_sha256(data.regions) if data.regions is not None else None,
        "countries": file_sha256(data.countries) if data.countries is not None else None,
        "front_line": file_sha256(data.front_line) if data.front_line is not None else None,
        "exposure_km": scenario.network.exposure_km,
        "airspace_margin_km": scenario.network.airspace_margin_km,
        "snap_warn_km": scenario.network.snap_warn_km,
        "snap_max_km": scenario.network.snap_max_km,
        "sites": [(s.site_id, s.lat, s.lon, s.kind) for s in inputs.sites.values()],
        "destinations": [(d.destination_id, d.lat, d.lon, d.kind) for d in inputs.destinations.values()],
        "systems": sorted((w.system_id, w.profile, sorted(w.site_kinds)) for w in inputs.systems.values()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_dir() -> Path:
    """The cache folder: ``$DEPOTSITE_CACHE``, else ``$XDG_CACHE_HOME/depotsite``, else ``~/.cache/depotsite``.

    Returns
    -------
    Path
        The folder, which need not exist yet (``save_entry`` creates it); empty variables are ignored.
    """
    if os.environ.get("DEPOTSITE_CACHE"):
        return Path(os.environ["DEPOTSITE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "depotsite"


def entry_path(key: str) -> Path:
    """The cache file of the matrix with this key.

    Parameters
    ----------
    key
        A key from ``cache_key``; its first 32 hex digits name the file, the whole key is stored inside.

    Returns
    -------
    Path
        ``travel-<key[:32]>.npz`` in ``cache_dir()``.
    """
    return cache_dir() / f"travel-{key[:32]}.npz"


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of every array's name, dtype, shape and bytes, in name order.

    Stored with an entry and recomputed on reading, so an entry changed or damaged on disk is discarded.

    Parameters
    ----------
    arrays
        The entry's arrays by name (without the checksum itself).

    Returns
    -------
    str
        The hex digest.
    """
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.data)
    return digest.hexdigest()


def save_entry(path: Path, key: str, entry: Entry) -> None:
    """Write a matrix atomically with its key, format and checksum; a folder that refuses it is a warning.

    Parameters
    ----------
    path
        The cache file (``entry_path(key)``).
    key
        The full cache key, stored inside the file so a copied or renamed entry is recognised as foreign.
    entry
        Legs, unreachable pairs and routing warnings, as ``route_legs`` returns them.
    """
    legs, unreachable, warnings = entry
    keys = list(legs)
    meta = {
        "format": CACHE_FORMAT,
        "key": key,
        "keys": keys,
        "profiles": [legs[k].profile for k in keys],
        "modes": [legs[k].mode for k in keys],
        "countries": [list(legs[k].countries) for k in keys],
        "regions": [list(legs[k].regions) for k in keys],
        "crossings": [[[c.from_country, c.to_country, c.kind, c.hours] for c in legs[k].crossings] for k in keys],
        "unreachable": [[*k, r] for k, r in unreachable.items()],
        "warnings": warnings,
    }
    arrays = {
        "meta": np.array(json.dumps(meta)),
        "hours": np.array([legs[k].hours for k in keys], dtype=float),
        "road_km": np.array([np.nan if legs[k].road_km is None else legs[k].road_km for k in keys], dtype=float),
        "rail_km": np.array([np.nan if legs[k].rail_km is None else legs[k].rail_km for k in keys], dtype=float),
        "borders": np.array([legs[k].borders_crossed for k in keys], dtype=np.int64),
        "gauge_breaks": np.array([legs[k].gauge_breaks for k in keys], dtype=np.int64),
        "snap_km": np.array([legs[k].snap_km for k in keys], dtype=float),
        "path_len": np.array([len(legs[k].path) for k in keys], dtype=np.int64),
        "coords": np.concatenate([legs[k].path for k in keys]) if keys else np.empty((0, 2)),
        "ukraine_h": np.array([legs[k].ukraine_h for k in keys], dtype=float),
        "exposure_h": np.array([legs[k].exposure_h for k in keys], dtype=float),
    }
    stored: dict[str, Any] = {"checksum": np.array(checksum(arrays)), **arrays}
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(tmp, **stored)
        os.replace(tmp, path)  # readers never see a half-written cache file
    except OSError as exc:  # a read-only or full cache folder must not stop a run
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        log.warning(
            "could not write the travel-time cache %s (%s); set DEPOTSITE_CACHE to a writable folder to reuse matrices",
            path,
            exc,
        )


def load_entry(path: Path, key: str) -> Entry | None:
    """The cached matrix, or None when there is none or it had to be discarded (with a warning).

    Parameters
    ----------
    path
        The cache file (``entry_path(key)``).
    key
        The full cache key the entry must have been written for.

    Returns
    -------
    tuple or None
        Legs, unreachable pairs and routing warnings; None when the caller must recompute the matrix.
    """
    try:
        if not path.is_file():
            return None
    except OSError as exc:  # an unreadable cache folder
        log.warning("could not read the travel-time cache %s (%s); computing the matrix", path, exc)
        return None
    try:
        return _read(path, key)
    except BadCacheEntry as exc:
        problem = str(exc)
    except _DAMAGED as exc:
        problem = f"unreadable ({type(exc).__name__}: {exc})"
    aside = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, aside)
        where = f"moved aside to {aside.name}"
    except OSError as exc:
        where = f"could not move it aside: {exc}"
    log.warning("discarded the travel-time cache entry %s: %s (%s); recomputing it", path, problem, where)
    return None


def _read(path: Path, key: str) -> Entry:
    """The entry in ``path``; ``BadCacheEntry`` if it is no zip, lacks arrays, or fails format, key or checksum."""
    with path.open("rb") as stream:
        if not zipfile.is_zipfile(stream):  # checked first: numpy would try it as a pickle and leak the file
            raise BadCacheEntry("not a zip archive (truncated or overwritten)")
        stream.seek(0)
        with np.load(stream, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}  # each data[name] access re-reads the zip member
    missing = [name for name in (*ARRAYS, "checksum") if name not in arrays]
    if missing:
        raise BadCacheEntry(f"not a depotsite cache entry of format {CACHE_FORMAT} (missing {', '.join(missing)})")
    stored = str(arrays.pop("checksum"))
    meta = json.loads(str(arrays["meta"]))
    if not isinstance(meta, dict):
        raise BadCacheEntry("its metadata is not a depotsite cache record")
    if meta.get("format") != CACHE_FORMAT:
        raise BadCacheEntry(f"written by cache format {meta.get('format')}, expected {CACHE_FORMAT}")
    if meta.get("key") != key:
        raise BadCacheEntry(f"holds the matrix of another cache key ({str(meta.get('key'))[:32]})")
    if checksum(arrays) != stored:
        raise BadCacheEntry("its arrays do not match their checksum (changed or damaged on disk)")
    return _unpack(arrays, meta)


def _unpack(arrays: dict[str, np.ndarray], meta: dict) -> Entry:
    """Legs, unreachable pairs and warnings from checked arrays; each leg's path is its slice of ``coords``."""
    offsets = np.concatenate([[0], np.cumsum(arrays["path_len"])]).tolist()
    coords = arrays["coords"]
    hours, road_km, rail_km = arrays["hours"].tolist(), arrays["road_km"].tolist(), arrays["rail_km"].tolist()
    borders, snap_km = arrays["borders"].tolist(), arrays["snap_km"].tolist()
    breaks = arrays["gauge_breaks"].tolist()
    ukraine_h, exposure_h = arrays["ukraine_h"].tolist(), arrays["exposure_h"].tolist()
    columns = (
        hours,
        road_km,
        rail_km,
        borders,
        breaks,
        snap_km,
        ukraine_h,
        exposure_h,
        meta["countries"],
        meta["modes"],
    )
    lengths = {len(x) for x in columns}
    if lengths != {len(meta["keys"])} or len(offsets) - 1 != len(meta["keys"]):
        raise BadCacheEntry("its arrays disagree in length")
    legs = {
        tuple(k): Leg(
            hours=hours[i],
            profile=meta["profiles"][i],
            mode=meta["modes"][i],
            road_km=None if math.isnan(road_km[i]) else road_km[i],
            rail_km=None if math.isnan(rail_km[i]) else rail_km[i],
            borders_crossed=int(borders[i]),
            gauge_breaks=int(breaks[i]),
            snap_km=snap_km[i],
            path=coords[offsets[i] : offsets[i + 1]],
            countries=tuple(meta["countries"][i]),
            regions=tuple(meta["regions"][i]),
            crossings=tuple(Crossing(a, b, kind, float(h)) for a, b, kind, h in meta["crossings"][i]),
            ukraine_h=ukraine_h[i],
            exposure_h=exposure_h[i],
        )
        for i, k in enumerate(meta["keys"])
    }
    unreachable = {tuple(row[:3]): row[3] for row in meta["unreachable"]}
    return legs, unreachable, list(meta["warnings"])
