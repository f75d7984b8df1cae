"""Market clearing: pool loads, rationing with spill-over to each customer's next choice, pro-rata throttling.

Each seller serves up to its pools' capacity (reference-model Mtok/month: a small model's token loads a pool by its
size factor). Customers a full pool turns away (each customer of a full pool gets in with probability capacity /
load) choose again with the full pools' offers closed (their next choice,
possibly the outside option); whatever still exceeds capacity is throttled pro rata and recorded as unserved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market import costs, demand
from market.segments import Tally


@dataclass
class Clearing:
    """Outcome of one round's clearing. Cells are simulated units (× the population weight for real ones).

    Attributes:
        customers: (S, V, J) customers per segment, vertical and offer after spill-over.
        tokens: (S, V, J) Mtok/month asked at the chosen offers.
        overage: (S, V, J) Mtok/month asked beyond plan caps (billed at overage prices).
        served_share: (J,) share of each offer's tokens served (its pool's pro-rata throttling; 1 if uncongested).
        pool_capacity: (P,) reference-model Mtok/month (real units).
        pool_demand: (P,) reference-model Mtok/month asked for (real units, after spill-over).
        pool_served: (P,) reference-model Mtok/month served (real units).
        spilled: customers (real) turned away and sent to their next choice.
        pool_asked: (P,) reference-model Mtok/month asked for before anyone was turned away (real units): the
            demand a seller's capacity would have had to serve (what it plans its GPUs on).
    """

    customers: np.ndarray
    tokens: np.ndarray
    overage: np.ndarray
    served_share: np.ndarray
    pool_capacity: np.ndarray
    pool_demand: np.ndarray
    pool_served: np.ndarray
    spilled: float
    pool_asked: np.ndarray | None = None

    def asked(self, pool: int) -> float:
        """Demand on ``pool`` before rationing, reference-model Mtok/month (real units); 0 for a pool opened
        after this clearing."""
        arr = self.pool_demand if self.pool_asked is None else self.pool_asked
        return float(arr[pool]) if pool < arr.size else 0.0

    @property
    def offer_tokens(self) -> np.ndarray:
        """(J,) Mtok/month asked per offer, simulated units."""
        return self.tokens.sum(axis=(0, 1))

    @property
    def offer_served(self) -> np.ndarray:
        """(J,) Mtok/month served per offer, simulated units."""
        return self.offer_tokens * self.served_share

    @property
    def cell_served(self) -> np.ndarray:
        """(S, V, J) Mtok/month served, simulated units."""
        return self.tokens * self.served_share


def pool_capacities(model) -> np.ndarray:
    """Capacity of every pool this round, reference-model Mtok/month in real units.

    Labs: the paid and free GPUs of their compute split; providers: the GPUs they rented this month.
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
            gpus = firm.gpus
        cap[p] = costs.capacity_mtok_per_month(gpus, tech) if gpus > 0 else 0.0
    return cap


def _by_offer(per_pool: np.ndarray, offers: demand.Offers, fill) -> np.ndarray:
    """(J,) each offer's value of a per-pool array; ``fill`` for offers without a pool (a wrapper with no
    upstream is served by no one)."""
    return np.where(offers.pool >= 0, per_pool[np.maximum(offers.pool, 0)], fill)


def clear_market(model, offers: demand.Offers, capacity_limited: bool = True) -> Clearing:
    """Serve everyone up to pool capacity; ``capacity_limited=False`` (set-up only) serves all demand.

    Each customer of an over-full pool gets in with probability capacity / load; the rest choose again with the
    full pools' offers closed (``population.ration``); what still exceeds a pool's capacity is throttled pro rata.
    """
    w, pop, uf = model.weight, model.population, model.usage_factor
    n_pools = model.book.n_pools
    tally: Tally = pop.tally(offers, uf)
    cap_real = pool_capacities(model) if capacity_limited else np.full(n_pools, np.inf)
    cap_sim = cap_real / w
    spilled = 0.0
    asked = demand.pool_loads(offers.pool, tally.tokens.sum(axis=(0, 1)) * offers.size, n_pools)
    if capacity_limited:
        load = asked
        over = load > cap_sim * (1 + 1e-12)
        if over.any():
            blocked = _by_offer(over, offers, False)
            turned_away = pop.ration(offers, uf, cap_sim, load, blocked, model.rng)
            if turned_away:
                spilled = turned_away * w
                tally = pop.tally(offers, uf)
    offer_load = tally.tokens.sum(axis=(0, 1)) * offers.size
    load = demand.pool_loads(offers.pool, offer_load, n_pools)
    share = _by_offer(demand.served_fraction(load, cap_sim), offers, 0.0)
    served = demand.pool_loads(offers.pool, offer_load * share, n_pools)
    return Clearing(customers=tally.customers, tokens=tally.tokens, overage=tally.overage, served_share=share,
                    pool_capacity=cap_real, pool_demand=load * w, pool_served=served * w, spilled=spilled,
                    pool_asked=asked * w)
