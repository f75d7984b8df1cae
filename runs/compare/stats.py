"""Interval estimates over replicate runs: Wilson intervals for outcome frequencies, Newcombe's interval for the
difference of two frequencies, Student-t intervals for mean paired differences, and quantile bands.

Pure functions on numbers and arrays; no scipy (the Student-t quantile is the Cornish-Fisher expansion of
Abramowitz & Stegun 1964, 26.7.5, exact closed forms for 1 and 2 degrees of freedom).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)  # 90 % and 50 % bands around the median


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: {confidence!r} out of range (allowed: (0, 1))")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927) for a frequency of ``k`` successes in ``n`` trials: (low, high), both
    fractions in [0, 1]; (NaN, NaN) when n = 0. Unlike the normal interval it stays inside [0, 1] and does not
    collapse at 0 of n or n of n.

    Raises:
        ValueError: k outside [0, n] or confidence outside (0, 1).
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"k={k!r}, n={n!r}: need 0 ≤ k ≤ n")
    if n == 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for the difference of two frequencies k1/n1 − k2/n2 from their Wilson intervals (Newcombe 1998,
    method 10): (low, high) in [−1, 1]; NaNs when either n is 0. It treats the two samples as independent, so
    with common random numbers (positively correlated pairs) it is conservative."""
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def t_quantile(p: float, df: int) -> float:
    """Quantile ``p`` of Student's t with ``df`` degrees of freedom: exact for df 1 and 2, else Abramowitz &
    Stegun (1964) 26.7.5 (at p = 0.975 the error is 4e-3 at df 3, 1e-3 at df 4 and below 1e-4 from df 8).

    Raises:
        ValueError: p outside (0, 1) or df < 1.
    """
    if not 0.0 < p < 1.0 or df < 1:
        raise ValueError(f"p={p!r}, df={df!r}: need 0 < p < 1 and df ≥ 1")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    v = float(df)
    terms = ((z ** 3 + z) / 4, (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96,
             (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384,
             (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160)
    return z + sum(t / v ** (i + 1) for i, t in enumerate(terms))


def mean_interval(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of the finite values of ``x`` and its Student-t interval: (mean, low, high, n); the interval is NaN
    with fewer than two values."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = t_quantile(0.5 + confidence / 2, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def bands(values: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Quantile bands over replicates: for each group of ``by`` (e.g. arm and round) and each of ``columns``,
    the number of finite values ``n`` and the quantiles of :data:`BAND_QUANTILES` (``q05``, ``q25``,
    ``median``, ``q75``, ``q95``). Long format: by…, metric, n, q05, q25, median, q75, q95."""
    names = {0.05: "q05", 0.25: "q25", 0.5: "median", 0.75: "q75", 0.95: "q95"}
    long = values[by + columns].melt(id_vars=by, var_name="metric", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long[np.isfinite(long["value"])]
    g = long.groupby(by + ["metric"], sort=True)["value"]
    out = g.quantile(list(BAND_QUANTILES)).unstack().rename(columns=names)
    out.insert(0, "n", g.size())
    return out.reset_index()
