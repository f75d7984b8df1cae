"""The reference population (``customers.mode = "agents"``): every customer is its own Mesa agent.

Slow by design, plain Python loops over :class:`agents.customers.Customer` agents, written to be obviously right;
it exists to check :class:`market.population.VectorPopulation`, with which it shares an interface (see
market/population.py). Customers draw their own traits, decide one by one whether to reconsider, and choose by
argmax of utility plus Gumbel noise; rationing serves a pool's customers in random order while they fit.
"""

from __future__ import annotations

import math

import numpy as np

from agents.customers import OUTSIDE, Customer, OfferTerms
from market import demand
from market.config import VERTICALS, CustomersConfig
from market.population import CS_SAMPLE_PER_SEGMENT, segment_sizes


def offer_terms(offers: demand.Offers) -> list[OfferTerms]:
    """The offers as plain Python records, one per offer id."""
    owner = np.arange(offers.n) if offers.owner is None else offers.owner
    return [OfferTerms(fit=tuple(float(f) for f in offers.fit[:, j]), quality=float(offers.quality[j]),
                       price_month=float(offers.price_month[j]), price_mtok=float(offers.price_mtok[j]),
                       cap_mtok=float(offers.cap_mtok[j]), api=bool(offers.api[j]), alive=bool(offers.alive[j]),
                       owner=int(owner[j]), pool=int(offers.pool[j]))
            for j in range(offers.n)]


class AgentPopulation:
    """One :class:`Customer` Mesa agent per simulated customer; same interface as ``VectorPopulation``."""

    mode = "agents"

    def __init__(self, model, cfg: CustomersConfig) -> None:
        self.customers: list[Customer] = []
        self.by_segment: list[list[Customer]] = []
        for s, (seg_cfg, n) in enumerate(zip(cfg.segments, segment_sizes(cfg))):
            members = [Customer(model, seg_cfg, s, VERTICALS) for _ in range(n)]
            self.by_segment.append(members)
            self.customers.extend(members)
        self.cs_sample = [[members[i] for i in sorted(model.rng.choice(len(members), size=min(len(members), CS_SAMPLE_PER_SEGMENT), replace=False))]
                          for members in self.by_segment]
        self.n = len(self.customers)
        self.n_segments = len(self.by_segment)
        self.price_scales = np.array([float(s.price_scale_usd) for s in cfg.segments])
        self._terms: tuple[demand.Offers, list[OfferTerms]] | None = None

    def _offer_terms(self, offers: demand.Offers) -> list[OfferTerms]:
        # Holding the Offers object (not its id) keeps a new round's offers from reusing a stale entry.
        if self._terms is None or self._terms[0] is not offers:
            self._terms = (offers, offer_terms(offers))
        return self._terms[1]

    @property
    def choice(self) -> np.ndarray:
        """(n,) current offer id of every customer (OUTSIDE: none), in segment order."""
        return np.array([c.choice for c in self.customers], dtype=np.int32)

    def sample(self, k: int) -> dict[str, np.ndarray]:
        """Traits and current choice of ``k`` customers evenly spaced through the population (see
        ``VectorPopulation.sample``)."""
        idx = np.unique(np.linspace(0, self.n - 1, min(k, self.n)).astype(np.int64))
        people = [self.customers[i] for i in idx]
        col = lambda attr, dtype=float: np.array([getattr(c, attr) for c in people], dtype=dtype)  # noqa: E731
        return dict(customer=idx, segment=col("segment", int), vertical=col("vertical", int), wtp_usd=col("wtp_usd"),
                    usage_mtok=col("usage_mtok"), switching_cost_usd=col("switching_cost_usd"),
                    choice=col("choice", int))

    def choose_all(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> None:
        """Everyone chooses (set-up)."""
        terms = self._offer_terms(offers)
        for c in self.customers:
            c.choose(terms, usage_factor, rng)

    def reconsider(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> int:
        """Each customer in turn decides whether to look at the market and, if so, chooses; returns how many did."""
        terms = self._offer_terms(offers)
        looked = 0
        for c in self.customers:
            if c.reconsiders(rng):
                c.choose(terms, usage_factor, rng)
                looked += 1
        return looked

    def drop_offers(self, dead_offer_ids: np.ndarray) -> int:
        """Customers of dead offers go outside and choose next round; returns how many."""
        dead = {int(j) for j in dead_offer_ids}
        moved = 0
        for c in self.customers:
            if c.choice in dead:
                c.choice, c.forced = OUTSIDE, True
                moved += 1
        return moved

    def reassign(self, old_ids: np.ndarray, new_id: int) -> None:
        """Customers of ``old_ids`` now hold ``new_id``."""
        old = {int(j) for j in old_ids}
        for c in self.customers:
            if c.choice in old:
                c.choice = new_id

    def counts(self, n_offers: int) -> np.ndarray:
        """(S, V, J) customers per segment, vertical and offer."""
        out = np.zeros((self.n_segments, len(VERTICALS), n_offers))
        for c in self.customers:
            if c.choice != OUTSIDE:
                out[c.segment, c.vertical, c.choice] += 1
        return out

    def tally(self, offers: demand.Offers, usage_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """((S, V, J) customers, (S, V, J) Mtok/month asked)."""
        terms = self._offer_terms(offers)
        tokens = np.zeros((self.n_segments, len(VERTICALS), offers.n))
        for c in self.customers:
            if c.choice != OUTSIDE:
                tokens[c.segment, c.vertical, c.choice] += c.tokens(terms[c.choice], usage_factor)
        return self.counts(offers.n), tokens

    def ration(self, offers: demand.Offers, usage_factor: float, capacity: np.ndarray, blocked: np.ndarray,
               rng: np.random.Generator) -> int:
        """Customers of each over-full pool arrive in random order and get in while the pool has capacity left;
        those turned away choose again with every full pool's offers closed. Returns how many were turned away.

        Args: capacity: (P,) Mtok/month per pool, simulated units; blocked: (J,) bool, offers whose pool is
        over capacity."""
        terms = self._offer_terms(offers)
        closed = frozenset(int(j) for j in np.flatnonzero(blocked))
        queues: dict[int, list[Customer]] = {}
        for c in self.customers:
            if c.choice in closed:
                queues.setdefault(terms[c.choice].pool, []).append(c)
        away: list[Customer] = []
        for pool in sorted(queues):
            queue, load = queues[pool], 0.0
            for k in rng.permutation(len(queue)):  # arrivals in random order
                c = queue[k]
                if load >= capacity[pool] * (1 - 1e-12):  # full: the rest are turned away
                    away.append(c)
                else:
                    load += c.tokens(terms[c.choice], usage_factor)
        for c in away:
            c.choose(terms, usage_factor, rng, closed)
        return len(away)

    def consumer_surplus(self, offers: demand.Offers, usage_factor: float) -> float:
        """Expected consumer surplus over the outside option, $/month, simulated units (same sample rule as the
        vectorised population: up to CS_SAMPLE_PER_SEGMENT customers per segment, scaled to the segment)."""
        terms = self._offer_terms(offers)
        total = 0.0
        for members, sample in zip(self.by_segment, self.cs_sample):
            if sample:
                mean_iv = math.fsum(c.inclusive_value(terms, usage_factor) for c in sample) / len(sample)
                total += mean_iv * sample[0].price_scale_usd * len(members)
        return total
