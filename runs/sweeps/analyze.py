"""Global sensitivity of sweep outcomes: SALib Sobol or Morris indices from a sweep folder (``tokenmarket analyze``).

The design decides the method: a ``sobol`` sweep gives first-order and total Sobol indices (S1, ST with
bootstrap confidence half-widths; Saltelli 2002, Saltelli et al. 2010, Jansen 1999 estimators as in SALib
``analyze.sobol`` with ``calc_second_order=False``); a ``morris`` sweep gives elementary-effect statistics
(mu, mu*, sigma, mu* confidence; Morris 1991, Campolongo et al. 2007). Grid, random and LHS designs have no
such structure and are refused.

A point's output is the mean of the metric over its successful replicates. Sobol blocks (``D + 2`` points)
and Morris trajectories (``D + 1`` points) with any point missing (failed run, NaN metric) are dropped whole,
which keeps the estimators valid on the remaining ones; counts of used and dropped blocks are reported.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from runs import io
from runs.sweeps.designs import MORRIS_LEVELS
from runs.sweeps.sweep import DESIGN_CSV, SweepError, SweepPlan, load_sweep, read_manifest

SENSITIVITY_CSV = "sensitivity.csv"
MAX_RESAMPLES = 100_000  # SALib holds resamples × design points in memory; 1e5 is far past any stable estimate
_SOBOL = ("S1", "S1_conf", "ST", "ST_conf")
_MORRIS = ("mu", "mu_star", "sigma", "mu_star_conf")


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """Columns of ``runs.csv`` that can be analysed: summary metrics (``last_*``, ``mean_*``) and outcome flags."""
    return [c for c in runs.columns if c.startswith(("last_", "mean_", "outcome_"))]


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0}).fillna(s), errors="coerce")


def sensitivity(folder: Path | str, metrics: list[str] | None = None, resamples: int = 1000,
                conf_level: float = 0.95) -> tuple[pd.DataFrame, list[str]]:
    """Sensitivity indices of ``metrics`` (default: every ``last_*`` metric) to the varied parameters.

    Returns ``(table, notes)``: one row per (metric, parameter) with ``method``, ``metric``, ``parameter``, the
    method's indices (Sobol: S1, S1_conf, ST, ST_conf; Morris: mu, mu_star, sigma, mu_star_conf, in the
    metric's unit per unit range), ``blocks_used`` and ``blocks_dropped``; ``notes`` name metrics skipped
    (constant, or fewer than two complete blocks). Bootstrap draws are seeded from the sweep's master seed,
    so the table is reproducible.

    Raises:
        SweepError: not a sweep folder, a design without Sobol/Morris structure, an unknown metric, bad
            ``resamples`` or ``conf_level``, or no metric that can be analysed.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    folder = Path(folder)
    manifest = read_manifest(folder)
    design = SweepPlan.from_dict(manifest["plan"]).design
    if design.method not in ("sobol", "morris"):
        raise SweepError(f"analyze: a {design.method} design allows no Sobol or Morris indices; run the sweep "
                         f"with --sample sobol or --sample morris")
    if not isinstance(resamples, int) or not 10 <= resamples <= MAX_RESAMPLES:
        raise SweepError(f"--resamples: {resamples!r} out of range (allowed: 10 ≤ resamples ≤ {MAX_RESAMPLES:,})")
    if not 0 < conf_level < 1:
        raise SweepError(f"--conf-level: {conf_level!r} out of range (allowed: 0 < c < 1)")
    runs, _ = load_sweep(folder)
    available = metric_columns(runs)
    for m in metrics or []:
        if m not in available:
            raise SweepError(f"--metric: unknown metric {m!r}; available: {', '.join(available) or 'none (no run succeeded)'}")
    metrics = list(metrics or [c for c in available if c.startswith("last_")])
    points = pd.read_csv(folder / DESIGN_CSV).drop_duplicates("point").sort_values("point")
    keys, d = design.keys, len(design.keys)
    size = d + 2 if design.method == "sobol" else d + 1
    n_blocks = len(points) // size
    problem = {"num_vars": d, "names": keys, "bounds": [[p.lo, p.hi] for p in design.parameters]}
    x = points[keys].to_numpy(float).reshape(n_blocks, size, d)
    seed = int(np.random.SeedSequence(design.master_seed, spawn_key=(3,)).generate_state(1)[0]) + 1
    ok = runs[runs["status"] == "ok"]
    rows, notes = [], []
    for metric in metrics:
        y = _numeric(ok[metric]).groupby(ok["point"]).mean().reindex(range(n_blocks * size))
        y = y.to_numpy(float).reshape(n_blocks, size)
        keep = np.isfinite(y).all(axis=1)
        if keep.sum() < 2:
            notes.append(f"{metric}: {keep.sum()} complete block(s) of {n_blocks}; skipped")
            continue
        yk = y[keep].ravel()
        if np.ptp(yk) == 0:
            notes.append(f"{metric}: constant over the design; skipped")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if design.method == "sobol":
                si = sobol_analyze.analyze(problem, yk, calc_second_order=False, num_resamples=resamples,
                                           conf_level=conf_level, seed=seed)
            else:
                si = morris_analyze.analyze(problem, x[keep].reshape(-1, d), yk, num_resamples=resamples,
                                            conf_level=conf_level, num_levels=MORRIS_LEVELS, seed=seed)
        for i, key in enumerate(keys):
            rows.append({"method": design.method, "metric": metric, "parameter": key,
                         **{k: float(si[k][i]) for k in (_SOBOL if design.method == "sobol" else _MORRIS)},
                         "blocks_used": int(keep.sum()), "blocks_dropped": int((~keep).sum())})
    if not rows:
        raise SweepError(f"analyze: no metric could be analysed ({'; '.join(notes) or 'no metric'})")
    return pd.DataFrame(rows), notes


def write_sensitivity(folder: Path | str, table: pd.DataFrame) -> Path:
    """Write ``table`` as ``<folder>/sensitivity.csv`` (atomically) and return its path."""
    path = Path(folder) / SENSITIVITY_CSV
    io.write_csv(path, table)
    return path
