"""Running a game into a folder, resumably, one row per run as it finishes (like :mod:`runs.sweeps.sweep`).

The folder holds:

- ``manifest.json``: kind ``tokenmarket game``, the plan (roles, conditions with their full run configs,
  replicates, master seed, the game file's content), every attempt (executor, workers, git commit, versions)
  and the status;
- ``design.csv``: every run: run_id, condition, profile (``p0000`` … or ``free``), replicate, seed and
  ``strategy__<lab>`` for each role lab (fixed at the start);
- ``runs.csv``: one row per finished run: the design columns, ``status`` (ok/failed), ``error``,
  ``rounds_completed``, ``payoff_usd__<lab>``, ``chosen__<lab>`` / ``decisions__<lab>`` (options the lab
  recorded choosing), ``outcome_*`` flags and the model's ``last_``/``mean_`` metrics;
- ``errors.csv``: the design columns, error and traceback of each failed run.

Rows are appended and fsynced as runs finish, so a killed game loses no finished run; ``--resume`` keeps the
runs marked ok, reruns failed and missing ones and duplicates none. A run whose outcomes lack the payoff
(:class:`~runs.games.runner.PayoffUnavailable`) stops the game at once: every other run would fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from runs import io
from runs.sweeps.loop import check_resume, execute, now_utc as _now
from runs.sweeps.executors import RunOutcome, SerialExecutor, simulate
from runs.games.plan import GamePlan
from runs.games.runner import GameRunner, PayoffUnavailable, owners_value_payoff
from runs.games.spec import GameError
from runs.sweeps.sweep import SweepReport

MANIFEST, DESIGN_CSV, RUNS_CSV, ERRORS_CSV = "manifest.json", "design.csv", "runs.csv", "errors.csv"
KIND = "tokenmarket game"
FORMAT_VERSION = 1


def read_game_manifest(folder: Path | str) -> dict[str, Any]:
    """The parsed manifest.json of a game folder.

    Raises:
        GameError: no manifest.json there, unreadable, or not a game's.
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise GameError(f"--out: {str(folder)!r} is not a game folder (no {MANIFEST})")
    try:
        data = io.read_manifest_data(path)
    except io.OutputError as err:
        raise GameError(str(err)) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise GameError(f"{path}: not a game's manifest (kind {data.get('kind') if isinstance(data, dict) else None!r})")
    return data


def _row(task, outcome: RunOutcome) -> dict[str, Any]:
    """The runs.csv row: the task's identity, status and error, the outcome flags and the game record."""
    row = {**task.identity(), "status": outcome.row.get("status", "failed"), "error": outcome.row.get("error", "")}
    if outcome.ok and outcome.rounds is not None and len(outcome.rounds):
        record = outcome.rounds.iloc[0].to_dict()
        row["rounds_completed"] = record.pop("rounds_completed", np.nan)
        flags = {k: v for k, v in outcome.row.items() if k.startswith("outcome_")}
        metrics = {k: v for k, v in record.items() if k.startswith(("last_", "mean_"))}
        row.update({k: v for k, v in record.items() if k not in metrics})
        row.update(flags)
        row.update(metrics)
    else:
        row["rounds_completed"] = np.nan
    return row


def _repair(out: Path, ids: set[str]) -> set[str]:
    """Keep only the runs marked ok (and in the plan); return their ids."""
    runs = out / RUNS_CSV
    io.filter_csv(runs, "run_id", ids)
    done: set[str] = set()
    if runs.exists() and runs.stat().st_size:
        status = pd.read_csv(runs, usecols=["run_id", "status"], dtype=str)
        done = set(status.loc[status["status"] == "ok", "run_id"])
    io.filter_csv(runs, "run_id", done)
    io.remove_files(list(out.glob(".*.tmp")))
    return done


