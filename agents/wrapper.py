"""WrapperApp: sells plans in one vertical, buys tokens from an upstream API tier chosen by expected profit."""

from __future__ import annotations

import dataclasses

import mesa

from agents.firms import Firm
from agents.records import WrapperRound
from agents.types import Product, SourcingObservation, UpstreamOffer


def annuity(months: float, rate_monthly: float) -> float:
    """Present value ($) of $1 a month for ``months`` months at ``rate_monthly`` (> 0)."""
    return (1.0 - (1.0 + rate_monthly) ** -months) / rate_monthly


class WrapperApp(Firm):
    """An app company in one vertical.

    Quality = upstream model quality × ``product_multiplier``. Plans priced in $/subscriber-month by its pricing
    rule; token bills go to the upstream tier at its price to this wrapper. Changing upstream takes
    ``switch_delay_months`` (re-tuning, evals) and costs ``switch_cost_usd`` once.
    """

    kind = "wrapper"
    record = WrapperRound

    def __init__(self, model: mesa.Model, name: str, vertical: str, cfg, pricing_cfg, rate_monthly: float) -> None:
        super().__init__(model, name, cfg.cash_usd, "investor", cfg.policy,
                         step_factor=pricing_cfg.max_step_factor, points=pricing_cfg.grid_points,
                         adjustment=pricing_cfg.adjustment)
        self.cfg = cfg
        self.vertical = vertical
        self.product_multiplier = float(cfg.product_multiplier)
        self.plan_prices = [float(p.price_usd_per_month) for p in cfg.plans]
        self.upstream: tuple[int, int] | None = None  # (seller id, tier)
        self.pending_upstream: tuple[tuple[int, int], int] | None = None  # (key, round it takes effect)
        self.rate_monthly = rate_monthly
        self.sourcing: SourcingObservation | None = None  # the last review, read by API sellers' forecasts
        self.acquired_by: str | None = None

    @property
    def upstream_id(self) -> int:
        """Id of the upstream seller (−1: none)."""
        return -1 if self.upstream is None else self.upstream[0]

    # ------------------------------------------------------------------------------------------ prices

    def products(self) -> list[Product]:
        return [Product("wrapper", plan=p) for p in range(len(self.plan_prices))]

    def price(self, product: Product) -> float:
        if product.kind != "wrapper":
            raise KeyError(product)
        return self.plan_prices[product.plan]

    def set_price(self, product: Product, price: float) -> None:
        if product.kind != "wrapper":
            raise KeyError(product)
        self.plan_prices[product.plan] = float(price)

    # ------------------------------------------------------------------------------------------ product

    def invest(self, gross_profit_usd: float, runway_months: float) -> float:
        """Spend ``invest_share`` of a positive gross profit ($/month) on the product, if runway ≥ 12 months;
        the multiplier closes (I / (I + invest_half)) / 10 of its gap to ``multiplier_max`` (assumption:
        diminishing returns to product work). Returns the $ spent (the market posts the payment)."""
        if gross_profit_usd <= 0 or runway_months < 12.0:
            return 0.0
        spend = self.cfg.invest_share * gross_profit_usd
        gap = max(0.0, self.cfg.multiplier_max - self.product_multiplier)
        self.product_multiplier += gap * spend / (spend + self.cfg.invest_half_usd) / 10.0
        return spend

    # ------------------------------------------------------------------------------------------ sourcing

    def switch_threshold_usd(self) -> float:
        """Monthly gain ($/month) that makes a switch of upstream pay: the one-off switching cost spread over the
        sourcing horizon at the wrapper's cost of capital."""
        return self.cfg.switch_cost_usd / annuity(self.cfg.sourcing_horizon_months, self.rate_monthly)

    def choose_upstream(self, obs: SourcingObservation, now: int, forced: bool = False) -> UpstreamOffer | None:
        """Review where to buy tokens: the option with the highest forecast profit (ties: lowest seller id, then
        tier). With no upstream, or ``forced`` (its upstream is gone), it takes the best at once. Otherwise it
        starts a switch (taking effect after ``switch_delay_months``) only when the monthly gain over its
        current upstream exceeds :meth:`switch_threshold_usd`. Returns the new option when it starts or makes a
        switch, else None."""
        self.sourcing = obs
        if not obs.options:
            return None
        order = sorted(range(len(obs.options)), key=lambda k: (-obs.profit_usd[k], obs.options[k].key))
        best = obs.options[order[0]]
        if forced or obs.current is None:
            self.upstream, self.pending_upstream = best.key, None
            self.sourcing = dataclasses.replace(obs, current=order[0])
            return best
        if self.pending_upstream is not None or best.key == self.upstream:
            return None
        gain = float(obs.profit_usd[order[0]] - obs.profit_usd[obs.current])
        if gain > self.switch_threshold_usd():
            self.pending_upstream = (best.key, now + self.cfg.switch_delay_months)
            return best
        return None

    def complete_switch(self, now: int) -> bool:
        """Apply a pending upstream switch whose delay has passed; True if it did."""
        if self.pending_upstream is not None and self.pending_upstream[1] <= now:
            self.upstream = self.pending_upstream[0]
            self.pending_upstream = None
            return True
        return False
