"""Model quality: training compute with diminishing returns, the free-tier data flywheel, open-weight diffusion.

Quality is an index (the 2025 frontier = 1). Each month a lab gains

    Δq = training_gain · ln(1 + C / training_ref_gpus) + data_gain · ln(1 + D / data_ref_mtok)

with C its effective training compute (training GPUs × efficiency gains × the lab's training efficiency) and D
its free-tier tokens served (data). Logarithms give diminishing returns in both, the usual reading of scaling
laws (Kaplan et al. 2020: loss falls as a power of compute, so capability gains per doubling are roughly
constant). Compute a lab spends serving below-cost tokens is compute it does not train on: the opportunity cost
of DESIGN.md Q1 shows up here, months later. Constants are world config fields (assumptions, documented there).
"""

from __future__ import annotations

import numpy as np


def quality_gain(training_compute_gpus: float, free_tokens_mtok: float, training_gain: float,
                 training_ref_gpus: float, data_gain: float, data_ref_mtok: float, flywheel: bool = True) -> float:
    """Monthly quality gain (index points) from effective training compute (GPU-equivalents, ≥ 0) and free-tier
    tokens (Mtok/month, ≥ 0). Raises ValueError for negative inputs."""
    if training_compute_gpus < 0 or free_tokens_mtok < 0:
        raise ValueError(f"training_compute_gpus={training_compute_gpus!r}, free_tokens_mtok={free_tokens_mtok!r}: must be ≥ 0")
    gain = training_gain * np.log1p(training_compute_gpus / training_ref_gpus)
    if flywheel:
        gain += data_gain * np.log1p(free_tokens_mtok / data_ref_mtok)
    return float(gain)


def open_weight_quality(frontier_history: list[float], lag_months: int, gap: float, published: float) -> float:
    """Quality of the best open-weight model (index): the closed frontier of ``lag_months`` ago less ``gap``,
    or the best model a lab has published, whichever is higher. ``frontier_history`` is the frontier by round
    (oldest first)."""
    if not frontier_history:
        return max(0.0, published)
    lagged = frontier_history[max(0, len(frontier_history) - 1 - lag_months)]
    return max(0.0, lagged - gap, published)
