"""Market clearing: pool loads, rationing with spill-over to each customer's next choice, pro-rata throttling.

Each seller serves up to its pools' capacity (Mtok/month). Customers a full pool turns away choose again with
the full pools' offers closed (their next choice, possibly the outside option); whatever still exceeds capacity
is throttled pro rata and recorded as unserved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market import costs, demand


@dataclass
class Clearing:
    """Outcome of one round's clearing (simulated customers; multiply token sums by the population weight).

    Attributes:
        tokens: (n,) Mtok/month each customer asked for at its chosen offer (0 outside).
        served: (n,) Mtok/month actually served.
        pool_capacity: (P,) Mtok/month (real units).
        pool_demand: (P,) Mtok/month asked for (real units, after spill-over).
        pool_served: (P,) Mtok/month served (real units).
        spilled: customers (real) turned away and sent to their next choice.
    """

    tokens: np.ndarray
    served: np.ndarray
    pool_capacity: np.ndarray
    pool_demand: np.ndarray
    pool_served: np.ndarray
    spilled: float


def pool_capacities(model) -> np.ndarray:
    """Capacity of every pool this round, Mtok/month in real units.

    Labs: paid and free GPU shares of their fleet; providers: the rental cap (they rent on demand).
    """
    book = model.book
    cap = np.zeros(book.n_pools)
    for p, (firm, kind) in enumerate(zip(book.pool_firm, book.pool_kind)):
        if not firm.alive:
            continue
        tech = model.tech_of(firm)
        if firm.kind == "lab":
            gpus = firm.free_gpus if kind == "free" else firm.paid_gpus
        else:
            gpus = firm.cfg.max_gpus
        cap[p] = costs.capacity_mtok_per_month(gpus, tech) if gpus > 0 else 0.0
    return cap


def _tokens(model, offers: demand.Offers) -> tuple[np.ndarray, np.ndarray]:
    choice = model.choice
    inside = choice >= 0
    safe = np.where(inside, choice, 0)
    tokens = np.where(inside, np.minimum(model.usage_mtok * model.usage_factor, offers.cap_mtok[safe]), 0.0)
    pools = np.where(inside, offers.pool[safe], -1)
    return tokens, pools


def clear_market(model, offers: demand.Offers, capacity_limited: bool = True) -> Clearing:
    """Serve everyone up to pool capacity; ``capacity_limited=False`` (set-up only) serves all demand."""
    w = model.weight
    tokens, pools = _tokens(model, offers)
    cap_real = pool_capacities(model) if capacity_limited else np.full(model.book.n_pools, np.inf)
    cap_sim = cap_real / w
    spilled = 0.0
    if capacity_limited:
        rationed = demand.ration(pools, tokens, cap_sim, model.rng)
        if rationed.any():
            load = demand.pool_loads(pools, tokens, cap_sim.shape[0])
            full_pools = np.flatnonzero(load > cap_sim)
            blocked = np.isin(offers.pool, full_pools)
            for seg in model.segments:
                idx = np.flatnonzero(rationed[seg.start:seg.stop])
                model._choose(seg, idx, offers, blocked=blocked)
            spilled = float(rationed.sum()) * w
            tokens, pools = _tokens(model, offers)
    load = demand.pool_loads(pools, tokens, cap_sim.shape[0])
    frac = demand.served_fraction(load, cap_sim)
    served = tokens * np.where(pools >= 0, frac[np.maximum(pools, 0)], 0.0)
    return Clearing(tokens=tokens, served=served, pool_capacity=cap_real, pool_demand=load * w,
                    pool_served=demand.pool_loads(pools, served, cap_sim.shape[0]) * w, spilled=spilled)
