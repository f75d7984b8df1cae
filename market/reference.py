"""The reference population (``customers.mode = "agents"``): every customer is its own Mesa agent.

Slow by design, plain Python loops over :class:`agents.customers.Customer` agents, written to be obviously right;
it exists to check :class:`market.population.VectorPopulation`, with which it shares an interface. Customers draw
their own traits, learn of AI and of labs' apps one Bernoulli draw at a time, decide one by one whether to
reconsider, and choose by a two-stage nested logit draw (nest, then offer) instead of the fast path's one-uniform
inverse CDF over the joint probabilities; rationing serves a pool's customers in random order while they fit.
"""

from __future__ import annotations

import math

import numpy as np

from agents.customers import AI_AWARE, OUTSIDE, Customer, OfferTerms, brand_bit
from market import demand
from market.config import VERTICALS, CustomersConfig
from market.segments import CS_SAMPLE_PER_SEGMENT, News, Tally, cs_sample, nest_lambdas, segment_sizes


def offer_terms(offers: demand.Offers) -> list[OfferTerms]:
    """The offers as plain Python records, one per offer id."""
    return [OfferTerms(fit=tuple(float(f) for f in offers.fit[:, j]), quality=float(offers.quality[j]),
                       price_month=float(offers.price_month[j]), price_mtok=float(offers.price_mtok[j]),
                       cap_mtok=float(offers.cap_mtok[j]), overage=float(offers.overage_usd_per_mtok[j]),
                       api=bool(offers.api[j]), alive=bool(offers.alive[j]), owner=int(offers.owner[j]),
                       pool=int(offers.pool[j]), nest=int(offers.nest[j]), size=float(offers.size[j]),
                       brand=int(offers.brand[j]))
            for j in range(offers.n)]


