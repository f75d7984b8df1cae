"""Estimation by simulated moments: the plan, the optuna search on the sweep executors, resume, the outputs.

A *trial* is one parameter vector evaluated on every seed of the plan (common random numbers: the same seeds for
every trial), on the reduced population; its objective is ``J`` of :mod:`runs.calibration.moments`. Trials are
asked from optuna in batches of ``batch`` (ask/tell), their runs sent to a sweep executor (this process, local
processes or a Dask cluster), and told back when all their seeds are in. Because every ask of a batch sees the
same history and every trial's sampler seed depends only on the master seed and the trial number, the trials do
not depend on the executor, the number of workers or the order runs finish in, and a resumed calibration gives
the same trials as an uninterrupted one.

The folder (``--out``):

- ``manifest.json``: the plan (the targets and parameters files' text, base config, seeds, sizes), attempts, status;
- ``study.journal``: optuna's journal (JournalStorage on a file: no server); the record of asked and told trials;
- ``trials.csv``: one row per finished trial: trial, state, objective, missing, parameter values, error;
- ``moments.csv``: one row per evaluation, seed and target: eval id, trial, seed, model value, error ``d``;
- then, once the trials are done (:func:`finish`): ``draws.csv``, ``identification.csv``, ``fit.csv``,
  ``paths.csv``, ``best.json`` and ``calibrated.toml`` (see :mod:`runs.calibration.outputs`).

Rows are appended and fsynced as trials finish (moments first, then the trials row, then the tell), so a kill
loses only the trials in flight; resuming drops their partial rows and evaluates them again with the parameters
the journal holds for them.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from market.config import ConfigError
from market.scenario import config_from
from runs import io
from runs.sweeps.loop import now_utc as _now
from runs.calibration import CalibrationError
from runs.calibration.moments import MomentRun, check_columns, objective
from runs.calibration.parameters import ParameterSet, parse_parameters, load_parameters
from runs.calibration.targets import TargetTable, load_targets, parse_targets
from runs.sweeps.designs import run_seed
from runs.sweeps.executors import RunOutcome, RunTask, SerialExecutor

MANIFEST, JOURNAL, TRIALS, MOMENTS = "manifest.json", "study.journal", "trials.csv", "moments.csv"
STUDY = "calibration"
SAMPLERS = ("tpe", "cmaes", "qmc")
FORMAT_VERSION = 1
_SAMPLER_KEY = 3  # SeedSequence spawn keys: 0/1 run seeds (runs.sweeps.designs), 2 sweep samplers, 3 trials, 4 bootstrap
MOMENT_COLUMNS = ["eval", "trial", "seed_index", "seed", "target", "value", "d", "missing"]


# ------------------------------------------------------------------------------------------ the plan

@dataclass(frozen=True)
class CalibrationPlan:
    """Everything that fixes a calibration's results.

    Attributes:
        targets, parameters: the validated targets table and parameter set (their files' text is kept).
        base_config: dumped config (scenario + ``--set`` + the reduced population) every trial starts from.
        scenario, overrides: as given, for the record.
        customers: simulated customers per run (the reduced population).
        rounds: months per run (at least the last round a target reads).
        seeds: the run seeds, shared by every trial (common random numbers).
        master_seed: seeds of runs, samplers and the bootstrap derive from it.
        trials: parameter vectors to evaluate; batch: trials asked per batch; sampler: tpe | cmaes | qmc.
        draws: bootstrap draws; jacobian_step: finite-difference step in unit coordinates; path_draws: distinct
            draws whose paths are re-run for the fit charts.
    """

    targets: TargetTable
    parameters: ParameterSet
    base_config: dict[str, Any] = field(repr=False)
    scenario: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    customers: int = 20_000
    rounds: int = 24
    seeds: tuple[int, ...] = ()
    master_seed: int = 0
    trials: int = 200
    batch: int = 4
    sampler: str = "tpe"
    draws: int = 200
    jacobian_step: float = 0.05
    path_draws: int = 10

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json ``plan``); :meth:`from_dict` inverts it."""
        return {"targets_path": self.targets.path, "targets_text": self.targets.text,
                "parameters_path": self.parameters.path, "parameters_text": self.parameters.text,
                "scenario": self.scenario, "overrides": self.overrides, "customers": self.customers,
                "rounds": self.rounds, "seeds": list(self.seeds), "master_seed": self.master_seed,
                "trials": self.trials, "batch": self.batch, "sampler": self.sampler, "draws": self.draws,
                "jacobian_step": self.jacobian_step, "path_draws": self.path_draws, "base_config": self.base_config}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CalibrationPlan":
        """Rebuild a plan from :meth:`to_dict` output (files re-validated from their stored text).

        Raises:
            CalibrationError: the stored text no longer validates (e.g. a key removed from the tables).
        """
        targets = parse_targets(data["targets_text"], data["targets_path"])
        params = parse_parameters(data["parameters_text"], data["base_config"], data["parameters_path"])
        return cls(targets, params, data["base_config"], data.get("scenario"), data.get("overrides") or {},
                   int(data["customers"]), int(data["rounds"]), tuple(int(s) for s in data["seeds"]),
                   int(data["master_seed"]), int(data["trials"]), int(data["batch"]), data["sampler"],
                   int(data["draws"]), float(data["jacobian_step"]), int(data.get("path_draws", 10)))

    def differences(self, other: "CalibrationPlan") -> list[str]:
        """Plan fields that differ from ``other``'s, the number of trials aside (it may grow on resume)."""
        a, b = self.to_dict(), other.to_dict()
        return [k for k in a if k != "trials" and a[k] != b[k]]


def make_plan(scenario: str | None = None, overrides: dict[str, Any] | None = None, *,
              targets: str | Path | None = None, params: str | Path | None = None, customers: int = 20_000,
              seeds: int = 4, master_seed: int = 0, rounds: int | None = None, trials: int = 200, batch: int = 4,
              sampler: str = "tpe", draws: int = 200, jacobian_step: float = 0.05,
              path_draws: int = 10, calibrated: bool = False) -> CalibrationPlan:
    """Validate every input of a calibration before any run.

    Args:
        scenario, overrides: the base scenario (default: the schema defaults) and fixed ``--set`` overrides.
        calibrated: stand the base scenario on the calibrated layer (market/data/calibrated.toml). False for an
            estimation, so that it starts from the hand-set defaults and its estimates owe nothing to the
            previous calibration's; True for a population check of the market as runs see it.
        targets, params: the targets and parameters files (default: the shipped ones).
        customers: simulated customers per run (≥ 100). seeds: seeds per trial (≥ 1).
        rounds: months per run (default: the last round a target reads).
        trials, batch, sampler, draws, jacobian_step, path_draws: see :class:`CalibrationPlan`.

    Raises:
        CalibrationError: a bad targets or parameters file, or an option out of range (naming it).
        ConfigError: a bad scenario or override.
    """
    for name, value, lo in (("--customers", customers, 100), ("--seeds", seeds, 1), ("--trials", trials, 1),
                            ("--batch", batch, 1), ("--draws", draws, 1), ("--path-draws", path_draws, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise CalibrationError(f"{name}: {value!r} out of range (allowed: an integer ≥ {lo})")
    if sampler not in SAMPLERS:
        raise CalibrationError(f"--sampler: {sampler!r} unknown; allowed: {', '.join(SAMPLERS)}")
    if sampler == "cmaes":
        import importlib.util

        if importlib.util.find_spec("cmaes") is None:
            raise CalibrationError("--sampler cmaes: needs the package 'cmaes' (pip install cmaes)")
    if not 0 < jacobian_step <= 0.5:
        raise CalibrationError(f"--jacobian-step: {jacobian_step!r} out of range (allowed: (0, 0.5] of the "
                               f"prior range)")
    table = load_targets(targets)
    base = config_from(scenario, {**(overrides or {}), "customers.n_customers": customers},
                       calibrated=calibrated).model_dump(mode="json")
    param_set = load_parameters(params, base)
    need = table.rounds_needed()
    if rounds is None:
        rounds = need
    elif isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < need:
        raise CalibrationError(f"--rounds: {rounds!r} out of range (allowed: ≥ {need}, the last round a target of "
                               f"{table.path} reads)")
    seed_list = tuple(run_seed(master_seed, 0, k, common_random_numbers=True) for k in range(seeds))
    return CalibrationPlan(table, param_set, base, str(scenario) if scenario else None, dict(overrides or {}),
                           customers, rounds, seed_list, master_seed, trials, batch, sampler, draws,
                           float(jacobian_step), path_draws)


def tasks_for(plan: CalibrationPlan, eval_id: str, trial: int, values: dict[str, float]) -> list[RunTask]:
    """One :class:`~runs.sweeps.executors.RunTask` per seed of the plan for parameter ``values`` {path: value}."""
    params = plan.parameters.overrides(values)
    return [RunTask(f"{eval_id}-s{k}", trial, k, seed, params, plan.base_config, plan.rounds, True)
            for k, seed in enumerate(plan.seeds)]


def check_outputs(plan: CalibrationPlan, simulate: Callable | None = None) -> None:
    """Run the base config once on a tiny population and check that every series' columns and every target's
    rounds exist in its outputs (a dry run of the moments, before the search).

    Raises:
        CalibrationError: listing each series or target that cannot be read, with its field.
    """
    from runs.sweeps.executors import simulate as real

    tiny = {**plan.base_config, "customers": {**plan.base_config["customers"], "n_customers": 200}}
    task = RunTask("check", -1, 0, plan.seeds[0], {}, tiny, plan.rounds, True)
    result = (simulate or real)(task)
    problems = check_columns(plan.targets, result.model, result.agents)
    if problems:
        raise CalibrationError(f"{plan.targets.path}: " + "; ".join(problems))


# ------------------------------------------------------------------------------------------ the study

def _sampler(plan: CalibrationPlan, trial_number: int):
    import optuna

    if plan.sampler == "qmc":  # one scrambled sequence for the whole study: its points come from the trial count
        seed = int(np.random.SeedSequence(plan.master_seed, spawn_key=(_SAMPLER_KEY,)).generate_state(1)[0])
        return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed,
                                          warn_asynchronous_seeding=False, warn_independent_sampling=False)
    seed = int(np.random.SeedSequence(plan.master_seed, spawn_key=(_SAMPLER_KEY, trial_number)).generate_state(1)[0])
    if plan.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    startup = max(10, 2 * len(plan.parameters.parameters))
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=startup)


def open_study(out: Path, plan: CalibrationPlan):
    """The optuna study in ``out/study.journal`` (created if missing)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = JournalStorage(JournalFileBackend(str(out / JOURNAL)))
    return optuna.create_study(storage=storage, study_name=STUDY, direction="minimize", load_if_exists=True,
                               sampler=_sampler(plan, 0))


def _distributions(plan: CalibrationPlan) -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    out = {}
    for p in plan.parameters.parameters:
        if p.kind == "int":
            out[p.path] = IntDistribution(int(p.lo), int(p.hi), log=p.scale == "log")
        else:
            out[p.path] = FloatDistribution(p.lo, p.hi, log=p.scale == "log")
    return out


def trial_values(plan: CalibrationPlan, params: dict[str, Any]) -> dict[str, float]:
    """A trial's parameter values {path: value} at the CSV precision (10 significant digits), as they run."""
    return {p.path: float(f"{float(params[p.path]):.10g}") for p in plan.parameters.parameters}


def _ask_batch(study, plan: CalibrationPlan) -> list:
    """Complete the batch in progress (a resume after a kill while asking) or ask a new one; returns the
    numbers of the trials to evaluate now (every unfinished trial), sorted."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    running = [t for t in trials if t.state == TrialState.RUNNING]
    n = len(trials)
    if running:
        end = max(int(t.user_attrs.get("batch_end", n)) for t in running)
    else:
        end = min(n + plan.batch, max(plan.trials, n))
    dists = _distributions(plan)
    while n < end:
        study.sampler = _sampler(plan, n)
        trial = study.ask(dists)
        trial.set_user_attr("batch_end", end)
        n += 1
    return sorted(t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


# ------------------------------------------------------------------------------------------ evaluations

def moment_rows(eval_id: str, trial: int, outcomes: list[RunOutcome], plan: CalibrationPlan) -> pd.DataFrame:
    """moments.csv rows of one evaluation (its outcomes in seed order)."""
    rows = []
    for k, outcome in enumerate(outcomes):
        frame = outcome.rounds
        frame = frame[frame["kind"] == "moment"]
        rows.append(pd.DataFrame({"eval": eval_id, "trial": trial, "seed_index": k, "seed": plan.seeds[k],
                                  "target": frame["name"].to_numpy(), "value": frame["value"].to_numpy(),
                                  "d": frame["d"].to_numpy(), "missing": frame["missing"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)[MOMENT_COLUMNS]


def error_array(moments: pd.DataFrame, plan: CalibrationPlan) -> np.ndarray:
    """Errors ``d`` of one evaluation's rows, shape (seeds, targets) in plan order."""
    table = moments.pivot(index="seed_index", columns="target", values="d")
    return table.reindex(index=range(len(plan.seeds)), columns=plan.targets.names()).to_numpy(float)


def plan_objective(d: np.ndarray, plan: CalibrationPlan) -> np.ndarray:
    """J of errors ``d`` (shape (..., seeds, targets)) under the plan's weights, tolerances and bounds."""
    t = plan.targets
    return objective(d, t.weights(), t.scales(), [x.bound for x in t.targets])


def evaluate_points(executor, plan: CalibrationPlan, points: list[tuple[str, int, dict[str, float]]],
                    fn: MomentRun, on_done: Callable[[str, int, list[RunOutcome]], None]) -> None:
    """Run every seed of each point ``(eval_id, trial, values)`` on ``executor`` and call
    ``on_done(eval_id, trial, outcomes in seed order)`` as soon as all of a point's seeds are in."""
    tasks, owner = [], {}
    for eval_id, trial, values in points:
        for task in tasks_for(plan, eval_id, trial, values):
            tasks.append(task)
            owner[task.run_id] = (eval_id, trial)
    got: dict[str, dict[int, RunOutcome]] = {}
    replicate = {t.run_id: t.replicate for t in tasks}
    for outcome in executor.outcomes(tasks, fn):
        eval_id, trial = owner[outcome.run_id]
        got.setdefault(eval_id, {})[replicate[outcome.run_id]] = outcome
        if len(got[eval_id]) == len(plan.seeds):
            on_done(eval_id, trial, [got[eval_id][k] for k in range(len(plan.seeds))])
            del got[eval_id]


def _trial_row(plan: CalibrationPlan, number: int, values: dict[str, float], state: str, value: float,
               missing: int, error: str) -> pd.DataFrame:
    return pd.DataFrame([{"trial": number, "state": state, "objective": value, "missing": missing,
                          **values, "error": error}])


def run_trials(out: Path, plan: CalibrationPlan, executor, fn: MomentRun, progress: bool = True) -> None:
    """Ask, evaluate and tell trials until the plan's number is finished (resuming what the journal holds)."""
    from optuna.trial import TrialState
    from tqdm import tqdm

    study = open_study(out, plan)
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    complete = [t.value for t in finished if t.state == TrialState.COMPLETE]
    bar = tqdm(total=plan.trials, initial=len(finished), unit="trial", desc="calibrate", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    best = [min(complete, default=math.inf)]
    if math.isfinite(best[0]):
        bar.set_postfix(best_J=f"{best[0]:.4g}")

    asked: dict[int, dict[str, float]] = {}

    def done(eval_id: str, trial: int, outcomes: list[RunOutcome]) -> None:
        values = asked.pop(trial)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            io.append_csv(out / TRIALS, _trial_row(plan, trial, values, "FAIL", math.nan, 0, failed[0].row["error"]))
            study.tell(trial, state=TrialState.FAIL)
        else:
            rows = moment_rows(eval_id, trial, outcomes, plan)
            j = float(plan_objective(error_array(rows, plan), plan))
            io.append_csv(out / MOMENTS, rows)
            io.append_csv(out / TRIALS, _trial_row(plan, trial, values, "COMPLETE", j, int(rows["missing"].sum()), ""))
            study.tell(trial, j)
            best[0] = min(best[0], j)
            bar.set_postfix(best_J=f"{best[0]:.4g}", refresh=False)
        bar.update(1)

    try:
        while True:
            numbers = _ask_batch(study, plan)
            if not numbers:
                break
            trials = {t.number: t for t in study.get_trials(deepcopy=False)}
            asked.update({n: trial_values(plan, trials[n].params) for n in numbers})
            points = [(f"t{n:05d}", n, asked[n]) for n in numbers]
            evaluate_points(executor, plan, points, fn, done)
    finally:
        bar.close()


def repair(out: Path, plan: CalibrationPlan) -> None:
    """Before resuming: keep only the trials.csv and moments.csv rows of trials the journal marks finished and
    of complete extra evaluations (every seed and target present); drop torn lines and temp files."""
    from optuna.trial import TrialState

    study = open_study(out, plan)
    finished = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    trials_path, moments_path = out / TRIALS, out / MOMENTS
    io.filter_csv(trials_path, "trial", {str(n) for n in finished})
    if trials_path.exists() and trials_path.stat().st_size:
        table = pd.read_csv(trials_path).drop_duplicates("trial", keep="first")
        io.write_csv(trials_path, table)
    if moments_path.exists() and moments_path.stat().st_size:
        evals = set(pd.read_csv(moments_path, usecols=["eval"], dtype=str, on_bad_lines="skip")["eval"])
        io.filter_csv(moments_path, "eval", evals)  # drops a torn last line
        moments = pd.read_csv(moments_path, dtype={"eval": str})
        per_eval = moments.groupby("eval")["target"].transform("size")
        complete = per_eval == len(plan.seeds) * len(plan.targets.targets)
        is_trial = moments["eval"].str.startswith("t")
        keep = complete & (~is_trial | moments["trial"].isin(finished))
        moments = moments[keep].drop_duplicates(["eval", "seed_index", "target"], keep="first")
        io.write_csv(moments_path, moments)
    io.remove_files(list(out.glob(".*.tmp")))


def read_moments(out: Path) -> pd.DataFrame:
    """moments.csv of a calibration folder (empty frame with the columns when missing)."""
    path = Path(out) / MOMENTS
    if not path.exists() or not path.stat().st_size:
        return pd.DataFrame(columns=MOMENT_COLUMNS)
    return pd.read_csv(path, dtype={"eval": str, "target": str})


def read_trials(out: Path) -> pd.DataFrame:
    """trials.csv of a calibration folder, sorted by trial (empty frame when missing)."""
    path = Path(out) / TRIALS
    if not path.exists() or not path.stat().st_size:
        return pd.DataFrame(columns=["trial", "state", "objective", "missing", "error"])
    return pd.read_csv(path).sort_values("trial", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------ the whole run

@dataclass(frozen=True)
class CalibrationReport:
    """How a calibration attempt ended: folder, trials finished (and before this attempt), best trial and its
    objective, targets within tolerance at the best point, status, wall time (s)."""

    out: Path
    trials: int
    done_before: int
    best_trial: int | None
    best_objective: float
    within: int
    n_targets: int
    status: str
    elapsed_s: float


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest.json of a calibration folder.

    Raises:
        CalibrationError: missing or not a calibration's.
    """
    path = Path(out) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CalibrationError(f"{str(out)!r} is not a calibration folder (no {MANIFEST})") from None
    except json.JSONDecodeError as err:
        raise CalibrationError(f"{path}: unreadable ({err})") from None
    if data.get("kind") != "tokenmarket calibration":
        raise CalibrationError(f"{path}: not a calibration manifest")
    return data

