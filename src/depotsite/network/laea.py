"""Lambert azimuthal equal-area projections written out as PROJ pipelines, both ways.

A transformer built from two CRS codes (``Transformer.from_crs(4326, 3035)``) looks both up in PROJ's
database: 75 to 140 ms each, paid by every process that routes flights or draws a map. The same operation
written out as a pipeline is built in well under a millisecond, and projects to the same metres
(``tests/test_laea.py``).
"""

from __future__ import annotations

from pyproj import Transformer

EPSG_3035 = {"lat_0": 52.0, "lon_0": 10.0, "x_0": 4_321_000.0, "y_0": 3_210_000.0, "ellps": "GRS80"}
"""ETRS89 / LAEA Europe (EPSG:3035): the operation PROJ picks for it from EPSG:4326 in lon/lat order."""


def _laea(*, lat_0: float, lon_0: float, x_0: float = 0.0, y_0: float = 0.0, ellps: str = "WGS84") -> str:
    return f"+proj=laea +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +x_0={x_0:.3f} +y_0={y_0:.3f} +ellps={ellps}"


def forward(**centre) -> str:
    """The pipeline from lon/lat degrees to the projection's metres (keywords as in ``EPSG_3035``)."""
    return f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {_laea(**centre)}"


def inverse(**centre) -> str:
    """The pipeline from the projection's metres back to lon/lat degrees."""
    return f"+proj=pipeline +step +inv {_laea(**centre)} +step +proj=unitconvert +xy_in=rad +xy_out=deg"


def transformers(**centre) -> tuple[Transformer, Transformer]:
    """The (to metres, to degrees) transformers of the projection, both in lon/lat order."""
    return Transformer.from_pipeline(forward(**centre)), Transformer.from_pipeline(inverse(**centre))
