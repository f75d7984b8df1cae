"""What a calibration leaves once its trials are done: the best point, the draws, the identification
diagnostics, the paths and the fit table, and the calibrated scenario.

- ``best.json``: the trial with the lowest objective, its parameter values (and unit coordinates, defaults),
  targets within tolerance, the 5/50/95 % quantiles of every parameter over the draws, the flat directions;
- ``draws.csv``: the plausible parameter vectors (:mod:`runs.calibration.uncertainty`);
- ``identification.csv``: :mod:`runs.calibration.identification` at the best point (its finite-difference runs are
  kept in ``moments.csv`` as evaluations ``j<trial>-p<parameter>-lo|hi``, so a resume does not redo them);
- ``paths.csv``: every series in every round for the best trial and the most frequent distinct draws, per seed
  (eval, seed_index, series, round, value): the bands of the report's charts;
- ``fit.csv``: per target: figure, model value at the best point (seed mean: geometric for log series), band
  over seeds at the best point, band over the draws (5–95 %), standardised error, verdict (within / below /
  above / missing);
- ``calibrated.toml``: the base scenario with the estimated values (:mod:`runs.calibration.scenario`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from market.config import ConfigError
from market.scenario import config_from, load_scenario
from runs import io
from runs.calibration import identification as ident
from runs.calibration.estimate import (MOMENTS, CalibrationPlan, error_array, evaluate_points, moment_rows,
                                       plan_objective, read_moments, read_trials, trial_values)
from runs.calibration.moments import MomentRun, mean_errors
from runs.calibration.scenario import estimated_source, scenario_text
from runs.calibration.uncertainty import DRAWS, bootstrap, draws_table

BEST, IDENTIFICATION, PATHS, FIT, SCENARIO = "best.json", "identification.csv", "paths.csv", "fit.csv", "calibrated.toml"
PATH_COLUMNS = ["eval", "trial", "seed_index", "series", "round", "value"]


@dataclass(frozen=True)
class Summary:
    """The best trial (None when no trial completed), its objective and the targets within tolerance there."""

    best_trial: int | None
    best_objective: float
    within: int


def trial_errors(moments: pd.DataFrame, plan: CalibrationPlan, numbers: list[int]) -> np.ndarray:
    """Errors of the given complete trials, shape (trials, seeds, targets)."""
    rows = moments[moments["eval"].str.startswith("t")]
    groups = dict(tuple(rows.groupby("trial")))
    out = np.full((len(numbers), len(plan.seeds), len(plan.targets.targets)), np.nan)
    for i, n in enumerate(numbers):
        if n in groups:
            out[i] = error_array(groups[n], plan)
    return out


def _eval_values(moments: pd.DataFrame, eval_id: str, plan: CalibrationPlan) -> np.ndarray:
    """Model values of one evaluation, shape (seeds, targets)."""
    grp = moments[moments["eval"] == eval_id]
    table = grp.pivot(index="seed_index", columns="target", values="value")
    return table.reindex(index=range(len(plan.seeds)), columns=plan.targets.names()).to_numpy(float)


def _seed_mean_value(values: np.ndarray, compare: list[str]) -> np.ndarray:
    """Seed mean of model values (axis −2): geometric for log series (positive values only), arithmetic else."""
    out = np.full(values.shape[:-2] + values.shape[-1:], np.nan)
    for i, c in enumerate(compare):
        v = values[..., i]
        if c == "log":
            pos = np.where(v > 0, v, np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[..., i] = np.exp(np.nanmean(np.log(pos), axis=-1)) if np.isfinite(pos).any() else np.nan
        else:
            out[..., i] = np.nanmean(v, axis=-1) if np.isfinite(v).any() else np.nan
    return out


# ------------------------------------------------------------------------------------------ identification

def _identification(out: Path, plan: CalibrationPlan, executor, fn: MomentRun, best: int,
                    values: dict[str, float], base_d: np.ndarray, progress: bool) -> pd.DataFrame:
    from tqdm import tqdm

    params = plan.parameters
    u_best = params.to_unit(values)
    steps = ident.step_points(u_best, plan.jacobian_step)
    wanted = []
    for st in steps:
        for side, u in (("lo", st.lo), ("hi", st.hi)):
            if u is not None:
                coords = list(u_best)
                coords[st.index] = u
                wanted.append((f"j{best:05d}-p{st.index:02d}-{side}", best, params.from_unit(coords)))
    have = set(read_moments(out)["eval"])
    todo = [w for w in wanted if w[0] not in have]
    if todo:
        bar = tqdm(total=len(todo), unit="point", desc="identification", disable=not progress, file=sys.stderr,
                   dynamic_ncols=True)

        def done(eval_id, trial, outcomes):
            failed = [o for o in outcomes if not o.ok]
            if failed:
                raise RuntimeError(f"identification run {eval_id} failed: {failed[0].row['error']}")
            io.append_csv(out / MOMENTS, moment_rows(eval_id, trial, outcomes, plan))
            bar.update(1)

        try:
            evaluate_points(executor, plan, todo, fn, done)
        finally:
            bar.close()
    moments = read_moments(out)
    bounds = [t.bound for t in plan.targets.targets]

    def at(eval_id: str) -> np.ndarray:
        return mean_errors(error_array(moments[moments["eval"] == eval_id], plan)[None], bounds)[0]

    base = mean_errors(base_d[None], bounds)[0]
    lower = [at(f"j{best:05d}-p{st.index:02d}-lo") if st.lo is not None else None for st in steps]
    upper = [at(f"j{best:05d}-p{st.index:02d}-hi") if st.hi is not None else None for st in steps]
    d_matrix = ident.jacobian(base, lower, upper, steps, u_best)
    return ident.diagnose(d_matrix, plan.targets.weights(), plan.targets.scales(), plan.targets.names(),
                          params.paths, [values[p] for p in params.paths], u_best, plan.jacobian_step)


# ------------------------------------------------------------------------------------------ paths and fit

def _paths(plan: CalibrationPlan, executor, fn: MomentRun, evals: list[tuple[str, int, dict[str, float]]],
           progress: bool) -> pd.DataFrame:
    from tqdm import tqdm

    path_fn = MomentRun(fn.table, fn.simulate, paths=True)
    frames = []
    bar = tqdm(total=len(evals), unit="point", desc="paths", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)

    def done(eval_id, trial, outcomes):
        for k, o in enumerate(outcomes):
            if not o.ok:
                raise RuntimeError(f"path run {eval_id} failed: {o.row['error']}")
            p = o.rounds[o.rounds["kind"] == "path"]
            frames.append(pd.DataFrame({"eval": eval_id, "trial": trial, "seed_index": k, "series": p["name"].to_numpy(),
                                        "round": p["round"].to_numpy(), "value": p["value"].to_numpy()}))
        bar.update(1)

    try:
        evaluate_points(executor, plan, evals, path_fn, done)
    finally:
        bar.close()
    if not frames:
        return pd.DataFrame(columns=PATH_COLUMNS)
    table = pd.concat(frames, ignore_index=True)[PATH_COLUMNS]
    return table.sort_values(["eval", "seed_index", "series", "round"], kind="stable").reset_index(drop=True)


def fit_table(plan: CalibrationPlan, best_values: np.ndarray, best_d: np.ndarray,
              draw_means: np.ndarray) -> pd.DataFrame:
    """fit.csv.

    Args:
        best_values, best_d: model values and errors at the best trial, shape (seeds, targets).
        draw_means: seed-mean model values of every draw (with repetition), shape (draws, targets).
    """
    targets = plan.targets
    compare = [targets.series[t.series].compare for t in targets.targets]
    model = _seed_mean_value(best_values[None], compare)[0]
    bounds = [t.bound for t in targets.targets]
    dbar = mean_errors(best_d[None], bounds)[0]
    rows = []
    for i, t in enumerate(targets.targets):
        s = targets.series[t.series]
        scale = t.scale(s.compare)
        z = dbar[i] / scale
        v = best_values[:, i]
        missing = int(np.sum(~np.isfinite(v) | ((v <= 0) if s.compare == "log" else False)))
        if missing == len(v):
            verdict = "missing"
        else:
            verdict = "within" if abs(z) <= 1 else ("below" if z < 0 else "above")
        col = draw_means[:, i] if draw_means.size else np.array([np.nan])
        finite = col[np.isfinite(col)]
        rows.append({"target": t.name, "series": t.series, "label": s.label, "figure": t.value,
                     "figure_expression": t.figure, "when": t.when, "round_start": t.start, "round_end": t.end,
                     "bound": t.bound, "compare": s.compare, "tolerance": t.tolerance, "weight": t.weight,
                     "tags": " ".join(t.tags), "model": model[i], "seed_lo": np.nanmin(v) if np.isfinite(v).any() else np.nan,
                     "seed_hi": np.nanmax(v) if np.isfinite(v).any() else np.nan,
                     "draws_lo": np.quantile(finite, 0.05) if finite.size else np.nan,
                     "draws_hi": np.quantile(finite, 0.95) if finite.size else np.nan,
                     "error": dbar[i], "z": z, "verdict": verdict, "missing_seeds": missing, "reason": t.reason})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ scenario

def _fit_summary(j: float, within: int, n_targets: int, trial: int, trials: int, plan: CalibrationPlan,
                 quantiles: tuple[float, float] | None) -> str:
    band = f"; draws 5-95 %: {quantiles[0]:.4g} to {quantiles[1]:.4g}" if quantiles else ""
    return (f"J = {j:.4g} at trial {trial} of {trials}, {within} of {n_targets} targets within tolerance, "
            f"{len(plan.seeds)} seeds × {plan.customers} customers{band}")


def write_scenario(out: Path, plan: CalibrationPlan, values: dict[str, float], j: float, within: int, trial: int,
                   trials: int, draws: pd.DataFrame) -> None:
    """calibrated.toml: the base scenario with the estimated values and their sources."""
    try:
        # The base as estimated: without the calibrated layer (runs.calibration.estimate.make_plan).
        full = config_from(plan.scenario, plan.overrides, calibrated=False).model_dump(mode="json")
        data = load_scenario(plan.scenario, calibrated=False) if plan.scenario else {}
    except ConfigError:  # the base scenario file changed or vanished since the calibration started
        full, data = plan.base_config, {}
    sources = {}
    for p in plan.parameters.parameters:
        col = draws[p.path].to_numpy(float) if p.path in draws else np.array([])
        q = (float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))) if col.size else None
        fit = _fit_summary(j, within, len(plan.targets.targets), trial, trials, plan, q)
        sources[p.path] = estimated_source(plan.targets.path, fit + f"; prior {p.lo:g} to {p.hi:g}, {p.scale}")
    name = f"{full.get('name', 'baseline')}_calibrated"
    description = (f"{full.get('description', '').strip()}\nCalibrated by tokenmarket calibrate against "
                   f"{plan.targets.path}: {len(plan.parameters.parameters)} behavioural and demand parameters "
                   f"estimated by simulated moments (see fit.csv and draws.csv beside this file).")
    text = scenario_text(name, description, full, plan.scenario, data, plan.parameters.overrides(values), sources,
                         list(plan.overrides))
    io.atomic_write_text(out / SCENARIO, text)


# ------------------------------------------------------------------------------------------ all of it

def finish(out: Path, plan: CalibrationPlan, executor, fn: MomentRun, progress: bool = True) -> Summary:
    """Write the outputs of a calibration whose trials are done (see the module docstring); returns its
    :class:`Summary`. Runs the finite-difference and path evaluations that are not on disk yet."""
    trials = read_trials(out)
    complete = trials[trials["state"] == "COMPLETE"].sort_values("trial")
    if complete.empty:
        io.write_json(out / BEST, {"trial": None, "objective": None,
                                   "note": "no trial completed: see the error column of trials.csv"})
        return Summary(None, math.inf, 0)
    moments = read_moments(out)
    numbers = [int(n) for n in complete["trial"]]
    d = trial_errors(moments, plan, numbers)
    j = plan_objective(d, plan)
    bi = int(np.argmin(j))
    best = numbers[bi]
    values = trial_values(plan, complete.set_index("trial").loc[best].to_dict())
    targets = plan.targets
    bounds = [t.bound for t in targets.targets]

    chosen, resampled = bootstrap(d, targets.weights(), targets.scales(), bounds, plan.draws, plan.master_seed)
    draws = draws_table(complete.assign(objective=j), np.array(numbers)[chosen], resampled, plan.parameters.paths)
    io.write_csv(out / DRAWS, draws)

    table = _identification(out, plan, executor, fn, best, values, d[bi], progress)
    io.write_csv(out / IDENTIFICATION, table)

    counts = pd.Series(np.array(numbers)[chosen]).value_counts(sort=False)
    ranked = sorted(counts.index, key=lambda n: (-counts[n], n))
    path_trials = [best] + [int(n) for n in ranked if n != best][:plan.path_draws]
    by_trial = complete.set_index("trial")
    evals = [(f"t{n:05d}", n, trial_values(plan, by_trial.loc[n].to_dict())) for n in path_trials]
    io.write_csv(out / PATHS, _paths(plan, executor, fn, evals, progress))

    compare = [targets.series[t.series].compare for t in targets.targets]
    draw_means = np.array([_seed_mean_value(_eval_values(moments, f"t{int(n):05d}", plan)[None], compare)[0]
                           for n in np.array(numbers)[chosen]])
    fit = fit_table(plan, _eval_values(moments, f"t{best:05d}", plan), d[bi], draw_means)
    io.write_csv(out / FIT, fit)
    within = int((fit["verdict"] == "within").sum())

    quantiles = {p: {"p05": float(draws[p].quantile(0.05)), "p50": float(draws[p].quantile(0.5)),
                     "p95": float(draws[p].quantile(0.95))} for p in plan.parameters.paths}
    io.write_json(out / BEST, {
        "trial": best, "objective": float(j[bi]), "within": within, "targets": len(targets.targets),
        "parameters": values, "unit": dict(zip(plan.parameters.paths, plan.parameters.to_unit(values))),
        "defaults": {p.path: p.default for p in plan.parameters.parameters}, "draws": quantiles,
        "distinct_draw_trials": int(counts.size), "flat_directions": ident.flat_directions(table),
        "targets_file": targets.path, "parameters_file": plan.parameters.path, "seeds": len(plan.seeds),
        "customers": plan.customers, "rounds": plan.rounds, "trials": len(trials)})
    write_scenario(out, plan, values, float(j[bi]), within, best, len(trials), draws)
    return Summary(best, float(j[bi]), within)
