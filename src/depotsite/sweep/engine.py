"""The sweep's engine is Dask (dask.distributed): a local cluster or an existing scheduler, tasks of one case.

``dask_client`` starts a ``LocalCluster`` of ``workers`` processes with one thread each (HiGHS gets one
thread per task) or connects to a scheduler by address (one started by dask-jobqueue on Slurm, or by the
Dask Kubernetes operator: README, "Sweeps"). ``run_cases`` scatters the shared tables, travel times and
posture to the workers once, submits one task per case and hands every result back as it completes. A task
that Dask gives up on (its worker died ``distributed.scheduler.allowed-failures`` times) or that raised is
recorded as ``worker_lost`` or ``error``: no failure stops the other cases.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from depotsite.errors import InputError
from depotsite.inputs import Inputs
from depotsite.sweep.tasks import RESULT_FORMAT, CaseTask, solve_case
from depotsite.traveltimes import TravelTimes

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30.0
"""How long to wait for a scheduler given by address."""


@dataclass(frozen=True)
class Submission:
    """A case to run, with the keys of the tables and travel times it shares with other cases."""

    task: CaseTask
    inputs_key: str
    travel_key: str


@contextlib.contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None, processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client``: of a new local cluster, or of the scheduler at ``scheduler``.

    Parameters
    ----------
    scheduler
        An address such as ``tcp://host:8786``; None starts a local cluster.
    workers
        Worker processes of the local cluster (default: the machine's CPUs), one thread each.
    processes
        Workers as processes (the default; HiGHS and pyomo keep per-process state) or threads of this one.

    Yields
    ------
    distributed.Client
        Closed, with its local cluster, when the block ends.

    Raises
    ------
    InputError
        When the scheduler cannot be reached.
    """
    import distributed  # noqa: F401 - configures its loggers, whose levels are set here

    chatty = [
        logging.getLogger(name)
        for name in ["distributed", *logging.root.manager.loggerDict]
        if name == "distributed" or name.startswith("distributed.")
    ]
    levels = [logger.level for logger in chatty]
    if not log.isEnabledFor(logging.DEBUG):  # -vv shows Dask's own log; otherwise its errors only
        for logger in chatty:
            logger.setLevel(logging.ERROR)
    try:
        with _client(scheduler=scheduler, workers=workers, processes=processes) as client:
            yield client
    finally:
        for logger, level in zip(chatty, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _client(*, scheduler: str | None, workers: int | None, processes: bool) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                [
                    f"--scheduler {scheduler}: cannot connect ({exc}); start a scheduler first (README, "
                    "Sweeps) or leave --scheduler out to use a local cluster"
                ]
            ) from None
        with contextlib.closing(client):
            client.run(warm_up)
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=processes,
            # any free port: None still means 8787, which a second local cluster on the machine finds taken
            # (Dask then warns and moves; the dashboard's address is in client.dashboard_link)
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(warm_up)
        yield client


def warm_up() -> None:
    """Import the solving code on a worker once, before its first case (not within that case's time)."""
    import depotsite.analysis.stress
    import depotsite.explain
    import depotsite.model
    import depotsite.results  # noqa: F401


def describe(client: Any) -> str:
    """The cluster in words: its scheduler's address and its workers and threads."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    return f"{info.get('address', '?')}: {len(workers)} worker(s), {threads} thread(s)"


def _lost(task: CaseTask, status: str, message: str) -> dict[str, Any]:
    return {
        "format": RESULT_FORMAT,
        "case_id": task.case_id,
        "fingerprint": task.fingerprint,
        "status": status,
        "message": message,
    }


def run_cases(
    client: Any,
    submissions: Sequence[Submission],
    *,
    inputs: Mapping[str, Inputs],
    travel: Mapping[str, TravelTimes],
    posture: dict[tuple[str, str], int] | None,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Run every case on the cluster; ``on_result`` gets each result as it completes (in any order).

    Parameters
    ----------
    client
        A ``distributed.Client`` (``dask_client``).
    submissions
        The cases, each naming its shared tables and travel times by key.
    inputs, travel
        The shared tables and travel times by key: each is scattered to the workers once.
    posture
        The fixed posture's stock (scattered once), or None.
    on_result
        Called in this process with each case's result dict; an exception it raises (an interrupt) cancels
        the cases still running.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    if not submissions:
        return
    used_inputs = {s.inputs_key for s in submissions}
    used_travel = {s.travel_key for s in submissions}
    shared_inputs = {k: client.scatter(inputs[k], broadcast=True, hash=False) for k in sorted(used_inputs)}
    shared_travel = {k: client.scatter(travel[k], broadcast=True, hash=False) for k in sorted(used_travel)}
    shared_posture = client.scatter(posture, broadcast=True, hash=False) if posture is not None else None
    run = uuid.uuid4().hex[:8]
    futures = {}
    for s in submissions:
        future = client.submit(
            solve_case,
            s.task,
            shared_inputs[s.inputs_key],
            shared_travel[s.travel_key],
            shared_posture,
            key=f"depotsite-case-{s.task.case_id}-{run}",
            pure=False,
        )
        futures[future.key] = (future, s.task)
    log.info("sweep: %d case(s) submitted to %s", len(futures), describe(client))
    pending = as_completed([f for f, _ in futures.values()])
    try:
        for future in pending:
            _, task = futures.pop(future.key)
            try:
                result = future.result()
            except KilledWorker as exc:
                result = _lost(task, "worker_lost", f"the worker running it was lost ({exc})")
            except FutureCancelledError as exc:
                result = _lost(task, "worker_lost", f"cancelled by the cluster ({exc})")
            except Exception as exc:
                result = _lost(task, "error", f"{type(exc).__name__}: {exc}")
            future.release()
            on_result(result)
    finally:
        for future, _ in futures.values():
            future.cancel()
