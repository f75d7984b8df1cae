"""A set of plausible parameter vectors: bootstrap over targets and seeds, re-fitted over the evaluated trials.

The rule. Draw ``b`` resamples the targets (``T`` of them, with replacement: a target drawn twice counts twice)
and the seeds (``K`` of them, with replacement), recomputes every complete trial's objective on that resample
from the stored per-seed errors, and takes the trial with the lowest: that trial's parameter vector is draw
``b``. The spread of the draws therefore says how much the estimate depends on which public figures were chosen
and on seed noise. Re-fitting means choosing among the trials already evaluated (no new runs), so the draws are
as fine as the search around the optimum: with few trials near it, the set is coarse, and a draw that keeps
landing on the same trial says so (``draws.csv`` counts distinct trials).

:func:`draw_overrides` turns ``draws.csv`` into ``--set`` overrides, one set per draw, for commands that run
outcomes under parameter uncertainty (``tokenmarket outcomes``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from runs.calibration import CalibrationError
from runs.calibration.moments import mean_errors

DRAWS = "draws.csv"
_BOOTSTRAP_KEY = 4
META = ("draw", "trial", "objective", "objective_resampled")


def bootstrap(d: np.ndarray, weights: list[float], scales: list[float], bounds: list[str], n_draws: int,
              master_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap re-fits over targets and seeds.

    Args:
        d: errors of the complete trials, shape (trials, seeds, targets), comparison units.
        weights, scales, bounds: per target (see :func:`runs.calibration.moments.objective`).
        n_draws: number of draws.
        master_seed: the calibration's master seed (the resampling stream is its spawn key 4).

    Returns:
        (index of the chosen trial per draw, shape (n_draws,); its objective on the resample, shape (n_draws,)).

    Raises:
        ValueError: no trial to choose from.
    """
    n_trials, n_seeds, n_targets = d.shape
    if n_trials == 0:
        raise ValueError("no complete trial to draw from")
    rng = np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=(_BOOTSTRAP_KEY,)))
    w, s = np.asarray(weights, float), np.asarray(scales, float)
    chosen, values = np.empty(n_draws, int), np.empty(n_draws)
    for b in range(n_draws):
        counts = np.bincount(rng.integers(0, n_targets, n_targets), minlength=n_targets)
        seeds = rng.integers(0, n_seeds, n_seeds)
        z = mean_errors(d[:, seeds, :], bounds) / s
        wb = w * counts
        j = (wb * z ** 2).sum(axis=1) / wb.sum()
        chosen[b] = int(np.argmin(j))  # ties: the lowest trial number
        values[b] = float(j[chosen[b]])
    return chosen, values


def draws_table(trials: pd.DataFrame, chosen_trials: np.ndarray, resampled: np.ndarray,
                paths: list[str]) -> pd.DataFrame:
    """draws.csv: draw, trial, objective (full sample), objective_resampled, one column per parameter path."""
    by_trial = trials.set_index("trial")
    rows = []
    for b, (trial, jb) in enumerate(zip(chosen_trials, resampled)):
        rec = by_trial.loc[int(trial)]
        rows.append({"draw": b, "trial": int(trial), "objective": float(rec["objective"]),
                     "objective_resampled": float(jb), **{p: float(rec[p]) for p in paths}})
    return pd.DataFrame(rows, columns=[*META, *paths])


def draw_overrides(draws_path: str | Path) -> list[dict[str, Any]]:
    """Each plausible parameter vector of a calibration as a set of ``--set`` overrides.

    Args:
        draws_path: a ``draws.csv`` written by ``tokenmarket calibrate`` (or the calibration folder holding it).

    Returns:
        One dict {dotted config path: value} per draw, in draw order (a trial drawn several times appears
        several times, so frequencies over the list weigh vectors as the bootstrap does).

    Raises:
        CalibrationError: the file is missing, unreadable, has no parameter column, or a value is not finite.
    """
    path = Path(draws_path)
    if path.is_dir():
        path = path / DRAWS
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise CalibrationError(f"draws: {str(path)!r} does not exist (run tokenmarket calibrate first)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CalibrationError(f"draws: {str(path)!r} is unreadable ({err})") from None
    params = [c for c in table.columns if c not in META]
    if "draw" not in table.columns or not params:
        raise CalibrationError(f"draws: {str(path)!r} is not a draws.csv (needs a draw column and parameter columns)")
    out = []
    for _, rec in table.sort_values("draw", kind="stable").iterrows():
        values = {}
        for p in params:
            v = rec[p]
            if not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(float(v)):
                raise CalibrationError(f"draws: {str(path)!r}: draw {rec['draw']}: {p}: {v!r} is not a finite number")
            values[p] = int(v) if isinstance(v, (int, np.integer)) else float(v)
        out.append(values)
    return out
