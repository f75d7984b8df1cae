"""Market measures, defined once (DESIGN.md §4 'Measures'): HHI, Lerner index, unit cost, gross-profit shares."""

from __future__ import annotations

import numpy as np


def hhi(quantities: np.ndarray) -> float:
    """Herfindahl–Hirschman index on the 0–10,000 scale from sellers' quantities (any unit, shape (k,)).

    0 when nothing is sold. Source: US DOJ/FTC Merger Guidelines (2023), §2.1 (shares in percent, squared, summed).
    """
    q = np.asarray(quantities, dtype=float)
    total = q.sum()
    if total <= 0:
        return 0.0
    return float(((100.0 * q / total) ** 2).sum())


def lerner(price: float, unit_cost: float) -> float:
    """Lerner index (price − unit cost) / price; ``nan`` when price ≤ 0 (Lerner 1934)."""
    return (price - unit_cost) / price if price > 0 else float("nan")


def weighted_lerner(revenue: np.ndarray, cost: np.ndarray) -> float:
    """Volume-weighted Lerner index of a layer: Σ(revenue − cost) / Σ revenue, i.e. each seller's Lerner index
    weighted by its revenue. ``nan`` without revenue. Shapes (k,), $."""
    r = float(np.sum(revenue))
    return (r - float(np.sum(cost))) / r if r > 0 else float("nan")


def share_of(part: float, whole: float) -> float:
    """part / whole, ``nan`` when whole is 0 (e.g. app-layer share of gross profit)."""
    return part / whole if whole else float("nan")
