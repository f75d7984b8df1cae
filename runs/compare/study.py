"""A study: several scenarios (arms) × replicate seeds, optionally over calibration draws, run on the sweep
executors into one folder, resumably. ``tokenmarket compare`` is a study of two arms, ``tokenmarket outcomes`` one
of any number.

**Common random numbers.** Replicate r has the same seed in every arm (``runs.sweeps.designs.run_seed`` with
common random numbers: it depends on the master seed and r only), so the arms' runs differ only by the conditions
the scenarios set, and differences between arms are paired by replicate.

**Parameter draws.** With ``draws`` (``runs.calibration.uncertainty.draw_overrides``), replicate r runs under draw
r mod D in every arm: the frequencies average over the calibration's plausible parameter vectors as well as over
seeds. A draw that a scenario's schema rejects stops the study before any run.

The folder holds ``manifest.json`` (kind, plan, attempts, status), ``design.csv`` (run_id, point = arm index, arm,
scenario, replicate, seed, draw), ``runs.csv`` (one row per finished run: identity, status, outcome flags, summary
metrics; written as each run finishes and fsynced), ``rounds.csv`` (each successful run's model table with its
run_id) and ``errors.csv``. A killed study resumes where it stopped (``resume=True``): runs marked done are kept,
the rest rerun; a finished run is never duplicated.
"""

from __future__ import annotations

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
from runs.sweeps.designs import run_seed
from runs.sweeps.executors import RunOutcome, RunTask, SerialExecutor, SweepError, simulate

MANIFEST, DESIGN_CSV, RUNS_CSV, ROUNDS_CSV, ERRORS_CSV = ("manifest.json", "design.csv", "runs.csv", "rounds.csv",
                                                          "errors.csv")
KINDS = {"compare": "tokenmarket compare", "outcomes": "tokenmarket outcomes"}
FORMAT_VERSION = 1


class StudyError(SweepError):
    """A study cannot start or resume: bad plan, unusable folder, a plan differing from the folder's."""


@dataclass(frozen=True)
class Arm:
    """One side of a study: its ``label`` (a, b, or the scenario name), the ``scenario`` (name or TOML path), the
    ``overrides`` applied to it and the resulting config data (dumped :class:`~market.config.MarketConfig`)."""

    label: str
    scenario: str
    overrides: dict[str, Any]
    config: dict[str, Any] = field(repr=False)

    def horizon(self, rounds: int | None) -> int:
        """Months each run of this arm lasts: ``rounds``, else the config's ``world.rounds``."""
        return int(rounds if rounds is not None else self.config["world"]["rounds"])


