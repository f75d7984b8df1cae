"""Sweeps: a plan (scenario + design × replicate seeds) run on an executor into one folder, resumably (DESIGN.md §6).

The folder (``--out``) holds:

- ``manifest.json``: the plan (design, master seed, base config, rounds, output format), every attempt with
  its executor, git commit and package versions, and the status;
- ``design.csv``: every run's run_id, point, replicate, seed and parameter values (fixed at the start);
- ``runs.csv``: one row per finished run: run_id, point, replicate, seed, each varied parameter, ``status``
  (ok/failed), ``error``, ``rounds_completed``, ``outcome_*`` flags, ``last_<metric>`` / ``mean_<metric>``;
- ``rounds.csv`` (or ``rounds.parquet/``, one file per run): the model table of each successful run, one row
  per run and round;
- ``errors.csv``: run_id, point, replicate, seed, parameters, error and traceback of each failed run.

Rows are appended and fsynced as runs finish (rounds first, then the ``runs.csv`` row that marks the run
done), so a killed sweep loses no finished run. Resuming drops what is not marked done (partial rounds, failed
rows, a torn last line), reruns failed and missing runs and duplicates none. Seeds depend only on the master
seed, point and replicate (:mod:`runs.sweeps.designs`), so serial, local-process and Dask sweeps give the same rows.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from market.config import ConfigError, build_config
from market.scenario import config_from
from runs import io
from runs.sweeps.loop import check_resume, execute, now_utc as _now
from runs.sweeps.designs import Design, design_from_dict, make_design
from runs.sweeps.executors import (DaskExecutor, ProcessExecutor, RunOutcome, RunTask, SerialExecutor, SweepError,
                            SweepInterrupted, make_executor, simulate)

__all__ = ["SweepPlan", "SweepReport", "make_plan", "run_sweep", "load_sweep", "read_manifest", "SweepError",
           "SweepInterrupted", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor"]

MANIFEST, DESIGN_CSV, RUNS_CSV, ROUNDS_CSV, ROUNDS_PARQUET, ERRORS_CSV = (
    "manifest.json", "design.csv", "runs.csv", "rounds.csv", "rounds.parquet", "errors.csv")
ROUNDS_FORMATS = ("csv", "parquet", "none")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SweepPlan:
    """Everything that fixes a sweep's results: the design, the base config data (scenario + ``--set``,
    dumped), ``rounds`` (None: the config's ``world.rounds``) and how rounds are kept (csv, parquet, none).
    ``scenario`` and ``overrides`` are kept for the record."""

    design: Design
    base_config: dict[str, Any] = field(repr=False)
    scenario: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    rounds: int | None = None
    rounds_format: str = "csv"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json ``plan``)."""
        return {"design": self.design.to_dict(), "scenario": self.scenario, "overrides": self.overrides,
                "rounds": self.rounds, "rounds_format": self.rounds_format, "base_config": self.base_config}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SweepPlan":
        """Inverse of :meth:`to_dict`."""
        return cls(design_from_dict(data["design"]), data["base_config"], data.get("scenario"),
                   data.get("overrides") or {}, data.get("rounds"), data.get("rounds_format", "csv"))

    def differences(self, other: "SweepPlan") -> list[str]:
        """Names of the plan parts that differ from ``other``'s (empty when both give the same runs)."""
        a, b = self.to_dict(), other.to_dict()
        out = [k for k in ("rounds", "rounds_format", "base_config") if a[k] != b[k]]
        return out + [f"design.{k}" for k in a["design"] if a["design"][k] != b["design"].get(k)]

    def tasks(self, table: pd.DataFrame) -> list[RunTask]:
        """One :class:`RunTask` per row of the design table, each point's config validated once.

        Raises:
            ConfigError: a point whose combination of values the schema rejects (naming point and values).
        """
        kinds = {p.key: p.kind for p in self.design.parameters}
        out, checked = [], set()
        for rec in table.to_dict("records"):
            params = {k: _cast(kinds[k], rec[k]) for k in kinds}
            point = int(rec["point"])
            if point not in checked:
                try:
                    build_config(self.base_config, params)
                except ConfigError as err:
                    raise ConfigError(f"design point {point} {params}: {err}") from None
                checked.add(point)
            out.append(RunTask(str(rec["run_id"]), point, int(rec["replicate"]), int(rec["seed"]), params,
                               self.base_config, self.rounds, self.rounds_format != "none"))
        return out


def _cast(kind: str, value: Any) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    return {"int": int, "float": float, "str": str}[kind](value)


def make_plan(scenario: str | None = None, overrides: dict[str, Any] | None = None, *, rounds: int | None = None,
              rounds_format: str = "csv", **design: Any) -> SweepPlan:
    """Validate a sweep plan: the scenario with fixed ``overrides`` (``--set``), a design (keyword arguments
    of :func:`runs.sweeps.designs.make_design`: grid, method, n, ranges, replicates, master_seed,
    common_random_numbers), ``rounds`` and the rounds format. Every listed value and range end is checked
    against the schema here; :func:`run_sweep` checks every point's full config before starting any run.

    Raises:
        ConfigError: any bad input (field, value and what is allowed in the message).
    """
    base = config_from(scenario, overrides or {}).model_dump(mode="json")
    if rounds is not None and (not isinstance(rounds, int) or rounds < 1):
        raise ConfigError(f"--rounds: {rounds!r} out of range (allowed: ≥ 1)")
    if rounds_format not in ROUNDS_FORMATS:
        raise ConfigError(f"rounds format: {rounds_format!r} unknown; allowed: {', '.join(ROUNDS_FORMATS)}")
    if rounds_format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ModuleNotFoundError:
            raise ConfigError("--parquet: needs pyarrow (pip install 'tokenmarket[sweep]')") from None
    d = make_design(base, **design)
    if rounds is not None and "world.rounds" in d.keys:
        raise ConfigError("--rounds: cannot be combined with varying world.rounds")
    return SweepPlan(d, base, str(scenario) if scenario else None, dict(overrides or {}), rounds, rounds_format)


@dataclass(frozen=True)
class SweepReport:
    """How a sweep attempt ended: folder, runs in the design, runs done before this attempt, runs that
    succeeded and failed in it, status (complete, complete_with_failures) and wall time (s)."""

    out: Path
    n_runs: int
    done_before: int
    ok: int
    failed: int
    status: str
    elapsed_s: float


def read_manifest(folder: Path) -> dict[str, Any]:
    """The parsed manifest.json of a sweep folder.

    Raises:
        SweepError: no manifest.json there, or not a sweep's.
    """
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{str(folder)!r} is not a sweep folder (no {MANIFEST})") from None
    except json.JSONDecodeError as err:
        raise SweepError(f"{path}: unreadable ({err})") from None
    if not isinstance(data, dict) or data.get("kind") != io.SWEEP_KIND:
        raise SweepError(f"{path}: not a sweep manifest")
    return data


def _read_design(folder: Path, design: Design) -> pd.DataFrame:
    strs = {p.key: str for p in design.parameters if p.kind == "str"}
    return pd.read_csv(folder / DESIGN_CSV, dtype={"run_id": str, **strs}, keep_default_na=False)


def _versions() -> dict[str, str]:
    return io.versions(extra=("SALib", "scipy", "dask", "distributed", "pyarrow"))


def _create(out: Path, plan: SweepPlan, table: pd.DataFrame, attempt: dict[str, Any]) -> dict[str, Any]:
    """Create the sweep folder whole (manifest, design, empty error table) in one step: from the moment it
    exists it is resumable, whatever moment the process is killed at."""
    files = [MANIFEST, DESIGN_CSV, RUNS_CSV, ERRORS_CSV] + {"csv": [ROUNDS_CSV], "parquet": [ROUNDS_PARQUET + "/"],
                                                           "none": []}[plan.rounds_format]
    manifest = {"kind": io.SWEEP_KIND, "format_version": FORMAT_VERSION, "created_utc": _now(),
                "master_seed": plan.design.master_seed, "n_runs": len(table), "plan": plan.to_dict(),
                "files": files, "attempts": [attempt], "status": "running"}
    io.publish_folder(out, {MANIFEST: manifest, DESIGN_CSV: table,
                            ERRORS_CSV: pd.DataFrame(columns=[*table.columns, "error", "traceback"])})
    return manifest


def _repair(out: Path, table: pd.DataFrame) -> set[str]:
    """Keep only runs marked done (status ok); return their ids. Failed and partial output is dropped."""
    runs = out / RUNS_CSV
    io.filter_csv(runs, "run_id", set(table["run_id"]))
    done = set()
    if runs.exists() and runs.stat().st_size:
        status = pd.read_csv(runs, usecols=["run_id", "status"], dtype=str)
        done = set(status.loc[status["status"] == "ok", "run_id"])
    io.filter_csv(runs, "run_id", done)
    io.filter_csv(out / ROUNDS_CSV, "run_id", done)
    parts = out / ROUNDS_PARQUET
    stale = [p for p in parts.glob("*.parquet") if p.stem not in done] if parts.is_dir() else []
    io.remove_files(stale + list(out.glob(".*.tmp")) + (list(parts.glob(".*.tmp")) if parts.is_dir() else []))
    io.write_csv(out / ERRORS_CSV, pd.DataFrame(columns=[*table.columns, "error", "traceback"]))
    return done


def _record(out: Path, plan: SweepPlan, outcome: RunOutcome) -> None:
    if outcome.ok and outcome.rounds is not None:
        if plan.rounds_format == "csv":
            io.append_csv(out / ROUNDS_CSV, outcome.rounds)
        elif plan.rounds_format == "parquet":
            io.write_parquet(out / ROUNDS_PARQUET / f"{outcome.run_id}.parquet", outcome.rounds)
    if not outcome.ok:
        ident = {k: v for k, v in outcome.row.items() if k not in ("status", "error", "rounds_completed")}
        io.append_csv(out / ERRORS_CSV, pd.DataFrame([{**ident, "error": outcome.row["error"],
                                                       "traceback": outcome.traceback}]))
    io.append_csv(out / RUNS_CSV, pd.DataFrame([outcome.row]))


def run_sweep(out: Path | str, plan: SweepPlan | None = None, executor: Any = None, *, resume: bool = False,
              progress: bool = True, fn: Callable = simulate) -> SweepReport:
    """Run a sweep into folder ``out``, writing each run as it finishes; returns a :class:`SweepReport`.

    Fresh (``resume`` False): ``out`` must be missing or empty; ``plan`` is required. Resume: the plan stored
    in ``out`` is used (``plan``, if given, must match it); runs marked done are skipped, the rest run.
    ``executor`` defaults to :class:`SerialExecutor`; ``fn(task) -> RunResult`` replaces the simulation
    (tests). ``progress`` shows a bar on stderr: runs done, failed, rate and time left.

    Raises:
        ConfigError: a design point the schema rejects (before any run).
        SweepError: ``out`` unusable, not a sweep folder (resume), plan differing from the stored one,
            executor cannot start (e.g. Dask scheduler unreachable).
        OutputError: another run or sweep is writing into ``out`` (:func:`runs.io.claim`), or ``out`` cannot
            be created.
        KeyboardInterrupt: Ctrl-C or :class:`SweepInterrupted` (SIGTERM); finished runs are on disk, the
            manifest says ``interrupted`` and workers are stopped.
    """
    given = out = Path(out)
    if not resume:
        if plan is None:
            raise SweepError("run_sweep: a plan is needed to start a sweep")
        table = plan.design.table()
        tasks = plan.tasks(table)  # every point's config checked before anything is created
    executor = executor or SerialExecutor()
    started, t0 = _now(), time.perf_counter()
    with io.claim(out) as target, executor:
        out = target
        if resume:
            manifest = read_manifest(out)
            stored = SweepPlan.from_dict(manifest["plan"])
            check_resume(plan, stored, out / MANIFEST, SweepError,
                         hint="give no design options to continue it, or use another --out")
            plan, table = stored, _read_design(out, stored.design)
            tasks = plan.tasks(table)
        elif problem := io.not_fresh(out, "sweep"):
            raise SweepError(problem)
        attempt = {"started_utc": started, "executor": executor.name, "workers": executor.workers,
                   "git_commit": io.git_commit(), "versions": _versions(), "done_before": 0}
        if not resume:
            io.check_out_dir(out, force=False)  # unwritable or special file systems fail here, before any run
            manifest, done = _create(out, plan, table, attempt), set()
        else:
            done = _repair(out, table)
            commits = {a.get("git_commit") for a in manifest["attempts"]}
            if progress and commits and io.git_commit() not in commits:
                print(f"note: resuming a sweep started from commit(s) {', '.join(sorted(map(str, commits)))}; "
                      f"this is {io.git_commit()}", file=sys.stderr)
            attempt["done_before"] = len(done)
            manifest["attempts"].append(attempt)
            manifest["status"] = "running"
            io.write_json(out / MANIFEST, manifest)
        todo = [t for t in tasks if t.run_id not in done]
        ok, failed, status = execute(executor, todo, fn, lambda outcome: _record(out, plan, outcome), out=out,
                                     manifest=manifest, attempt=attempt, total=len(tasks), done=len(done),
                                     desc="sweep", progress=progress, show_failed_at_start=True)
    return SweepReport(given, len(tasks), len(done), ok, failed, status, time.perf_counter() - t0)


def load_sweep(folder: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a sweep folder (pure: no writes) into ``(runs_df, rounds_df)``.

    ``runs_df``: one row per finished run (``runs.csv``; status ok or failed), sorted by run_id; runs never
    finished are absent (see design.csv). ``rounds_df``: one row per (successful run, round) with the model
    table's columns (units in the names), the run's point, replicate and varied parameters joined in, sorted
    by run_id and round; empty when the sweep kept no rounds or no run finished. A sweep still running or
    killed reads fine: rounds of runs not marked done are left out.

    Raises:
        SweepError: not a sweep folder.
    """
    folder = Path(folder)
    plan = SweepPlan.from_dict(read_manifest(folder)["plan"])
    keys = plan.design.keys
    strs = {p.key: str for p in plan.design.parameters if p.kind == "str"}
    path = folder / RUNS_CSV
    runs = (pd.read_csv(path, dtype={"run_id": str, "status": str, **strs}) if path.exists() and path.stat().st_size
            else pd.DataFrame(columns=["run_id", "point", "replicate", "seed", *keys, "status"]))
    runs = runs.drop_duplicates("run_id").sort_values("run_id", kind="stable").reset_index(drop=True)
    for p in plan.design.parameters:
        if p.kind == "float":
            runs[p.key] = runs[p.key].astype(float)
    ok = runs.loc[runs["status"] == "ok", ["run_id", "point", "replicate", *keys]]
    parts = folder / ROUNDS_PARQUET
    if (folder / ROUNDS_CSV).exists():
        rounds = pd.read_csv(folder / ROUNDS_CSV, dtype={"run_id": str})
    elif parts.is_dir() and any(parts.glob("*.parquet")):
        rounds = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))], ignore_index=True)
    else:
        return runs, pd.DataFrame()
    rounds = rounds[rounds["run_id"].isin(set(ok["run_id"]))]
    rounds = rounds.merge(ok, on="run_id", how="left")
    front = ["run_id", "point", "replicate", "seed", *keys]
    rounds = rounds[front + [c for c in rounds.columns if c not in front]]
    return runs, rounds.sort_values(["run_id", "round"], kind="stable").reset_index(drop=True)