class AgentPopulation:
    """One :class:`Customer` Mesa agent per simulated customer; same interface as ``VectorPopulation``."""

    mode = "agents"

    def __init__(self, model, cfg: CustomersConfig, brand_awareness: list[float]) -> None:
        lam = tuple(nest_lambdas(cfg))
        self.customers: list[Customer] = []
        self.by_segment: list[list[Customer]] = []
        for s, (seg_cfg, n) in enumerate(zip(cfg.segments, segment_sizes(cfg))):
            members = [Customer(model, seg_cfg, s, VERTICALS, brand_awareness, lam) for _ in range(n)]
            self.by_segment.append(members)
            self.customers.extend(members)
        self.cs_sample: list[list[Customer]] = []
        self.cs_weight: list[np.ndarray] = []
        for members in self.by_segment:
            pos, weight = cs_sample(np.array([c.vertical for c in members], dtype=np.int64),
                                    np.array([c.wtp_usd for c in members]), CS_SAMPLE_PER_SEGMENT, model.rng)
            self.cs_sample.append([members[i] for i in pos])
            self.cs_weight.append(weight)
        self.n = len(self.customers)
        self.n_segments = len(self.by_segment)
        self.n_brands = len(brand_awareness)
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
                    aware=col("aware", int), choice=col("choice", int))

    def spread_awareness(self, users: np.ndarray, brand_users: np.ndarray, cfg: CustomersConfig,
                         rng: np.random.Generator) -> int:
        """One month of Bass diffusion, customer by customer (see ``VectorPopulation.spread_awareness``)."""
        newly = 0
        for s, members in enumerate(self.by_segment):
            seg_cfg = cfg.segments[s]
            aware = [c for c in members if c.aware & AI_AWARE]
            known = [sum(1 for c in aware if c.aware & brand_bit(b)) / len(aware) if aware else 0.0
                     for b in range(self.n_brands)]
            hazard = min(1.0, seg_cfg.bass_innovation + seg_cfg.bass_imitation * users[s] / max(len(members), 1))
            for c in members:
                if rng.random() < hazard and not c.aware & AI_AWARE:
                    c.aware |= AI_AWARE
                    for b, share in enumerate(known):
                        if rng.random() < share:
                            c.aware |= brand_bit(b)
                    c.forced = True
                    newly += 1
            for b in range(self.n_brands):
                hazard_b = min(1.0, cfg.brand_innovation + cfg.brand_imitation * brand_users[s, b] / max(len(aware), 1))
                for c in members:
                    if rng.random() < hazard_b and c.aware & AI_AWARE:
                        c.aware |= brand_bit(b)
        return newly

    def choose_all(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> None:
        """Every customer aware of AI chooses (set-up)."""
        terms = self._offer_terms(offers)
        for c in self.customers:
            if c.aware & AI_AWARE:
                c.choose(terms, usage_factor, rng)

    def reconsider(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator,
                   news: News | None = None) -> int:
        """Each customer in turn decides whether to look at the market and, if so, chooses; returns how many did."""
        terms = self._offer_terms(offers)
        looked = 0
        for c in self.customers:
            has_news = news is not None and (
                bool(news.new_offer[c.vertical]) or (c.choice != OUTSIDE and bool(news.price_rose[c.choice])))
            if c.reconsiders(rng, has_news):
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

    def reassign(self, old_ids: np.ndarray, new_ids: np.ndarray) -> None:
        """Customers of ``old_ids[k]`` now hold ``new_ids[k]``."""
        mapping = {int(o): int(n) for o, n in zip(np.atleast_1d(old_ids), np.atleast_1d(new_ids))}
        for c in self.customers:
            if c.choice in mapping:
                c.choice = mapping[c.choice]

    def counts(self, n_offers: int) -> np.ndarray:
        """(S, V, J) customers per segment, vertical and offer."""
        out = np.zeros((self.n_segments, len(VERTICALS), n_offers))
        for c in self.customers:
            if c.choice != OUTSIDE:
                out[c.segment, c.vertical, c.choice] += 1
        return out

    def tally(self, offers: demand.Offers, usage_factor: float) -> Tally:
        """Customers, tokens asked and overage tokens per (segment, vertical, offer)."""
        terms = self._offer_terms(offers)
        tokens = np.zeros((self.n_segments, len(VERTICALS), offers.n))
        overage = np.zeros_like(tokens)
        for c in self.customers:
            if c.choice != OUTSIDE:
                x = c.tokens(terms[c.choice], usage_factor)
                tokens[c.segment, c.vertical, c.choice] += x
                if math.isfinite(terms[c.choice].overage):
                    overage[c.segment, c.vertical, c.choice] += max(0.0, x - terms[c.choice].cap_mtok)
        return Tally(self.counts(offers.n), tokens, overage)

    def ration(self, offers: demand.Offers, usage_factor: float, capacity: np.ndarray, pool_load: np.ndarray,
               blocked: np.ndarray, rng: np.random.Generator) -> int:
        """Each customer of an over-full pool gets in with probability capacity / load of its pool; those turned
        away choose again with every full pool's offers closed. Returns how many were turned away.

        Args: capacity, pool_load: (P,) reference-model Mtok/month per pool, simulated units; blocked: (J,) bool,
        offers whose pool is over capacity."""
        terms = self._offer_terms(offers)
        closed = frozenset(int(j) for j in np.flatnonzero(blocked))
        away = []
        for c in self.customers:
            if c.choice in closed:
                pool = terms[c.choice].pool
                if rng.random() >= capacity[pool] / max(pool_load[pool], 1e-300):
                    away.append(c)
        for c in away:
            c.choose(terms, usage_factor, rng, closed)
        return len(away)

    def consumer_surplus(self, offers: demand.Offers, usage_factor: float) -> float:
        """Expected consumer surplus over the outside option, $/month, simulated units (the vectorised
        population's sample rule, :func:`segments.cs_sample`, with its weights)."""
        terms = self._offer_terms(offers)
        total = 0.0
        for sample, weight in zip(self.cs_sample, self.cs_weight):
            total += math.fsum(c.inclusive_value(terms, usage_factor) * c.price_scale_usd * w for c, w in zip(sample, weight))
        return total
