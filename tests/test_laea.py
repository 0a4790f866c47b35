"""The written-out LAEA pipelines project to the same metres as the transformers PROJ builds from CRS codes."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from depotsite.network import laea
from depotsite.network.transit import Projection

# lon/lat over the hosts, Ukraine and the closed airspace east of it
LON, LAT = (a.ravel() for a in np.meshgrid(np.linspace(5.0, 45.0, 41), np.linspace(40.0, 60.0, 21)))


def test_the_europe_pipeline_gives_pyprojs_epsg_3035_both_ways():
    x, y = laea.transformers(**laea.EPSG_3035)[0].transform(LON, LAT)
    ex, ey = Transformer.from_crs(4326, 3035, always_xy=True).transform(LON, LAT)
    assert np.abs(x - ex).max() < 1e-6 and np.abs(y - ey).max() < 1e-6
    lon, lat = laea.transformers(**laea.EPSG_3035)[1].transform(ex, ey)
    elon, elat = Transformer.from_crs(3035, 4326, always_xy=True).transform(ex, ey)
    assert np.abs(lon - elon).max() < 1e-9 and np.abs(lat - elat).max() < 1e-9
    assert np.abs(lon - LON).max() < 1e-7 and np.abs(lat - LAT).max() < 1e-7  # home within a centimetre


@pytest.mark.parametrize("centre", [(31.0, 49.0), (24.123456, 50.654321)])
def test_a_centred_projection_matches_the_proj_string_it_replaces(centre):
    lon0, lat0 = centre
    crs = f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m"
    projection = Projection.centred(lon0, lat0)
    x, y = projection.to_m.transform(LON, LAT)
    ex, ey = Transformer.from_crs(4326, crs, always_xy=True).transform(LON, LAT)
    assert np.abs(x - ex).max() < 1e-6 and np.abs(y - ey).max() < 1e-6
    assert projection.to_m.transform(lon0, lat0) == pytest.approx((0.0, 0.0), abs=1e-6)  # centred where asked
    lon, lat = projection.to_deg.transform(ex, ey)
    elon, elat = Transformer.from_crs(crs, 4326, always_xy=True).transform(ex, ey)
    assert np.abs(lon - elon).max() < 1e-9 and np.abs(lat - elat).max() < 1e-9
    assert np.abs(lat - LAT).max() < 1e-7  # the round trip within a centimetre (PROJ's inverse series)
