"""Model quality: training compute with diminishing returns, the free-tier data flywheel; open weights in the round.

Quality is an index (the 2025 frontier = 1). Each month a lab gains

    Δq = training_gain · ln(1 + C / training_ref_gpus) + data_gain · ln(1 + D / data_ref_mtok)

with C its effective training compute (training GPUs × efficiency gains × the lab's training efficiency) and D
its free-tier tokens served (data). Logarithms give diminishing returns in both, the usual reading of scaling
laws (Kaplan et al. 2020: loss falls as a power of compute, so capability gains per doubling are roughly
constant). Compute a lab spends serving below-cost tokens is compute it does not train on: the opportunity cost
of DESIGN.md Q1 shows up here, months later. Constants are world config fields (assumptions, documented there).

Open weights exist only when an agent publishes them (``market/open_weights.py``): the model keeps a
:class:`~market.open_weights.Registry` that starts with one model published before round 0 by a firm outside the
model (``open_weights.initial_quality``), grows when a lab publishes (``lab_model``) or, if switched on, when an
outside distiller copies the closed frontier (``distilled``); each host serves the model ``host_choice`` picks.
"""

from __future__ import annotations

import numpy as np

from market.open_weights import PublishedModel, Registry, best_for_host, distil, distillation_from_config


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


OUTSIDE_PUBLISHER = -1  # publisher id of the open model that exists before round 0 (a firm outside the model)
DISTILLER = -2  # publisher id of distilled copies (an outside distiller)


def initial_registry(cfg) -> Registry:
    """The open models at round 0 (``OpenWeightsConfig``): one, published by a firm outside the model
    (``initial_quality``, ``initial_compute_per_token``) early enough to be served at round 0."""
    return Registry((PublishedModel(OUTSIDE_PUBLISHER, -int(cfg.release_lag_months), cfg.initial_compute_per_token,
                                    cfg.initial_quality),))


def lab_model(lab, now: int) -> PublishedModel:
    """The model a lab publishes at round ``now``: its frontier model (size ``compute_per_token``, its quality)."""
    return PublishedModel(lab.unique_id, now, lab.cfg.compute_per_token, lab.quality)


def host_choice(registry: Registry, now: int, base_cost_usd_per_mtok: float, cfg) -> PublishedModel | None:
    """The model a host serves at round ``now``: ``best_for_host`` with the config's exponents and release lag,
    ``base_cost_usd_per_mtok`` being its unit cost of a size-1 model."""
    return best_for_host(registry, now, base_cost_usd_per_mtok, cfg.quality_exponent, cfg.cost_exponent,
                         cfg.release_lag_months)


def distilled(registry: Registry, frontier_history: list[float], now: int, cfg) -> tuple[PublishedModel, float] | None:
    """A distilled copy of the closed frontier and its cost ($) when distillation is on and the copy would beat
    every model published so far (nobody distils a model no host would serve); else None
    (``market.open_weights.distil``)."""
    made = distil(frontier_history, now, DISTILLER, distillation_from_config(cfg))
    if made is None or made[0].quality <= registry.best_quality(now):
        return None
    return made
