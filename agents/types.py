"""Plain data passed between the market and the agents: what a firm observes, nothing it can mutate.

This module sits at the bottom of the dependency graph (DESIGN.md §2): both ``market`` and ``agents`` import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PriceObservation:
    """What a seller sees before setting one price.

    Prices and costs share one unit: $ per Mtok for APIs, $ per subscriber-month for apps.

    Attributes:
        own_price: the seller's current price.
        unit_cost: realised unit cost last round (idle capacity included); ``nan`` when nothing was sold.
        standard_cost: unit cost at the seller's normal (target) utilisation — the cost-plus base.
        marginal_cost: cost of serving one more unit at full batching (no idle share).
        quality: the seller's own quality index (2025 frontier = 1).
        rival_prices: shape (k,), current prices of the rivals in the same market.
        rival_qualities: shape (k,), their quality indices.
        volume: units sold last round (Mtok or subscribers, real units).
        share: the seller's share of the customers in its market last round, in [0, 1).
        price_scale: logit scale μ of its customers in the price's unit ($/month for apps); ``nan`` if unknown.
        subsidy_spent_usd: cumulative (unit cost − price) × volume the seller has spent pricing below cost, $.
        runway_months: months of cash left at the current burn (``inf`` when not burning).
        last_profit_usd: the seller's gross profit on this product last round, $/month.
    """

    own_price: float
    unit_cost: float
    standard_cost: float
    marginal_cost: float
    quality: float
    rival_prices: np.ndarray = field(default_factory=lambda: np.empty(0))
    rival_qualities: np.ndarray = field(default_factory=lambda: np.empty(0))
    volume: float = 0.0
    share: float = 0.0
    price_scale: float = float("nan")
    subsidy_spent_usd: float = 0.0
    runway_months: float = float("inf")
    last_profit_usd: float = 0.0

    def cost_basis(self) -> float:
        """Realised unit cost when there was volume, else the standard cost (same unit as prices)."""
        if self.volume > 0 and np.isfinite(self.unit_cost):
            return float(self.unit_cost)
        return float(self.standard_cost)


@dataclass(frozen=True)
class UpstreamOffer:
    """An API a wrapper may buy tokens from: seller id, price ($/Mtok blended) and model quality index."""

    seller_id: int
    price_usd_per_mtok: float
    quality: float


@dataclass(frozen=True)
class FundingObservation:
    """What a firm (and its funders) see when deciding to raise: cash ($), monthly burn ($/month, >0 means
    losing money), and revenue six months ago and now ($/month)."""

    cash_usd: float
    burn_usd_per_month: float
    revenue_now_usd: float
    revenue_6m_ago_usd: float

    @property
    def runway_months(self) -> float:
        """Months until cash runs out at the current burn; ``inf`` when the firm is not burning."""
        return self.cash_usd / self.burn_usd_per_month if self.burn_usd_per_month > 0 else float("inf")