def run_game(out: Path | str, plan: GamePlan | None = None, executor: Any = None, *, resume: bool = False,
             progress: bool = True, simulate_fn: Callable = simulate,
             payoff_fn: Callable = owners_value_payoff) -> SweepReport:
    """Run (or resume) a game into folder ``out``, writing each run as it finishes; returns how the attempt ended
    (a :class:`runs.sweeps.sweep.SweepReport`: runs, done before, ok, failed, status, wall time).

    Fresh (``resume`` False): ``out`` must be missing or empty and ``plan`` is required. Resume: the plan in
    ``out`` is used (``plan``, if given, must give the same runs); runs marked ok are kept. ``executor``:
    one of :mod:`runs.sweeps.executors` (default serial). ``simulate_fn(task) -> RunResult`` and
    ``payoff_fn(task, result) -> {lab: $}`` replace the model and the payoff reader (tests, benchmarks); both
    must be picklable for process and Dask executors.

    Raises:
        GameError: ``out`` unusable or not a game folder, plans differ on resume, or a run's outcomes lack the
            payoff (the game stops at the first such run; finished runs stay on disk).
        OutputError: another process is writing into ``out``.
        KeyboardInterrupt: Ctrl-C or SIGTERM (as :class:`runs.sweeps.executors.SweepInterrupted`); finished runs are
            on disk and the manifest says ``interrupted``.
    """
    given = out = Path(out)
    if not resume:
        if plan is None:
            raise GameError("run_game: a plan is needed to start a game")
        tasks = plan.tasks()  # every run's config built before anything is created
    executor = executor or SerialExecutor()
    t0 = time.perf_counter()
    # One claim for runs, sweeps, calibrations and games (runs.io.claim): no other process writes here meanwhile.
    with io.claim(out) as target, executor:
        out = target
        manifest = None
        if resume:
            manifest = read_game_manifest(out)
            stored = GamePlan.from_dict(manifest["plan"])
            check_resume(plan, stored, out / MANIFEST, GameError, what="game",
                         hint="resume with the same file and options, or use another --out")
            plan = stored
            tasks = plan.tasks()
        elif problem := io.not_fresh(out, "game"):
            raise GameError(problem)
        else:
            io.check_out_dir(out, force=False)  # unwritable or special file systems fail here, before any run
        by_id = {t.run_id: t for t in tasks}
        runner = GameRunner(tuple((lab, role.move, role.vertical) for role in plan.roles for lab in role.labs),
                            simulate_fn, payoff_fn)
        table = plan.table()
        errors = pd.DataFrame(columns=[*table.columns, "error", "traceback"])
        attempt = {"started_utc": _now(), "executor": executor.name, "workers": executor.workers,
                   "git_commit": io.git_commit(), "versions": io.versions(extra=("nashpy", "dask", "distributed")),
                   "done_before": 0}
        if manifest is None:
            # created whole (manifest, design, empty error table): resumable from the moment it exists
            manifest = {"kind": KIND, "format_version": FORMAT_VERSION, "created_utc": _now(),
                        "n_runs": len(tasks), "plan": plan.to_dict(),
                        "files": [MANIFEST, DESIGN_CSV, RUNS_CSV, ERRORS_CSV], "attempts": [attempt],
                        "status": "running"}
            io.publish_folder(out, {MANIFEST: manifest, DESIGN_CSV: table, ERRORS_CSV: errors})
            done: set[str] = set()
        else:
            done = _repair(out, set(by_id))
            io.write_csv(out / ERRORS_CSV, errors)
            attempt["done_before"] = len(done)
            manifest["attempts"].append(attempt)
            manifest["status"] = "running"
            io.write_json(out / MANIFEST, manifest)
        todo = [t for t in tasks if t.run_id not in done]

        def record(outcome: RunOutcome) -> None:
            task = by_id[outcome.run_id]
            row = _row(task, outcome)
            if not outcome.ok:
                io.append_csv(out / ERRORS_CSV, pd.DataFrame([{**task.identity(), "error": row["error"],
                                                               "traceback": outcome.traceback}]))
            io.append_csv(out / RUNS_CSV, pd.DataFrame([row]))

        def stop(outcome: RunOutcome) -> GameError | None:
            error = str(outcome.row.get("error", ""))
            if not outcome.ok and error.startswith(PayoffUnavailable.__name__):
                return GameError(f"run {outcome.run_id}: {error}")
            return None

        ok, failed, status = execute(executor, todo, runner, record, out=out, manifest=manifest, attempt=attempt,
                                     total=len(tasks), done=len(done), desc=f"game {plan.name}", progress=progress,
                                     stop=stop)
    return SweepReport(given, len(tasks), len(done), ok, failed, status, time.perf_counter() - t0)


def load_game_runs(folder: Path | str) -> tuple[GamePlan, pd.DataFrame]:
    """The plan and the finished runs (``runs.csv``, ok and failed, one row per run, sorted by run_id) of a game
    folder; an empty table when no run finished. Pure: no writes.

    Raises:
        GameError: not a game folder.
    """
    folder = Path(folder)
    plan = GamePlan.from_dict(read_game_manifest(folder)["plan"])
    path = folder / RUNS_CSV
    strs = {"run_id": str, "condition": str, "profile": str, "status": str, "error": str}
    strs.update({f"{p}__{lab}": str for lab in plan.role_labs for p in ("strategy", "chosen")})
    if path.exists() and path.stat().st_size:
        runs = pd.read_csv(path, dtype={k: v for k, v in strs.items()})
        present = [c for c in strs if c in runs]
        runs[present] = runs[present].fillna("")
        runs = runs.drop_duplicates("run_id", keep="last").sort_values("run_id", kind="stable")
    else:
        runs = pd.DataFrame(columns=[*plan.table().columns, "status", "error"])
    return plan, runs.reset_index(drop=True)
