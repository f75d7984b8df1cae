"""Plain data passed between the market and the agents: what a firm observes, what it decides.

This module sits at the bottom of the dependency graph (docs/design.md, "Rooms"): both ``market`` and ``agents``
import it. Observations may carry a callable the market built (a profit curve on the model's own demand); agents
call it, they never import the market.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Product:
    """One priced product of a firm.

    ``kind``: ``api`` (a model tier's API, or a host's), ``plan`` (a plan of a lab's chat app), ``vertical`` (a
    plan of a lab's vertical app), ``wrapper`` (a wrapper's plan). ``tier`` indexes a lab's model line, ``plan``
    a plan menu, ``vertical`` names a vertical.
    """

    kind: str
    tier: int | None = None
    plan: int | None = None
    vertical: str | None = None

    @property
    def label(self) -> str:
        """Short text for outputs: ``api:0``, ``plan:1``, ``vertical:coding:0``, ``wrapper:1``."""
        parts = [self.kind, self.vertical, self.tier if self.kind == "api" else self.plan]
        return ":".join(str(p) for p in parts if p is not None)


@dataclass(frozen=True)
class PriceObservation:
    """What a seller sees before setting one price.

    Prices and costs share the product's unit: $/Mtok for APIs, $/subscriber-month for plans.

    Attributes:
        product: the product being priced.
        own_price: its current price.
        marginal_cost: cost of one more unit: for an API the GPU cost of one more Mtok at full batching; for a plan
            the token cost of an average subscriber at marginal cost (or a wrapper's token bill per subscriber).
        unit_cost: realised average cost per unit last round (idle capacity included); ``nan`` without sales.
        quality: the seller's quality index on this product.
        rival_prices, rival_qualities: shape (k,), rivals' current prices and qualities in the same market.
        volume: units sold last round (Mtok or subscribers, real units).
        last_profit_usd: the seller's gross profit on this product last round, $/month.
        candidate_prices, candidate_profits_usd: (G,) prices the seller's rule asked about and its firm-level
            profit ($/month: all its products and what wrappers buy from it) at each, every other price held, on
            the model's own demand (market/oracle.py) when everyone last posted; None where not evaluated.
        target_factor: the multiple of the static best response the seller aims at (1; a lab's penetration or
            premium conduct on its API sets another, docs/design.md "Strategic moves").
    """

    product: Product
    own_price: float
    marginal_cost: float
    unit_cost: float = float("nan")
    quality: float = 1.0
    rival_prices: np.ndarray = field(default_factory=lambda: np.empty(0))
    rival_qualities: np.ndarray = field(default_factory=lambda: np.empty(0))
    volume: float = 0.0
    last_profit_usd: float = 0.0
    candidate_prices: np.ndarray | None = None
    candidate_profits_usd: np.ndarray | None = None
    target_factor: float = 1.0

    def cost_basis(self) -> float:
        """Realised unit cost when there was volume, else the marginal cost (same unit as prices)."""
        if self.volume > 0 and np.isfinite(self.unit_cost):
            return float(self.unit_cost)
        return float(self.marginal_cost)


@dataclass(frozen=True)
class PriceDecision:
    """A seller's price choice for one product: the price posted, the static best response (same unit; the price
    moves toward it × the observation's ``target_factor``), and the profits ($/month) the curve gave at the old price
    and at the best response (NaN for rules without a curve)."""

    price: float
    target: float
    profit_at_current_usd: float = float("nan")
    profit_at_target_usd: float = float("nan")


@dataclass(frozen=True)
class UpstreamOffer:
    """An API tier a wrapper may buy tokens from: seller id, tier index, price to this wrapper ($/Mtok, a lab's
    surcharge on rival wrappers included), the model's quality index in the wrapper's vertical, and the tier's
    compute per token relative to its seller's reference model."""

    seller_id: int
    tier: int
    price_usd_per_mtok: float
    quality: float
    size: float = 1.0

    @property
    def key(self) -> tuple[int, int]:
        """(seller id, tier)."""
        return (self.seller_id, self.tier)


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


@dataclass(frozen=True)
class SourcingObservation:
    """What a wrapper sees when it reviews where it buys tokens: each API tier it could use, and the monthly gross
    profit ($/month) and tokens (Mtok/month) the market's demand oracle forecasts for it under each at its current
    plan prices (customers' value of that model's quality in its vertical, the tier's price to it). ``current``
    indexes its present upstream in ``options`` (None when it has none)."""

    options: tuple[UpstreamOffer, ...]
    profit_usd: np.ndarray
    current: int | None
    tokens_mtok: np.ndarray | None = None