@dataclass(frozen=True)
class StudyPlan:
    """What fixes a study's results: kind (compare, outcomes), arms, replicates, master seed, rounds (None: each
    config's), calibration draws (each a dict of dotted overrides) and the file they came from."""

    kind: str
    arms: tuple[Arm, ...]
    replicates: int
    master_seed: int = 0
    rounds: int | None = None
    draws: tuple[dict[str, Any], ...] = ()
    draws_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json ``plan``)."""
        return {"kind": self.kind, "replicates": self.replicates, "master_seed": self.master_seed,
                "rounds": self.rounds, "draws_file": self.draws_file, "draws": list(self.draws),
                "arms": [{"label": a.label, "scenario": a.scenario, "overrides": a.overrides, "config": a.config}
                         for a in self.arms]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StudyPlan":
        """Inverse of :meth:`to_dict`."""
        arms = tuple(Arm(a["label"], a["scenario"], a.get("overrides") or {}, a["config"]) for a in data["arms"])
        return cls(data["kind"], arms, int(data["replicates"]), int(data["master_seed"]), data.get("rounds"),
                   tuple(data.get("draws") or ()), data.get("draws_file"))

    def differences(self, other: "StudyPlan") -> list[str]:
        """Names of the plan parts that differ from ``other``'s (empty when both give the same runs)."""
        a, b = self.to_dict(), other.to_dict()
        return [k for k in ("kind", "replicates", "master_seed", "rounds", "draws", "arms") if a[k] != b[k]]

    def table(self) -> pd.DataFrame:
        """One row per run: run_id (``<arm>-r<replicate>``), point (arm index), arm, scenario, replicate, seed
        (common random numbers: the same for every arm) and draw (−1 without draws)."""
        width = max(3, len(str(self.replicates - 1)))
        rows = []
        for i, arm in enumerate(self.arms):
            for r in range(self.replicates):
                rows.append({"run_id": f"{arm.label}-r{r:0{width}d}", "point": i, "arm": arm.label,
                             "scenario": arm.scenario, "replicate": r,
                             "seed": run_seed(self.master_seed, 0, r, common_random_numbers=True),
                             "draw": r % len(self.draws) if self.draws else -1})
        return pd.DataFrame(rows, columns=["run_id", "point", "arm", "scenario", "replicate", "seed", "draw"])

    def tasks(self, table: pd.DataFrame) -> list[RunTask]:
        """One :class:`RunTask` per design row: the arm's config with the row's draw as its parameters."""
        out = []
        for rec in table.to_dict("records"):
            arm = self.arms[int(rec["point"])]
            params = dict(self.draws[int(rec["draw"])]) if rec["draw"] >= 0 else {}
            out.append(RunTask(str(rec["run_id"]), int(rec["point"]), int(rec["replicate"]), int(rec["seed"]),
                               params, arm.config, self.rounds, True))
        return out


def _label(text: str) -> str:
    return Path(text).stem if text.endswith(".toml") else text


def make_plan(kind: str, arms: list[tuple[str, str, dict[str, Any]]], replicates: int, *, master_seed: int = 0,
              rounds: int | None = None, draws_file: str | None = None) -> StudyPlan:
    """Validate a study: ``arms`` as (label, scenario, overrides), each config built and checked, and every
    calibration draw of ``draws_file`` checked against every arm's schema, before any run.

    Raises:
        ConfigError: a scenario or override the schema rejects.
        StudyError: bad kind, replicates or rounds, duplicate labels, unreadable draws or a draw an arm rejects
            (the message names the flag).
    """
    if kind not in KINDS:
        raise StudyError(f"kind: {kind!r} unknown; allowed: {', '.join(KINDS)}")
    if not isinstance(replicates, int) or replicates < 1:
        raise StudyError(f"--replicates: {replicates!r} out of range (allowed: ≥ 1)")
    if rounds is not None and (not isinstance(rounds, int) or rounds < 1):
        raise StudyError(f"--rounds: {rounds!r} out of range (allowed: ≥ 1)")
    labels = [label for label, _, _ in arms]
    if len(set(labels)) != len(labels):
        raise StudyError(f"scenarios: each may appear once, got {labels}")
    built = tuple(Arm(label, str(scenario), dict(ov), config_from(scenario, ov).model_dump(mode="json"))
                  for label, scenario, ov in arms)
    draws: tuple[dict[str, Any], ...] = ()
    if draws_file is not None:
        from runs.calibration import CalibrationError
        from runs.calibration.uncertainty import draw_overrides

        try:
            draws = tuple(draw_overrides(draws_file))
        except CalibrationError as err:
            raise StudyError(f"--draws: {err}") from None
        if not draws:
            raise StudyError(f"--draws: {draws_file!r} holds no draw")
        for arm in built:
            for d, values in enumerate(draws):
                try:
                    build_config(arm.config, values)
                except ConfigError as err:
                    raise StudyError(f"--draws: draw {d} does not apply to scenario {arm.scenario!r}: {err}") from None
    return StudyPlan(kind, built, replicates, master_seed, rounds, draws, str(draws_file) if draws_file else None)


