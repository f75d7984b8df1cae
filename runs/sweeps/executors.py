"""One sweep run and where it runs: :class:`RunTask` → :func:`evaluate` → :class:`RunOutcome`, on an executor.

:func:`evaluate` runs the simulation of one task and turns it into the ``runs.csv`` row (identity, status,
outcome flags, counts of the strategic options chosen, summary metrics) and its rounds table; an exception becomes a failed outcome with its traceback,
so one crashing run never stops the others. Executors: :class:`SerialExecutor` (this process),
:class:`ProcessExecutor` (a reused pool of local worker processes) and :class:`DaskExecutor` (an existing
dask.distributed cluster). They give the same numbers for the same task, since a run depends only on its
config and seed; they differ only in the order outcomes arrive. No file I/O here (see :mod:`runs.sweeps.sweep`).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market.config import MOVES, build_config
from market.outcomes import summary_metrics as outcome_summary
from market.simulate import RunResult, run_once


class SweepError(ValueError):
    """A sweep cannot start or resume: unusable folder, plan differing from the folder's, unreachable cluster."""


class SweepInterrupted(KeyboardInterrupt):
    """Raised in the main process on SIGTERM (like Ctrl-C), so the sweep stops cleanly; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


# --------------------------------------------------------------------------------------------- one run

@dataclass(frozen=True)
class RunTask:
    """One run: id, design point, replicate, seed, varied ``params`` on top of ``base_config`` (dumped
    :class:`~market.config.MarketConfig` data), ``rounds`` (None: the config's) and whether to keep rounds."""

    run_id: str
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]
    base_config: dict[str, Any] = field(repr=False)
    rounds: int | None = None
    keep_rounds: bool = True

    def config(self):
        """The validated run config. Raises ConfigError."""
        return build_config(self.base_config, self.params)

    def identity(self) -> dict[str, Any]:
        """run_id, point, replicate, seed and the parameter values: the first columns of every output row."""
        return {"run_id": self.run_id, "point": self.point, "replicate": self.replicate, "seed": self.seed,
                **self.params}


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back: the ``runs.csv`` row, the rounds table (None when failed or not kept) and
    the traceback text of a failure (None when the run succeeded)."""

    run_id: str
    row: dict[str, Any]
    rounds: pd.DataFrame | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        """True when the run finished without an exception."""
        return self.traceback is None


def simulate(task: RunTask) -> RunResult:
    """The default run function: :func:`market.simulate.run_once` on the task's config and seed."""
    return run_once(task.config(), task.seed, rounds=task.rounds, run_id=task.run_id)


def summary_metrics(model: pd.DataFrame) -> dict[str, float]:
    """``last_<col>`` / ``mean_<col>`` of every numeric model column (``market.outcomes.summary_metrics``),
    without its row count (``rounds_completed`` already says it)."""
    out = outcome_summary(model)
    out.pop("rounds", None)
    return out


def outcome_flags(result: RunResult) -> dict[str, bool]:
    """The run's outcome detector flags as ``outcome_<name>`` columns (dumb_pipe, loss_leading, …)."""
    return {f"outcome_{name}": bool(flag) for name, flag in result.flags().items()}


def decision_counts(result: RunResult) -> dict[str, int]:
    """How often the run's firms chose each option at their strategic reviews: ``reviews`` (distinct
    (round, firm) pairs with at least one ``decision`` event) and ``choice_<move>_<option>`` for every move and
    option of :data:`market.config.MOVES` (zero when never chosen, so every run has the same columns). Forced
    moves count too: they are what the firm played (the ``detail`` JSON says ``forced``)."""
    counts = {f"choice_{move}_{option}": 0 for move, options in MOVES.items() for option in options}
    ev = result.events
    if ev is None or ev.empty or "kind" not in ev:
        return {"reviews": 0, **counts}
    decisions = ev[ev["kind"] == "decision"]
    for detail, option in zip(decisions["detail"], decisions["target"]):
        key = f"choice_{json.loads(detail)['move']}_{option}"
        if key in counts:  # an option outside MOVES would be a recording bug; the row keeps the known columns
            counts[key] += 1
    reviews = int(decisions.groupby(["round", "actor"]).ngroups) if len(decisions) else 0
    return {"reviews": reviews, **counts}


def failed_outcome(task: RunTask, error: str, tb: str) -> RunOutcome:
    """The outcome of a run that raised (``error``: one line, ``tb``: the traceback text)."""
    line = " ".join(error.split())[:300]
    return RunOutcome(task.run_id, {**task.identity(), "status": "failed", "error": line,
                                    "rounds_completed": np.nan}, None, tb or line)


def evaluate(task: RunTask, fn: Callable[[RunTask], RunResult] = simulate) -> RunOutcome:
    """Run ``fn(task)`` and summarise it; any exception becomes a failed outcome (never raises ``Exception``)."""
    try:
        result = fn(task)
        row = {**task.identity(), "status": "ok", "error": "", "rounds_completed": len(result.model),
               **outcome_flags(result), **decision_counts(result), **summary_metrics(result.model)}
        return RunOutcome(task.run_id, row, result.model if task.keep_rounds else None)
    except Exception as err:
        return failed_outcome(task, f"{type(err).__name__}: {err}", traceback.format_exc())


# --------------------------------------------------------------------------------------------- executors

