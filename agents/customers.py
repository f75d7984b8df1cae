"""Customers, two ways (docs/design.md, "Demand").

:class:`CustomerSegment` is the fast path: the members of one segment are rows of numpy arrays inside one Mesa
agent, so a million customers are cheap. :class:`Customer` is the reference: one Mesa agent per customer that
draws its own traits and makes its nested logit choice in plain Python, written to be obviously right rather than
fast (``customers.mode = "agents"``). The two must agree on every market-level output within sampling error
(tests/test_market/test_reference.py). Each simulated customer stands for ``population_weight`` real ones.

Traits (both paths): vertical; willingness to pay W ($/month for a quality-1 service used to satiation) and token
need a (Mtok/month at which more tokens add nothing), jointly lognormal with correlation ρ; a one-off switching
cost s ($, exponential around the segment median: most switch easily, a few are locked in — assumption); an
awareness bit mask (bit 0: aware of AI at all; bit 1 + b: knows the apps of lab b).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import mesa
import numpy as np

OUTSIDE = -1
AI_AWARE = 1


def brand_bit(lab_index: int) -> int:
    """Awareness bit of lab ``lab_index``'s apps."""
    return 1 << (lab_index + 1)


class CustomerSegment(mesa.Agent):
    """Members of one segment (consumer, developer or enterprise), as arrays.

    Arrays, all of shape (n,): ``vertical`` (int8 index into the vertical list), ``wtp_usd`` ($/month),
    ``usage_mtok`` (token need, Mtok/month at the start), ``switching_cost_usd`` ($, one-off), ``aware``
    (int64 bit mask), ``choice`` (offer id or OUTSIDE). Scalars: ``price_scale_usd`` (logit μ of the median
    customer, $/month; a customer's μ scales with its willingness to pay), ``wtp_median_usd``,
    ``quality_exponent``, ``tenure_months``, ``reconsider_prob`` and ``reconsider_prob_news`` (per month),
    ``api_capable``.
    """

    kind = "customers"

    def __init__(self, model: mesa.Model, cfg, n: int, vertical_names: tuple[str, ...],
                 brand_awareness: Sequence[float] = ()) -> None:
        super().__init__(model)
        rng = model.rng
        self.name = cfg.name
        self.cfg = cfg
        self.n = int(n)
        names = list(cfg.vertical_mix)
        probs = np.array([cfg.vertical_mix[v] for v in names])
        codes = np.array([vertical_names.index(v) for v in names], dtype=np.int8)
        self.vertical = codes[rng.choice(len(names), size=self.n, p=probs / probs.sum())]
        z1, z2 = rng.standard_normal(self.n), rng.standard_normal(self.n)
        rho = cfg.wtp_usage_corr
        self.wtp_usd = cfg.wtp_median_usd_per_month * np.exp(cfg.wtp_sigma * z1)
        self.usage_mtok = cfg.usage_median_mtok * np.exp(cfg.usage_sigma * (rho * z1 + math.sqrt(1 - rho * rho) * z2))
        self.switching_cost_usd = cfg.switching_cost_usd / np.log(2) * rng.exponential(1.0, self.n)
        self.aware = np.zeros(self.n, dtype=np.int64)
        self.aware[rng.random(self.n) < cfg.aware0] |= AI_AWARE
        for b, share in enumerate(brand_awareness):
            self.aware[(rng.random(self.n) < share) & (self.aware & AI_AWARE).astype(bool)] |= brand_bit(b)
        self.choice = np.full(self.n, OUTSIDE, dtype=np.int32)
        self.price_scale_usd = float(cfg.price_scale_usd)
        self.wtp_median_usd = float(cfg.wtp_median_usd_per_month)
        self.quality_exponent = float(cfg.quality_exponent)
        self.tenure_months = float(cfg.tenure_months)
        self.reconsider_prob = float(cfg.reconsider_prob)
        self.reconsider_prob_news = float(cfg.reconsider_prob_news)
        self.api_capable = bool(cfg.api_capable)

    @property
    def switching_monthly(self) -> np.ndarray:
        """(n,) switching cost spread over the expected tenure, $/month."""
        return self.switching_cost_usd / self.tenure_months