def arms_from_scenarios(scenarios: list[str], overrides: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Arms labelled by scenario name (a TOML path by its file stem), each with the same ``overrides``."""
    return [(_label(s), s, dict(overrides)) for s in scenarios]


@dataclass(frozen=True)
class StudyReport:
    """How a study attempt ended: folder, runs in the plan, done before, succeeded and failed in this attempt,
    status (complete, complete_with_failures, interrupted) and wall time (s)."""

    out: Path
    n_runs: int
    done_before: int
    ok: int
    failed: int
    status: str
    elapsed_s: float


def read_manifest(folder: Path | str, kind: str | None = None) -> dict[str, Any]:
    """The manifest of a study folder (of ``kind`` if given).

    Raises:
        StudyError: no manifest.json, unreadable, or not a study of that kind.
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise StudyError(f"--out: {str(folder)!r} is not a study folder (no {MANIFEST})")
    try:
        data = io.read_manifest_data(path)
    except io.OutputError as err:
        raise StudyError(str(err)) from None
    kinds = [KINDS[kind]] if kind else list(KINDS.values())
    if not isinstance(data, dict) or data.get("kind") not in kinds:
        raise StudyError(f"{path}: not a {' or '.join(kinds)} folder")
    return data


def is_study(folder: Path | str) -> bool:
    """Whether ``folder`` holds a compare or outcomes study (its manifest says so)."""
    try:
        read_manifest(folder)
    except StudyError:
        return False
    return True


def _repair(out: Path, table: pd.DataFrame) -> set[str]:
    """Keep only runs marked done (status ok) in runs.csv and rounds.csv; return their ids."""
    runs = out / RUNS_CSV
    io.filter_csv(runs, "run_id", set(table["run_id"]))
    done: set[str] = set()
    if runs.exists() and runs.stat().st_size:
        status = pd.read_csv(runs, usecols=["run_id", "status"], dtype=str)
        done = set(status.loc[status["status"] == "ok", "run_id"])
    io.filter_csv(runs, "run_id", done)
    io.filter_csv(out / ROUNDS_CSV, "run_id", done)
    io.remove_files(list(out.glob(".*.tmp")))
    io.write_csv(out / ERRORS_CSV, pd.DataFrame(columns=[*table.columns, "error", "traceback"]))
    return done


def _record(out: Path, outcome: RunOutcome) -> None:
    if outcome.ok and outcome.rounds is not None:
        io.append_csv(out / ROUNDS_CSV, outcome.rounds)
    if not outcome.ok:
        ident = {k: v for k, v in outcome.row.items() if k not in ("status", "error", "rounds_completed")}
        io.append_csv(out / ERRORS_CSV, pd.DataFrame([{**ident, "error": outcome.row["error"],
                                                       "traceback": outcome.traceback}]))
    io.append_csv(out / RUNS_CSV, pd.DataFrame([outcome.row]))


def run_study(out: Path | str, plan: StudyPlan | None = None, executor: Any = None, *, kind: str | None = None,
              resume: bool = False, progress: bool = True, fn: Callable = simulate) -> StudyReport:
    """Run (or resume) a study into folder ``out``, writing each run as it finishes.

    Fresh: ``out`` must be missing or empty and ``plan`` is required. Resume: the stored plan is used (``plan``,
    if given, must match it; ``kind`` must match the folder's). ``executor`` defaults to serial; ``fn`` replaces
    the simulation (tests).

    Raises:
        StudyError: unusable folder, not a study of this kind, plan differing from the stored one.
        OutputError: another process is writing into ``out``.
        KeyboardInterrupt: Ctrl-C or SIGTERM (``SweepInterrupted``); finished runs are on disk and the manifest
            says ``interrupted``.
    """
    given = out = Path(out)
    if not resume:
        if plan is None:
            raise StudyError("run_study: a plan is needed to start a study")
        table = plan.table()
        tasks = plan.tasks(table)  # every run's config built before anything is created
    executor = executor or SerialExecutor()
    started, t0 = _now(), time.perf_counter()
    # One claim for runs, sweeps, calibrations, games and studies (runs.io.claim): no other process writes here.
    with io.claim(out) as target, executor:
        out = target
        if resume:
            manifest = read_manifest(out, kind)
            stored = StudyPlan.from_dict(manifest["plan"])
            check_resume(plan, stored, out / MANIFEST, StudyError,
                         hint="give no scenarios or design options to continue it, or use another --out")
            plan = stored
            table = pd.read_csv(out / DESIGN_CSV, dtype={"run_id": str, "arm": str, "scenario": str})
            tasks = plan.tasks(table)
        elif problem := io.not_fresh(out, "study"):
            raise StudyError(problem)
        else:
            io.check_out_dir(out, force=False)  # unwritable or special file systems fail here, before any run
        attempt = {"started_utc": started, "executor": executor.name, "workers": executor.workers,
                   "git_commit": io.git_commit(), "versions": io.versions(), "done_before": 0}
        if not resume:
            # created whole (manifest, design, empty error table): resumable from the moment it exists
            manifest = {"kind": KINDS[plan.kind], "format_version": FORMAT_VERSION, "created_utc": started,
                        "n_runs": len(table), "plan": plan.to_dict(), "attempts": [attempt], "status": "running",
                        "files": [MANIFEST, DESIGN_CSV, RUNS_CSV, ROUNDS_CSV, ERRORS_CSV]}
            io.publish_folder(out, {MANIFEST: manifest, DESIGN_CSV: table,
                                    ERRORS_CSV: pd.DataFrame(columns=[*table.columns, "error", "traceback"])})
            done: set[str] = set()
        else:
            done = _repair(out, table)
            attempt["done_before"] = len(done)
            manifest["attempts"].append(attempt)
            manifest["status"] = "running"
            io.write_json(out / MANIFEST, manifest)
        todo = [t for t in tasks if t.run_id not in done]
        ok, failed, status = execute(executor, todo, fn, lambda outcome: _record(out, outcome), out=out,
                                     manifest=manifest, attempt=attempt, total=len(tasks), done=len(done),
                                     desc=plan.kind, progress=progress)
    return StudyReport(given, len(tasks), len(done), ok, failed, status, time.perf_counter() - t0)


@dataclass(frozen=True)
class Study:
    """A study folder read back: its plan, design table, runs table (runs.csv with arm, scenario and draw
    joined; every run that finished, ok or failed) and rounds table (model rows of successful runs, with arm,
    scenario, replicate and draw joined)."""

    folder: Path
    plan: StudyPlan
    design: pd.DataFrame
    runs: pd.DataFrame
    rounds: pd.DataFrame
    status: str


def load_study(folder: Path | str, kind: str | None = None) -> Study:
    """Read a study folder (no writes). A study still running or killed reads fine: rounds of runs not marked
    done are left out.

    Raises:
        StudyError: not a study folder (of ``kind``).
    """
    folder = Path(folder)
    manifest = read_manifest(folder, kind)
    plan = StudyPlan.from_dict(manifest["plan"])
    design = pd.read_csv(folder / DESIGN_CSV, dtype={"run_id": str, "arm": str, "scenario": str})
    ident = design[["run_id", "arm", "scenario", "draw"]]
    path = folder / RUNS_CSV
    runs = (pd.read_csv(path, dtype={"run_id": str, "status": str}) if path.exists() and path.stat().st_size
            else pd.DataFrame(columns=["run_id", "point", "replicate", "seed", "status"]))
    runs = runs.drop_duplicates("run_id").merge(ident, on="run_id", how="left").copy()
    ok = runs.loc[runs["status"] == "ok", ["run_id", "arm", "scenario", "replicate", "draw"]]
    rpath = folder / ROUNDS_CSV
    rounds = pd.read_csv(rpath, dtype={"run_id": str}) if rpath.exists() and rpath.stat().st_size else pd.DataFrame(
        columns=["run_id", "round"])
    rounds = rounds[rounds["run_id"].isin(set(ok["run_id"]))].merge(ok, on="run_id", how="left")
    return Study(folder, plan, design, runs.sort_values("run_id").reset_index(drop=True),
                 rounds.sort_values(["run_id", "round"], kind="stable").reset_index(drop=True),
                 str(manifest.get("status", "")))
