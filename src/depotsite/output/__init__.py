"""Everything that writes or reads the files of a run: the run folder and its manifest, GeoJSON, maps,
disclosure reports, run comparison, the analysis folders, and the safe output folders they all go through.
Nothing below this package imports matplotlib or plotly."""
