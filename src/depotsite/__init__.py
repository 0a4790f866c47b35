"""depotsite: where to keep surge stockpiles for Ukraine, and how many units of each system.

The pipeline runs one way, a public function per stage::

    load_scenario -> load_inputs -> travel_times -> build_model -> solve -> results -> export
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("depotsite")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
