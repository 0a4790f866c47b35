"""Robustness sweeps on Dask: a grid over scenario keys and Monte-Carlo draws, one task per case.

``plan_sweep`` (``spec``) reads and checks a sweep file; ``run_sweep`` (``run``) solves its cases on a
``distributed.Client`` (``engine.dask_client``), resuming in its folder (``store``), and writes the case
table, site frequencies, figures and manifest (``report``). ``tasks`` is what a worker runs.
"""
