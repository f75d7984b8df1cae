"""One calibration from start to finish: the search (runs.calibration.estimate), then the outputs
(runs.calibration.outputs: fit table, draws, identification, calibrated scenario). Kept apart from both so that
neither imports the other."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from market.config import ConfigError
from runs import io
from runs.sweeps.loop import check_resume
from runs.calibration import CalibrationError, outputs
from runs.calibration.estimate import (FORMAT_VERSION, MANIFEST, TRIALS, CalibrationPlan, CalibrationReport, _now,
                                       check_outputs, read_manifest, read_trials, repair, run_trials)
from runs.calibration.moments import MomentRun
from runs.sweeps.executors import SerialExecutor


def _check(plan: CalibrationPlan, simulate: Callable | None) -> None:
    try:
        check_outputs(plan, simulate)
    except ConfigError as err:
        raise CalibrationError(f"the base config cannot run: {err}") from None


def calibrate(out: Path | str, plan: CalibrationPlan | None = None, executor: Any = None, *, resume: bool = False,
              trials: int | None = None, progress: bool = True, simulate: Callable | None = None) -> CalibrationReport:
    """Run (or resume) a calibration into folder ``out``; returns a :class:`CalibrationReport`.

    Args:
        out: the calibration folder: new or empty; with ``resume``, an existing calibration.
        plan: from :func:`runs.calibration.estimate.make_plan` (required unless resuming; when resuming it must match the stored plan,
            the number of trials aside).
        executor: a sweep executor (default: :class:`~runs.sweeps.executors.SerialExecutor`).
        resume: continue the calibration stored in ``out``.
        trials: with ``resume``, a new total number of trials (more trials continue the search).
        progress: show progress bars on stderr.
        simulate: ``RunTask -> RunResult`` replacing the model (tests inject stubs here).

    Raises:
        CalibrationError: an unusable folder, a plan differing from the stored one, targets the outputs cannot
            feed (before any trial).
        OutputError: another process (a run, sweep or calibration) is writing into ``out``, or it cannot be
            created (:func:`runs.io.claim`).
        KeyboardInterrupt: Ctrl-C or SIGTERM; finished trials are on disk, the manifest says ``interrupted``.
    """
    given = Path(out)
    if not resume:
        if plan is None:
            raise CalibrationError("calibrate: a plan is needed to start a calibration")
        _check(plan, simulate)  # before the folder is claimed or created
    executor = executor or SerialExecutor()
    t0 = time.perf_counter()
    # One claim for runs, sweeps and calibrations (runs.io.claim): no other process writes here meanwhile.
    with io.claim(given) as out, executor:
        if resume:
            manifest = read_manifest(out)
            stored = CalibrationPlan.from_dict(manifest["plan"])
            check_resume(plan, stored, out / MANIFEST, CalibrationError,
                         hint="give only --trials to continue it, or use another --out")
            if trials is not None and trials < 1:
                raise CalibrationError(f"--trials: {trials} out of range (allowed: ≥ 1)")
            plan = CalibrationPlan.from_dict({**manifest["plan"], "trials": trials or (plan or stored).trials})
            _check(plan, simulate)
            repair(out, plan)
            done_before = len(read_trials(out))
            manifest["plan"]["trials"] = plan.trials
        else:
            if problem := io.not_fresh(out, "calibration"):
                raise CalibrationError(problem)
            io.check_out_dir(out, force=False)
            manifest = {"kind": "tokenmarket calibration", "format_version": FORMAT_VERSION, "created_utc": _now(),
                        "plan": plan.to_dict(), "attempts": [], "status": "running"}
            done_before = 0
        fn = MomentRun(plan.targets, simulate)
        attempt = {"started_utc": _now(), "executor": executor.name, "workers": executor.workers,
                   "git_commit": io.git_commit(), "versions": io.versions(extra=("optuna", "dask", "distributed")),
                   "trials_done_before": done_before}
        manifest["attempts"].append(attempt)
        manifest["status"] = "running"
        if resume:
            io.write_json(out / MANIFEST, manifest)
        else:  # created whole, its manifest in it: resumable from the moment it exists
            io.publish_folder(out, {MANIFEST: manifest})
        status = "interrupted"
        try:
            run_trials(out, plan, executor, fn, progress)
            io.write_csv(out / TRIALS, read_trials(out))  # sorted by trial number
            summary = outputs.finish(out, plan, executor, fn, progress)
            status = "complete"
        finally:
            attempt.update(finished_utc=_now(), status=status, trials_done=len(read_trials(out)))
            manifest["status"] = status
            io.write_json(out / MANIFEST, manifest)
    return CalibrationReport(given, len(read_trials(out)), done_before, summary.best_trial, summary.best_objective,
                             summary.within, len(plan.targets.targets), status,
                             time.perf_counter() - t0)
