"""The on-disk travel-time cache, keyed by a hash of everything a matrix depends on."""

import hashlib
import json
import logging
import math
import os
from pathlib import Path

import numpy as np

from depotsite.inputs import Inputs
from depotsite.network.graph import road_files
from depotsite.scenario import Scenario
from depotsite.tables import file_sha256
from depotsite.traveltimes import Leg

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # bump when routing changes what a cached matrix holds


def cache_key(inputs: Inputs, scenario: Scenario) -> str:
    """Hash of everything a matrix depends on: road and boundary files, profiles, avoidance, points."""
    data = scenario.data
    assert data.roads is not None and data.boundaries is not None
    payload = {
        "format": CACHE_FORMAT,
        "roads": [file_sha256(p) for p in road_files(data.roads)],
        "boundaries": file_sha256(data.boundaries),
        "profiles": {k: v.model_dump(mode="json") for k, v in sorted(scenario.network.profiles.items())},
        "avoid": sorted(scenario.network.avoid_countries),
        "snap_warn_km": scenario.network.snap_warn_km,
        "snap_max_km": scenario.network.snap_max_km,
        "sites": [(s.site_id, s.lat, s.lon, s.kind) for s in inputs.sites.values()],
        "destinations": [(d.destination_id, d.lat, d.lon, d.kind) for d in inputs.destinations.values()],
        "systems": sorted((w.system_id, w.profile) for w in inputs.systems.values()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_dir() -> Path:
    """``$DEPOTSITE_CACHE``, else ``$XDG_CACHE_HOME/depotsite``, else ``~/.cache/depotsite``."""
    if os.environ.get("DEPOTSITE_CACHE"):
        return Path(os.environ["DEPOTSITE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "depotsite"


def _save(path: Path, legs: dict, unreachable: dict, warnings: list[str]) -> None:
    keys = list(legs)
    lengths = np.array([len(legs[k].path) for k in keys], dtype=np.int64)
    coords = np.concatenate([legs[k].path for k in keys]) if keys else np.empty((0, 2))
    meta = {
        "keys": keys, "profiles": [legs[k].profile for k in keys],
        "unreachable": [[*k, r] for k, r in unreachable.items()], "warnings": warnings,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez_compressed(
        tmp, meta=np.array(json.dumps(meta)), hours=np.array([legs[k].hours for k in keys]),
        road_km=np.array([np.nan if legs[k].road_km is None else legs[k].road_km for k in keys]),
        borders=np.array([legs[k].borders_crossed for k in keys]), snap_km=np.array([legs[k].snap_km for k in keys]),
        path_len=lengths, coords=coords,
    )
    os.replace(tmp, path)  # readers never see a half-written cache file


def _load(path: Path) -> tuple[dict, dict, list[str]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}  # each data[name] access re-reads the zip member
    meta = json.loads(str(arrays["meta"]))
    offsets = np.concatenate([[0], np.cumsum(arrays["path_len"])]).tolist()
    coords = arrays["coords"]
    hours, road_km = arrays["hours"].tolist(), arrays["road_km"].tolist()
    borders, snap_km = arrays["borders"].tolist(), arrays["snap_km"].tolist()
    legs = {
        tuple(key): Leg(
            hours=hours[i], profile=meta["profiles"][i], road_km=None if math.isnan(road_km[i]) else road_km[i],
            borders_crossed=int(borders[i]), snap_km=snap_km[i], path=coords[offsets[i]:offsets[i + 1]],
        )
        for i, key in enumerate(meta["keys"])
    }
    unreachable = {tuple(row[:3]): row[3] for row in meta["unreachable"]}
    return legs, unreachable, list(meta["warnings"])