class OfferTerms(NamedTuple):
    """One offer as a customer sees it, in plain Python (the reference path).

    fit: fit in each vertical (0 = not sold there); quality: index; price_month: $/month; price_mtok: $/Mtok;
    cap_mtok: Mtok/month (inf: uncapped); overage: $/Mtok beyond the cap (inf: hard limit); api: direct-API offer;
    alive: can be chosen; owner: id of the selling firm; pool: capacity pool id; nest: nest index; size: compute
    per token relative to the pool's reference model; brand: lab index whose app must be known (−1: none).
    """

    fit: tuple[float, ...]
    quality: float
    price_month: float
    price_mtok: float
    cap_mtok: float
    overage: float
    api: bool
    alive: bool
    owner: int
    pool: int
    nest: int
    size: float
    brand: int


class Customer(mesa.Agent):
    """One customer as its own Mesa agent: the slow reference for :class:`CustomerSegment`.

    Attributes: ``segment`` and ``vertical`` (indices), ``wtp_usd`` ($/month), ``usage_mtok`` (token need, Mtok/month
    at the start), ``switching_cost_usd`` ($), ``aware`` (bit mask), ``choice`` (offer id or OUTSIDE), ``forced``
    (must choose next round), and the segment's parameters. Traits are drawn one scalar at a time; the formulas
    are written here again in plain Python, apart from market/demand.py's arrays, so that the agreement test
    checks one against the other.
    """

    kind = "customer"

    def __init__(self, model: mesa.Model, cfg, segment: int, vertical_names: tuple[str, ...],
                 brand_awareness: Sequence[float] = (), lam: Sequence[float] = (1.0, 1.0, 1.0)) -> None:
        super().__init__(model)
        rng = model.rng
        names = list(cfg.vertical_mix)
        total = sum(cfg.vertical_mix.values())
        self.segment = segment
        self.vertical = vertical_names.index(names[rng.choice(len(names), p=[cfg.vertical_mix[v] / total for v in names])])
        z1, z2 = rng.standard_normal(), rng.standard_normal()
        rho = cfg.wtp_usage_corr
        self.wtp_usd = cfg.wtp_median_usd_per_month * math.exp(cfg.wtp_sigma * z1)
        self.usage_mtok = cfg.usage_median_mtok * math.exp(cfg.usage_sigma * (rho * z1 + math.sqrt(1 - rho * rho) * z2))
        self.switching_cost_usd = cfg.switching_cost_usd / math.log(2) * rng.exponential(1.0)
        self.aware = AI_AWARE if rng.random() < cfg.aware0 else 0
        for b, share in enumerate(brand_awareness):
            if rng.random() < share and self.aware & AI_AWARE:
                self.aware |= brand_bit(b)
        self.choice = OUTSIDE
        self.forced = False
        # This customer's logit scale: the segment's at the median willingness to pay, in proportion to its own.
        self.price_scale_usd = float(cfg.price_scale_usd) * self.wtp_usd / float(cfg.wtp_median_usd_per_month)
        self.quality_exponent = float(cfg.quality_exponent)
        self.tenure_months = float(cfg.tenure_months)
        self.reconsider_prob = float(cfg.reconsider_prob)
        self.reconsider_prob_news = float(cfg.reconsider_prob_news)
        self.api_capable = bool(cfg.api_capable)
        self.lam = tuple(float(x) for x in lam)

    def reconsiders(self, rng: np.random.Generator, news: bool = False) -> bool:
        """Whether this customer looks at the market this round: forced after its seller exited or when it just
        became aware of something new; otherwise with ``reconsider_prob`` (``reconsider_prob_news`` with news)."""
        p = self.reconsider_prob_news if news else self.reconsider_prob
        look = self.forced or rng.random() < p
        self.forced = False
        return look and bool(self.aware & AI_AWARE)

    def terms(self, offer: OfferTerms, usage_factor: float) -> tuple[float, float, float]:
        """(surplus $/month, tokens Mtok/month, payment $/month) on ``offer``: tokens chosen to maximise
        W·(f·q)^γ·φ(x/a) − payments, φ(z) = z(2 − z) up to the need a (see market/demand.py)."""
        need = self.usage_mtok * usage_factor
        benefit = max(self.wtp_usd * (offer.fit[self.vertical] * offer.quality) ** self.quality_exponent, 1e-300)

        def interior(price: float) -> float:
            return need * max(0.0, 1.0 - price * need / (2.0 * benefit))

        x = interior(offer.price_mtok)
        if x > offer.cap_mtok:
            x = max(offer.cap_mtok, interior(offer.overage)) if math.isfinite(offer.overage) else offer.cap_mtok
        z = min(1.0, x / need)
        pay = offer.price_month + offer.price_mtok * min(x, offer.cap_mtok)
        if x > offer.cap_mtok:
            pay += offer.overage * (x - offer.cap_mtok)
        return benefit * z * (2.0 - z) - pay, x, pay

    def tokens(self, offer: OfferTerms, usage_factor: float) -> float:
        """Mtok/month this customer uses of ``offer``."""
        return self.terms(offer, usage_factor)[1]

    def can_choose(self, offer: OfferTerms) -> bool:
        """Offer is alive, sold in this customer's vertical, usable by its segment (APIs) and its brand known."""
        return (offer.alive and offer.fit[self.vertical] > 0 and (self.api_capable or not offer.api)
                and (offer.brand < 0 or bool(self.aware & brand_bit(offer.brand))))

    def utility(self, offer: OfferTerms, usage_factor: float, current_owner: int | None,
                with_switching: bool = True) -> float:
        """V of ``offer`` in units of μ: (surplus − switching cost / tenure if moving to another firm) / μ."""
        value = self.terms(offer, usage_factor)[0]
        if with_switching and current_owner is not None and current_owner != offer.owner:
            value -= self.switching_cost_usd / self.tenure_months
        return value / self.price_scale_usd

    def _nests(self, offers: Sequence[OfferTerms], usage_factor: float, blocked: frozenset[int],
               with_switching: bool = True) -> dict[int, list[tuple[int, float]]]:
        current_owner = offers[self.choice].owner if self.choice != OUTSIDE else None
        nests: dict[int, list[tuple[int, float]]] = {}
        for j, offer in enumerate(offers):
            if j not in blocked and self.can_choose(offer):
                nests.setdefault(offer.nest, []).append(
                    (j, self.utility(offer, usage_factor, current_owner, with_switching)))
        return nests

    def _log_inclusive(self, members: list[tuple[int, float]], lam: float) -> float:
        top = max(v / lam for _, v in members)
        return lam * (top + math.log(math.fsum(math.exp(v / lam - top) for _, v in members)))

    def choose(self, offers: Sequence[OfferTerms], usage_factor: float, rng: np.random.Generator,
               blocked: frozenset[int] = frozenset()) -> int:
        """Nested logit in two stages: a nest (or the outside option) with probability exp(I_g) / (1 + Σ exp I),
        I_g = λ_g log Σ_{k∈g} exp(V_k/λ_g); then an offer within it ∝ exp(V_k/λ_g). Sets and returns ``choice``."""
        nests = self._nests(offers, usage_factor, blocked)
        inclusive = {g: self._log_inclusive(members, self.lam[g]) for g, members in nests.items()}
        top = max([0.0, *inclusive.values()])
        weights = [(None, math.exp(-top))] + [(g, math.exp(i - top)) for g, i in inclusive.items()]
        pick = rng.random() * math.fsum(w for _, w in weights)
        chosen = None
        for g, w in weights:
            pick -= w
            if pick < 0:
                chosen = g
                break
        else:
            chosen = weights[-1][0]
        if chosen is None:
            self.choice = OUTSIDE
            return OUTSIDE
        members, lam = nests[chosen], self.lam[chosen]
        top = max(v / lam for _, v in members)
        within = [(j, math.exp(v / lam - top)) for j, v in members]
        pick = rng.random() * math.fsum(w for _, w in within)
        for j, w in within:
            pick -= w
            if pick < 0:
                self.choice = j
                return j
        self.choice = within[-1][0]
        return self.choice

    def inclusive_value(self, offers: Sequence[OfferTerms], usage_factor: float) -> float:
        """log(1 + Σ_g exp I_g) over the offers open to this customer, switching costs left out; × μ it is the
        expected consumer surplus over the outside option, $/month (McFadden 1978; Small & Rosen 1981); zero for a
        customer not aware of AI."""
        if not self.aware & AI_AWARE:
            return 0.0
        nests = self._nests(offers, usage_factor, frozenset(), with_switching=False)
        inclusive = [self._log_inclusive(members, self.lam[g]) for g, members in nests.items()]
        top = max([0.0, *inclusive])
        return top + math.log(math.exp(-top) + math.fsum(math.exp(i - top) for i in inclusive))
