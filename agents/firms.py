"""State and decisions shared by every firm: cash, funding type, its round record, revenue history, prices by
product and the rule that sets them.

Firms never move money themselves: the market's settlement posts every transfer (docs/design.md, "Rooms").
"""

from __future__ import annotations

import math
from collections import deque

import mesa

from agents.policies import PricingPolicy, make_policy
from agents.records import FirmRound
from agents.types import FundingObservation, PriceDecision, PriceObservation, Product


class Firm(mesa.Agent):
    """A seller with cash ($), a funding type, a typed round record (``last``) and a short revenue history
    ($/month).

    ``funding`` is ``investor`` (raises rounds from investors), ``self_funded`` (a parent covers losses up to a
    monthly budget), ``efficient`` (a frugal lab with a small parent) or, for hosts and wrappers, ``investor``.
    ``pricing`` is the config of its pricing rule (``market.config.PolicyConfig``); the rule object of each
    product is made on first use. ``curves`` holds, per product, the profit at candidate prices the market
    evaluated when everyone last posted; ``decisions`` the round's :class:`PriceDecision` per product;
    ``deviation_gain_usd`` / ``deviation_gain_share`` what the market measured after all firms priced.
    """

    kind = "firm"
    record = FirmRound

    def __init__(self, model: mesa.Model, name: str, cash_usd: float, funding: str, pricing, *,
                 step_factor: float = 1.5, points: int = 13, adjustment: float = 0.5) -> None:
        super().__init__(model)
        self.name = name
        self.cash_usd = float(cash_usd)
        self.funding = funding
        self.alive = True
        self.revenue_history: deque[float] = deque(maxlen=7)
        self.last = self.record()
        self._pricing = pricing
        self._pricing_grid = (step_factor, points, adjustment)
        self.policies: dict[Product, PricingPolicy] = {}
        self.decisions: dict[Product, PriceDecision] = {}
        self.curves: dict[Product, tuple] = {}  # product → (candidate prices, profits $/month), set by the market
        self.deviation_gain_usd = math.nan
        self.deviation_gain_share = math.nan

    # ------------------------------------------------------------------------------------------ prices

    def products(self) -> list[Product]:
        """The firm's priced products this round."""
        return []

    def price(self, product: Product) -> float:
        """Current price of ``product`` ($/Mtok or $/month)."""
        raise KeyError(product)

    def set_price(self, product: Product, price: float) -> None:
        """Post ``price`` for ``product``."""
        raise KeyError(product)

    def price_factor(self, product: Product) -> float:
        """Multiple of the static best response the firm prices ``product`` at (1: the best response; a lab's API
        conduct sets another, agents/lab.py)."""
        return 1.0

    def policy_for(self, product: Product) -> PricingPolicy:
        """The pricing rule of ``product`` (one object per product: a learner keeps its own memory)."""
        policy = self.policies.get(product)
        if policy is None:
            step_factor, points, adjustment = self._pricing_grid
            policy = make_policy(rng=self.model.rng, step_factor=step_factor, points=points, adjustment=adjustment,
                                 **self._pricing.model_dump())
            self.policies[product] = policy
        return policy

    def decide_price(self, product: Product, obs: PriceObservation) -> PriceDecision:
        """Choose and post the price of ``product`` from what the firm observes; returns the decision."""
        decision = self.policy_for(product).decide(obs)
        self.decisions[product] = decision
        self.set_price(product, decision.price)
        return decision

    # ------------------------------------------------------------------------------------------ money

    def record_revenue(self, revenue_usd: float) -> None:
        """Append this round's revenue ($/month) to the rolling history used by funding decisions."""
        self.revenue_history.append(float(revenue_usd))

    def funding_observation(self, burn_usd_per_month: float) -> FundingObservation:
        """What the firm shows investors: cash, burn and revenue now vs six months ago ($, $/month)."""
        hist = self.revenue_history
        now = hist[-1] if hist else 0.0
        ago = hist[0] if hist else 0.0
        return FundingObservation(self.cash_usd, burn_usd_per_month, now, ago)

    def runway_months(self) -> float:
        """Months of cash left at last round's operating loss (``inf`` when not losing money)."""
        burn = -self.last.operating_profit_usd
        return self.cash_usd / burn if burn > 0 else float("inf")

    def wants_to_raise(self, obs: FundingObservation, runway_trigger_months: float) -> bool:
        """Raise when runway (months) falls below the trigger; only investor-funded firms go to investors."""
        return self.funding == "investor" and obs.runway_months < runway_trigger_months
