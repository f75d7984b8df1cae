"""Identification diagnostics at the estimate: which targets pin which parameters, and which directions are flat.

The local Jacobian ``D[i, j] = ∂ d̄_i / ∂ u_j`` of the seed-mean errors (one-sided targets clamped, as the
objective sees them) with respect to the parameters in unit coordinates (0 → 1 spans the prior range) is taken
by central finite differences with common random numbers: the same seeds at ``u ± h e_j`` as at the estimate, so
seed noise cancels in the difference instead of swamping it. At a prior bound the difference is one-sided.

Weighted, ``G[i, j] = sqrt(w_i / Σw) / tolerance_i × D[i, j]``, so that near the estimate
``J(u* + δ) ≈ ‖r + G δ‖²`` (``r`` the weighted standardised errors). Then:

- a parameter's column norm ‖G[:, j]‖ is how much the objective's residual moves when that parameter crosses its
  whole prior range, and ``G[i, j]² / ‖G[:, j]‖²`` is the share of that movement target ``i`` carries: the
  targets that pin the parameter;
- the singular values ``σ_k`` of ``G`` with right singular vectors ``v_k``: moving across the prior range along
  ``v_k`` moves the residual by ``σ_k``. A direction is *flat* when ``σ_k < FLAT_ABSOLUTE`` (the targets cannot
  tell its ends apart by a tenth of a tolerance) or ``σ_k < FLAT_RELATIVE × σ_max`` (it is poorly determined
  next to the best one); it is reported by name through its largest loadings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FLAT_ABSOLUTE = 0.1
FLAT_RELATIVE = 0.05
COLUMNS = ["section", "index", "parameter", "target", "value", "weighted", "share", "flat", "detail"]


@dataclass(frozen=True)
class StepPlan:
    """Finite-difference points of one parameter: unit coordinates below and above the estimate (``None`` when the
    estimate sits on that prior bound and the difference is one-sided)."""

    index: int
    lo: float | None
    hi: float | None


def step_points(u_best: list[float], h: float) -> list[StepPlan]:
    """Where to evaluate: ``u ± h`` per parameter, clipped to [0, 1]; a side that would not move is dropped."""
    out = []
    for j, u in enumerate(u_best):
        lo, hi = max(0.0, u - h), min(1.0, u + h)
        out.append(StepPlan(j, lo if lo < u else None, hi if hi > u else None))
    return out


def jacobian(base: np.ndarray, lower: list[np.ndarray | None], upper: list[np.ndarray | None],
             steps: list[StepPlan], u_best: list[float]) -> np.ndarray:
    """D (targets × parameters) from seed-mean clamped errors at the estimate and at the step points.

    Args:
        base: errors at the estimate, shape (targets,).
        lower, upper: per parameter, errors at its lower / upper step point (None when absent).
        steps: the step plan; u_best: unit coordinates of the estimate.
    """
    cols = []
    for j, st in enumerate(steps):
        a = lower[j] if st.lo is not None else base
        b = upper[j] if st.hi is not None else base
        ua = st.lo if st.lo is not None else u_best[j]
        ub = st.hi if st.hi is not None else u_best[j]
        cols.append((b - a) / (ub - ua) if ub > ua else np.zeros_like(base))
    return np.column_stack(cols) if cols else np.zeros((len(base), 0))


def weighted(d_matrix: np.ndarray, weights: list[float], scales: list[float]) -> np.ndarray:
    """G = diag(sqrt(w / Σw) / scale) · D."""
    w, s = np.asarray(weights, float), np.asarray(scales, float)
    return (np.sqrt(w / w.sum()) / s)[:, None] * d_matrix


def _direction(v: np.ndarray, names: list[str], top: int = 3) -> str:
    order = np.argsort(-np.abs(v))[:top]
    sign = 1.0 if v[order[0]] >= 0 else -1.0  # a singular vector's sign is arbitrary: lead with a positive loading
    return " ".join(f"{'+' if sign * v[i] >= 0 else '−'}{abs(v[i]):.2f}·{names[i]}" for i in order
                    if abs(v[i]) >= 0.05).lstrip("+")


def diagnose(d_matrix: np.ndarray, weights: list[float], scales: list[float], targets: list[str],
             parameters: list[str], best_values: list[float], u_best: list[float], step: float) -> pd.DataFrame:
    """identification.csv as a long table (columns :data:`COLUMNS`).

    Sections: ``sensitivity`` (one row per parameter and target: D, G and the target's share of the parameter's
    squared column norm), ``parameter`` (one row per parameter: estimate, unit coordinate in ``share``, column
    norm in ``weighted``, identified unless the norm is below :data:`FLAT_ABSOLUTE`, the three targets that pin
    it most in ``detail``), ``singular`` (one row per singular value: σ, σ/σ_max in ``share``, flat, the
    direction by name in ``detail``).
    """
    g = weighted(d_matrix, weights, scales)
    norms2 = (g ** 2).sum(axis=0)
    rows = []
    for j, p in enumerate(parameters):
        for i, t in enumerate(targets):
            share = g[i, j] ** 2 / norms2[j] if norms2[j] > 0 else 0.0
            rows.append({"section": "sensitivity", "index": j, "parameter": p, "target": t, "value": d_matrix[i, j],
                         "weighted": g[i, j], "share": share, "flat": np.nan, "detail": ""})
    for j, p in enumerate(parameters):
        norm = float(np.sqrt(norms2[j]))
        shares = g[:, j] ** 2 / norms2[j] if norms2[j] > 0 else np.zeros(len(targets))
        top = np.argsort(-shares)[:3]
        detail = "; ".join(f"{targets[i]} {shares[i]:.2f}" for i in top if shares[i] > 0) or "no target moves"
        rows.append({"section": "parameter", "index": j, "parameter": p, "target": "", "value": best_values[j],
                     "weighted": norm, "share": u_best[j], "flat": norm < FLAT_ABSOLUTE,
                     "detail": f"step ±{step:g} of the prior range; pinned by: {detail}"})
    if g.size:
        _, sv, vt = np.linalg.svd(g, full_matrices=True)
        sv = np.concatenate([sv, np.zeros(vt.shape[0] - len(sv))])  # fewer targets than parameters: null space
        smax = float(sv[0]) if len(sv) else 0.0
        for k, sigma in enumerate(sv):
            flat = sigma < FLAT_ABSOLUTE or sigma < FLAT_RELATIVE * smax
            rows.append({"section": "singular", "index": k, "parameter": "", "target": "", "value": float(sigma),
                         "weighted": float(sigma), "share": float(sigma / smax) if smax > 0 else 0.0,
                         "flat": bool(flat), "detail": _direction(vt[k], parameters)})
    return pd.DataFrame(rows, columns=COLUMNS)


def flat_directions(table: pd.DataFrame) -> list[str]:
    """The flat directions of an identification table, by name (empty when every direction is determined)."""
    sing = table[table["section"] == "singular"]
    return [str(d) for d, f in zip(sing["detail"], sing["flat"]) if bool(f)]