class SerialExecutor:
    """Runs tasks one after another in this process."""

    workers = 1
    name = "serial"

    def __enter__(self) -> "SerialExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def outcomes(self, tasks: Iterable[RunTask], fn: Callable = simulate) -> Iterator[RunOutcome]:
        """Yield one outcome per task, in task order."""
        for task in tasks:
            yield evaluate(task, fn)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux: read from /proc; elsewhere: kill -0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _worker_init(main_pid: int) -> None:
    """Pool worker set-up: ignore Ctrl-C (the main process stops the pool) and exit when the main process
    is gone (killed with SIGKILL, say), so no worker outlives its sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while _alive(main_pid):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="main-watch").start()


class ProcessExecutor:
    """A pool of ``workers`` local processes, reused across runs (a worker costs ≈ 1 s to start).

    Workers come from a forkserver that imports the simulation once, so pools after the first start in
    milliseconds. At most ``2 × workers`` runs are queued at a time. A worker that dies (segfault, OOM kill)
    breaks the pool: the pool is replaced and the runs that were in it are rerun one at a time, so only the
    run that kills its worker alone is recorded as failed. On an exception in the main process (Ctrl-C,
    SIGTERM) the workers are terminated.
    """

    name = "processes"

    def __init__(self, workers: int, start_method: str | None = None) -> None:
        if workers < 1:
            raise SweepError(f"--workers: {workers} out of range (allowed: ≥ 1)")
        self.workers = workers
        if start_method is None:  # forkserver where the platform has it (not on Windows)
            start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        self._ctx = mp.get_context(start_method)
        if start_method == "forkserver":
            self._ctx.set_forkserver_preload(["runs.sweeps.executors"])
        self._pool: ProcessPoolExecutor | None = None
        self._size = workers
        self._generation = 0

    def _new_pool(self) -> None:
        self._pool = ProcessPoolExecutor(self._size, mp_context=self._ctx, initializer=_worker_init,
                                         initargs=(os.getpid(),))
        self._generation += 1

    def __enter__(self) -> "ProcessExecutor":
        self._before = set(mp.active_children())
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pool is None:
            return
        if exc_type is None:
            self._pool.shutdown(wait=True)
        else:
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in set(mp.active_children()) - self._before:
                proc.terminate()
                proc.join(timeout=5)
        self._pool = None

    def outcomes(self, tasks: Iterable[RunTask], fn: Callable = simulate) -> Iterator[RunOutcome]:
        """Yield one outcome per task as runs finish (completion order). The pool starts here, with no more
        workers than tasks when their number is known."""
        if self._pool is None:
            self._size = min(self.workers, max(1, len(tasks))) if hasattr(tasks, "__len__") else self.workers
            self._new_pool()
        todo, suspects = iter(tasks), deque()
        pending: dict[Any, tuple[RunTask, int, bool]] = {}

        def refill() -> None:
            if suspects:  # after a worker died: rerun the runs it may have taken down one at a time
                if not pending:
                    task = suspects.popleft()
                    pending[self._pool.submit(evaluate, task, fn)] = (task, self._generation, True)
                return
            while len(pending) < 2 * self._size and (task := next(todo, None)) is not None:
                pending[self._pool.submit(evaluate, task, fn)] = (task, self._generation, False)

        refill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task, generation, alone = pending.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    if generation == self._generation:
                        self._pool.shutdown(wait=False, cancel_futures=True)
                        self._new_pool()
                    if not alone:
                        suspects.append(task)
                        continue
                    outcome = failed_outcome(task, "worker process died while running this run (it ran alone "
                                                   "in the pool)", "")
                yield outcome
            refill()


class DaskExecutor:
    """Sends runs to an existing dask.distributed cluster at ``address`` (``tcp://host:8786``).

    Workers need tokenmarket installed (same version). At most ``2 ×`` the cluster's threads are queued at a
    time; a run lost with its worker is retried once by Dask, then recorded as failed.
    """

    name = "dask"

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        self.address, self.timeout_s = address, timeout_s
        self.client = None

    @property
    def workers(self) -> int:
        """Threads in the cluster now (0 before connecting)."""
        return sum(self.client.nthreads().values()) if self.client else 0

    def __enter__(self) -> "DaskExecutor":
        from distributed import Client

        try:
            self.client = Client(self.address, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise SweepError(f"--dask-scheduler: cannot reach {self.address!r} ({err}); start one with "
                             f"`dask scheduler` and `dask worker <address>`") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def outcomes(self, tasks: Iterable[RunTask], fn: Callable = simulate) -> Iterator[RunOutcome]:
        """Yield one outcome per task as runs finish (completion order)."""
        from distributed import as_completed

        todo, pending = iter(tasks), {}
        queue = as_completed(loop=self.client.loop)

        def submit(n: int) -> None:
            for _ in range(n):
                task = next(todo, None)
                if task is None:
                    return
                fut = self.client.submit(evaluate, task, fn, pure=False, retries=1)
                pending[fut.key] = task
                queue.add(fut)

        try:
            submit(max(2, 2 * self.workers))
            for fut in queue:
                task = pending.pop(fut.key)
                if fut.status == "finished":
                    outcome = fut.result()
                else:
                    err = fut.exception()
                    outcome = failed_outcome(task, f"Dask task {fut.status}: {type(err).__name__}: {err}",
                                             "".join(traceback.format_exception(err)))
                fut.release()
                submit(1)
                yield outcome
        finally:
            queue.clear()


def make_executor(workers: int | None = None, dask_scheduler: str | None = None):
    """Dask when ``dask_scheduler`` is given, else local: serial for 1 worker, a process pool otherwise
    (``workers`` None: every core this process may use)."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    n = workers
    return SerialExecutor() if n == 1 else ProcessExecutor(n)
