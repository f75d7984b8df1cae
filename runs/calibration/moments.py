"""Model outputs → simulated moments and comparison errors.

For each target, a run gives one *model value* in the figure's unit (its series at the target's round, linearly
interpolated between rounds, or its mean over the target's window) and one signed *comparison error* ``d``:
ln(model / figure) for log series, model − figure for diff series. A missing value (no firm selected, a zero
denominator, a non-positive value on a log scale) gets ``d = −MISSING_Z × tolerance``: a large, bounded penalty,
counted as missing in the outputs.

Over seeds (common random numbers: the same seeds for every parameter vector) the errors are averaged, a one-sided
target keeps only the side it bounds (a lower bound: min(d̄, 0)), and the standardised error is
``z = d̄ / tolerance`` (tolerance in comparison units). The objective is the weighted mean of squared errors,
``J = Σ w z² / Σ w``: J = 1 when every target misses by exactly its tolerance.

:class:`MomentRun` is the run function handed to the sweep executors: it simulates (or calls an injected stub)
and returns the moments as a small table, so that workers send back a few numbers instead of whole runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.simulate import RunResult
from runs.calibration.targets import Expression, FirmFilter, Series, Target, TargetTable

MISSING_Z = 5.0


# ------------------------------------------------------------------------------------------ series

def _atom_values(df: pd.DataFrame, atom: str) -> pd.Series:
    if atom.endswith("_*"):
        cols = [c for c in df.columns if c.startswith(atom[:-1])]
        return df[cols].astype(float).sum(axis=1, min_count=1)
    return df[atom].astype(float)


def _sum_of_products(df: pd.DataFrame, products: tuple[tuple[str, ...], ...]) -> pd.Series:
    total = pd.Series(0.0, index=df.index)
    for product in products:
        term = pd.Series(1.0, index=df.index)
        for atom in product:
            term = term * _atom_values(df, atom)
        total = total + term
    return total


def _mask(agents: pd.DataFrame, firms: FirmFilter) -> pd.Series:
    keep = pd.Series(True, index=agents.index)
    for col, values in firms.fields:
        keep &= agents[col].astype(str).isin(values)
    return keep


def _aggregate(values: pd.Series, rounds: pd.Series, how: str, all_rounds: pd.Index) -> pd.Series:
    grouped = values.groupby(rounds)
    # groupby skips NaN cells (a wrapper has no API tokens); a round with no selected firm is 0 for a sum.
    agg = {"sum": grouped.sum, "mean": grouped.mean, "min": grouped.min, "max": grouped.max}[how]()
    return agg.reindex(all_rounds, fill_value=0.0 if how == "sum" else np.nan)


def series_path(series: Series, model: pd.DataFrame, agents: pd.DataFrame) -> pd.Series:
    """The series' value in every recorded round, in the figure's unit.

    Args:
        series: a :class:`~runs.calibration.targets.Series`.
        model, agents: one run's model.csv and agents.csv tables (``round`` column; agents with ``type``,
            ``name``, ``funding``, ``vertical``).

    Returns:
        float Series indexed by round (every round of ``model``), NaN where undefined (e.g. a zero denominator).
    """
    rounds = pd.Index(sorted(model["round"].unique()), name="round")
    expr: Expression = series.column
    if series.table == "model":
        frame = model.set_index("round").sort_index()
        num = _sum_of_products(frame, expr.numerator)
        value = num / _sum_of_products(frame, expr.denominator) if expr.denominator else num
        value = value.reindex(rounds)
    else:
        sel = agents[_mask(agents, series.firms)]
        num = _aggregate(_sum_of_products(sel, expr.numerator), sel["round"], series.aggregate, rounds)
        if expr.denominator:
            den = _aggregate(_sum_of_products(sel, expr.denominator), sel["round"], series.aggregate, rounds)
        elif series.share_of is not None:
            base = agents[_mask(agents, series.share_of)]
            den = _aggregate(_sum_of_products(base, expr.numerator), base["round"], series.aggregate, rounds)
        else:
            den = None
        value = num / den.where(den != 0) if den is not None else num
    return (value.astype(float) * series.factor).rename(series.name)


def at_target(target: Target, path: pd.Series) -> float:
    """The model value a target reads from its series' path: interpolated at its round, or the window mean.

    Raises:
        ValueError: the target's rounds are outside the recorded rounds.
    """
    lo, hi = float(path.index.min()), float(path.index.max())
    if target.start < lo or target.end > hi:
        raise ValueError(f"target {target.name}: {target.when!r} reads rounds {target.start:g}–{target.end:g}, "
                         f"but the run records rounds {lo:g}–{hi:g}")
    if target.is_window:
        window = path[(path.index >= target.start) & (path.index <= target.end)]
        return float(window.mean()) if window.notna().all() else math.nan
    below, above = math.floor(target.start), math.ceil(target.start)
    a, b = float(path.get(below, np.nan)), float(path.get(above, np.nan))
    if below == above:
        return a
    frac = target.start - below
    return a * (1 - frac) + b * frac


def comparison_error(target: Target, series: Series, value: float) -> tuple[float, bool]:
    """(signed error d in comparison units, missing?) of one model value (see the module docstring)."""
    scale = target.scale(series.compare)
    if series.compare == "log":
        if not (math.isfinite(value) and value > 0):
            return -MISSING_Z * scale, True
        return math.log(value / target.value), False
    if not math.isfinite(value):
        return -MISSING_Z * scale, True
    return value - target.value, False


def check_columns(table: TargetTable, model: pd.DataFrame, agents: pd.DataFrame) -> list[str]:
    """Problems that make the targets table unusable with these outputs: a series naming a column the table does
    not have, a firm-filter field absent, a target reading rounds the run does not record. Each message names
    the series or target and the field. Empty when all is well."""
    problems = []
    for s in table.series.values():
        df = model if s.table == "model" else agents
        missing = s.column.missing(list(df.columns))
        if missing:
            problems.append(f"series {s.name}: column: {', '.join(missing)} not in {s.table}.csv")
        for f in (s.firms, s.share_of or FirmFilter()):
            for col, _ in f.fields:
                if col not in df.columns:
                    problems.append(f"series {s.name}: firms: {col!r} is not a column of agents.csv")
    if model.empty:
        return problems + ["the run recorded no rounds"]
    lo, hi = model["round"].min(), model["round"].max()
    for t in table.targets:
        if t.start < lo or t.end > hi:
            field = "window" if t.is_window else "date"
            problems.append(f"target {t.name}: {field}: {t.when!r} is round {t.start:g}"
                            + (f"–{t.end:g}" if t.is_window else "") + f", outside the recorded rounds {lo:g}–{hi:g}")
    return problems


# ------------------------------------------------------------------------------------------ one run

def moment_frame(table: TargetTable, model: pd.DataFrame, agents: pd.DataFrame, paths: bool = False) -> pd.DataFrame:
    """One run's moments: one row per target (``kind`` = moment: ``name`` = target, ``value`` in the figure's
    unit, ``d``, ``missing``), plus with ``paths`` one row per series and round (``kind`` = path: ``name`` =
    series, ``round``, ``value``).

    Raises:
        ValueError: a column or round the targets need is missing (see :func:`check_columns`).
    """
    problems = check_columns(table, model, agents)
    if problems:
        raise ValueError("; ".join(problems))
    series_paths = {name: series_path(s, model, agents) for name, s in table.series.items()}
    rows = []
    for t in table.targets:
        s = table.series[t.series]
        value = at_target(t, series_paths[t.series])
        d, missing = comparison_error(t, s, value)
        rows.append({"kind": "moment", "name": t.name, "round": np.nan, "value": value, "d": d, "missing": missing})
    if paths:
        for name, path in series_paths.items():
            rows.extend({"kind": "path", "name": name, "round": float(r), "value": float(v), "d": np.nan,
                         "missing": False} for r, v in path.items())
    return pd.DataFrame(rows, columns=["kind", "name", "round", "value", "d", "missing"])


@dataclass(frozen=True)
class MomentRun:
    """The run function given to the sweep executors (picklable): ``simulate(task)`` then :func:`moment_frame`.

    Attributes:
        table: the targets table.
        simulate: ``RunTask -> RunResult`` (default: :func:`runs.sweeps.executors.simulate`, the real model); tests
            inject a cheap stub here, as they do into :func:`runs.sweeps.executors.evaluate`.
        paths: also return every series' path (for fit charts).
    """

    table: TargetTable
    simulate: Callable | None = None
    paths: bool = False

    def __call__(self, task) -> RunResult:
        """Run ``task`` and return its moments as the result's ``model`` table (agents and events empty)."""
        from runs.sweeps.executors import simulate as real

        result = (self.simulate or real)(task)
        frame = moment_frame(self.table, result.model, result.agents, self.paths)
        return RunResult(frame, pd.DataFrame(), pd.DataFrame())


# ------------------------------------------------------------------------------------------ objective

def mean_errors(d: np.ndarray, bounds: list[str]) -> np.ndarray:
    """Seed-mean errors with one-sided targets clamped: ``d`` shape (..., seeds, targets) → (..., targets)."""
    mean = d.mean(axis=-2)
    lower = np.array([b == "lower" for b in bounds])
    upper = np.array([b == "upper" for b in bounds])
    mean = np.where(lower, np.minimum(mean, 0.0), mean)
    return np.where(upper, np.maximum(mean, 0.0), mean)


def objective(d: np.ndarray, weights: list[float] | np.ndarray, scales: list[float] | np.ndarray,
              bounds: list[str]) -> np.ndarray:
    """J = Σ w z² / Σ w with z = clamped seed-mean d / scale.

    Args:
        d: errors, shape (..., seeds, targets), comparison units.
        weights, scales: per target (scales: tolerances in comparison units).
        bounds: per target, point | lower | upper.

    Returns:
        J, shape (...) (a float for a single vector).
    """
    w, s = np.asarray(weights, float), np.asarray(scales, float)
    z = mean_errors(np.asarray(d, float), bounds) / s
    return (w * z ** 2).sum(axis=-1) / w.sum()
