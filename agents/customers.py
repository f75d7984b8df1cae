"""Customers, two ways (DESIGN.md §4).

:class:`CustomerSegment` is the fast path: the members of one segment are rows of numpy arrays inside one Mesa
agent, so a million customers are cheap. :class:`Customer` is the reference: one Mesa agent per customer that
draws its own traits and makes its logit choice in plain Python, written to be obviously right rather than fast
(``customers.mode = "agents"``). The two must agree on every market-level output within sampling error
(tests/test_market/test_reference.py). Each simulated customer stands for ``population_weight`` real ones; all
money and token figures reported are in real units.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import mesa
import numpy as np

OUTSIDE = -1  # choice code of the outside option (not using AI for this job)


class CustomerSegment(mesa.Agent):
    """Members of one segment (consumer, developer or enterprise), as arrays.

    Arrays, all of shape (n,):
        vertical: int8 index into the vertical list.
        wtp_usd: willingness to pay for a quality-1 service, $/month (lognormal).
        usage_mtok: token use per month at the start, Mtok blended (lognormal: heavy-tailed).
        switching_cost_usd: one-off cost of moving between offers, $ (exponential around the segment median).
        choice: current offer id, or OUTSIDE.
    Scalars: ``price_scale_usd`` (logit μ, $/month), ``quality_exponent``, ``reconsider_prob`` (per month),
    ``api_capable``.
    """

    kind = "customers"

    def __init__(self, model: mesa.Model, cfg, n: int, vertical_names: tuple[str, ...]) -> None:
        super().__init__(model)
        rng = model.rng
        self.name = cfg.name
        self.cfg = cfg
        self.n = int(n)
        names = list(cfg.vertical_mix)
        probs = np.array([cfg.vertical_mix[v] for v in names])
        codes = np.array([vertical_names.index(v) for v in names], dtype=np.int8)
        self.vertical = codes[rng.choice(len(names), size=self.n, p=probs / probs.sum())]
        self.wtp_usd = cfg.wtp_median_usd_per_month * np.exp(cfg.wtp_sigma * rng.standard_normal(self.n))
        self.usage_mtok = cfg.usage_median_mtok * np.exp(cfg.usage_sigma * rng.standard_normal(self.n))
        # Exponential around the median: most switch easily, a few are locked in (assumption).
        self.switching_cost_usd = cfg.switching_cost_usd / np.log(2) * rng.exponential(1.0, self.n)
        self.choice = np.full(self.n, OUTSIDE, dtype=np.int32)
        self.price_scale_usd = float(cfg.price_scale_usd)
        self.quality_exponent = float(cfg.quality_exponent)
        self.reconsider_prob = float(cfg.reconsider_prob)
        self.api_capable = bool(cfg.api_capable)
        self._forced: list[np.ndarray] = []  # members who must choose again (their seller exited)

    def reconsidering(self, rng: np.random.Generator) -> np.ndarray:
        """Sorted indices of members who look at the market this round: each with probability
        ``reconsider_prob``, plus everyone forced to.

        Independent Bernoulli draws are placed by their geometric gaps, so the cost follows the n·p members
        drawn rather than n (the same distribution as one uniform per member).
        """
        p, n = self.reconsider_prob, self.n
        if p >= 1.0:
            idx = np.arange(n)
        else:
            expected = n * p
            pos = np.cumsum(rng.geometric(p, size=int(expected + 6.0 * math.sqrt(expected) + 16))) - 1
            while pos.size and pos[-1] < n:  # rarely: the batch fell short of the end
                more = np.cumsum(rng.geometric(p, size=int(0.1 * expected) + 16)) + pos[-1]
                pos = np.concatenate([pos, more])
            idx = pos[pos < n]
        if self._forced:
            idx = np.union1d(idx, np.concatenate(self._forced))
            self._forced.clear()
        return idx

    def drop_offers(self, dead_offer_ids: np.ndarray) -> int:
        """Members whose offer disappeared go to the outside option and must choose next round; returns how many."""
        hit = np.flatnonzero(np.isin(self.choice, dead_offer_ids))
        self.choice[hit] = OUTSIDE
        if hit.size:
            self._forced.append(hit)
        return int(hit.size)


class OfferTerms(NamedTuple):
    """One offer as a customer sees it, in plain Python (the reference path).

    fit: fit in each vertical (0 = not sold there); quality: index; price_month: $/month; price_mtok: $/Mtok;
    cap_mtok: token cap, Mtok/month (inf: uncapped); api: direct-API offer; alive: can be chosen;
    owner: id of the selling firm; pool: capacity pool id.
    """

    fit: tuple[float, ...]
    quality: float
    price_month: float
    price_mtok: float
    cap_mtok: float
    api: bool
    alive: bool
    owner: int
    pool: int


class Customer(mesa.Agent):
    """One customer as its own Mesa agent: the slow reference for :class:`CustomerSegment`.

    Attributes: ``segment`` (index), ``vertical`` (index), ``wtp_usd`` ($/month for a quality-1 service),
    ``usage_mtok`` (Mtok/month at the start), ``switching_cost_usd`` ($), ``choice`` (offer id or OUTSIDE),
    ``forced`` (must choose next round), and the segment's ``price_scale_usd`` (μ, $/month),
    ``quality_exponent``, ``reconsider_prob`` (per month), ``api_capable``.
    Traits are drawn from the segment's distributions one scalar at a time.
    """

    kind = "customer"

    def __init__(self, model: mesa.Model, cfg, segment: int, vertical_names: tuple[str, ...]) -> None:
        super().__init__(model)
        rng = model.rng
        names = list(cfg.vertical_mix)
        total = sum(cfg.vertical_mix.values())
        self.segment = segment
        self.vertical = vertical_names.index(names[rng.choice(len(names), p=[cfg.vertical_mix[v] / total for v in names])])
        self.wtp_usd = cfg.wtp_median_usd_per_month * math.exp(cfg.wtp_sigma * rng.standard_normal())
        self.usage_mtok = cfg.usage_median_mtok * math.exp(cfg.usage_sigma * rng.standard_normal())
        self.switching_cost_usd = cfg.switching_cost_usd / math.log(2) * rng.exponential(1.0)
        self.choice = OUTSIDE
        self.forced = False
        self.price_scale_usd = float(cfg.price_scale_usd)
        self.quality_exponent = float(cfg.quality_exponent)
        self.reconsider_prob = float(cfg.reconsider_prob)
        self.api_capable = bool(cfg.api_capable)

    def reconsiders(self, rng: np.random.Generator) -> bool:
        """Whether this customer looks at the market this round (forced after its seller exited)."""
        look = self.forced or rng.random() < self.reconsider_prob
        self.forced = False
        return look

    def tokens(self, offer: OfferTerms, usage_factor: float) -> float:
        """Mtok/month this customer asks of ``offer``: its use, up to the offer's cap."""
        return min(self.usage_mtok * usage_factor, offer.cap_mtok)

    def can_choose(self, offer: OfferTerms) -> bool:
        """Offer is alive, sold in this customer's vertical and, if an API, usable by this customer."""
        return offer.alive and offer.fit[self.vertical] > 0 and (self.api_capable or not offer.api)

    def utility(self, offer: OfferTerms, usage_factor: float, current_owner: int | None,
                with_switching: bool = True) -> float:
        """V of ``offer`` in units of μ (money-metric logit utility of market/demand.py's docstring):
        (wtp · (fit · q)^γ · served − price_month − tokens · price_mtok − switching) / μ, $/month over $/month.

        ``current_owner``: firm of the current offer (None when outside); switching costs apply only when
        moving from one firm's offer to another firm's.
        """
        usage = self.usage_mtok * usage_factor
        served = min(1.0, offer.cap_mtok / max(usage, 1e-12))
        value = self.wtp_usd * (offer.fit[self.vertical] * offer.quality) ** self.quality_exponent * served
        cost = offer.price_month + min(usage, offer.cap_mtok) * offer.price_mtok
        switching = 0.0
        if with_switching and current_owner is not None and current_owner != offer.owner:
            switching = self.switching_cost_usd
        return (value - cost - switching) / self.price_scale_usd

    def choose(self, offers: Sequence[OfferTerms], usage_factor: float, rng: np.random.Generator,
               blocked: frozenset[int] = frozenset()) -> int:
        """Random-utility choice: the offer (or the outside option, V = 0) with the largest V + Gumbel noise.
        Sets and returns ``choice``; ``blocked`` are offer ids closed to this customer (full capacity)."""
        current_owner = offers[self.choice].owner if self.choice != OUTSIDE else None
        best, best_u = OUTSIDE, rng.gumbel()
        for j, offer in enumerate(offers):
            if j in blocked or not self.can_choose(offer):
                continue
            u = self.utility(offer, usage_factor, current_owner) + rng.gumbel()
            if u > best_u:
                best, best_u = j, u
        self.choice = best
        return best

    def inclusive_value(self, offers: Sequence[OfferTerms], usage_factor: float) -> float:
        """log(1 + Σ_j exp V_j) over the offers open to this customer, switching costs left out; × μ it is the
        expected consumer surplus over the outside option, $/month (Small & Rosen 1981)."""
        vs = [self.utility(o, usage_factor, None, with_switching=False) for o in offers if self.can_choose(o)]
        top = max([0.0, *vs])
        return top + math.log(math.exp(-top) + sum(math.exp(v - top) for v in vs))
