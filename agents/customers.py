"""CustomerSegment: a vectorised population of customers in one Mesa agent (DESIGN.md §4).

A million customers must be cheap, so members are rows of numpy arrays, not agents. Each simulated customer
stands for ``population_weight`` real ones; all money and token figures reported are in real units.
"""

from __future__ import annotations

import mesa
import numpy as np

OUTSIDE = -1  # choice code of the outside option (not using AI for this job)


class CustomerSegment(mesa.Agent):
    """Members of one segment (consumer, developer or enterprise).

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
        self.forced = np.zeros(self.n, dtype=bool)  # must choose again (their seller exited)

    def reconsidering(self, rng: np.random.Generator) -> np.ndarray:
        """Indices of members who look at the market this round: a random share plus everyone forced to."""
        mask = rng.random(self.n) < self.reconsider_prob
        mask |= self.forced
        self.forced[:] = False
        return np.flatnonzero(mask)

    def drop_offers(self, dead_offer_ids: np.ndarray) -> int:
        """Members whose offer disappeared go to the outside option and must choose next round; returns how many."""
        hit = np.isin(self.choice, dead_offer_ids)
        self.choice[hit] = OUTSIDE
        self.forced |= hit
        return int(hit.sum())
