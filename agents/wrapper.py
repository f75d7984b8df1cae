"""WrapperApp: sells subscriptions in one vertical, buys tokens from an upstream API."""

from __future__ import annotations

from collections.abc import Sequence

import mesa

from agents.firms import Firm
from agents.policies import make_policy
from agents.types import PriceObservation, UpstreamOffer


class WrapperApp(Firm):
    """An app company in one vertical.

    Quality = upstream model quality × ``product_multiplier``. Price in $/subscriber-month; token bills go to
    the upstream API at its price. Changing upstream takes ``switch_delay`` months (re-tuning, evals).
    """

    kind = "wrapper"

    def __init__(self, model: mesa.Model, name: str, vertical: str, cfg, upstream_id: int) -> None:
        super().__init__(model, name, cfg.cash_usd, "investor")
        self.cfg = cfg
        self.vertical = vertical
        self.product_multiplier = float(cfg.product_multiplier)
        self.price = float(cfg.price_usd_per_month)
        self.upstream_id = upstream_id
        self.pending_upstream: tuple[int, int] | None = None  # (seller id, round it takes effect)
        self.policy = make_policy(rng=model.rng, **cfg.policy.model_dump())
        self.acquired_by: str | None = None

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

    def set_prices(self, obs: PriceObservation) -> None:
        """Set the subscription price ($/month) by the wrapper's policy."""
        self.price = self.policy.decide(obs)

    @staticmethod
    def best_upstream(offers: Sequence[UpstreamOffer]) -> UpstreamOffer:
        """The offer with the highest quality per dollar of token bill (quality / price, $/Mtok); ties go to
        the lowest seller id."""
        return max(offers, key=lambda o: (o.quality / max(o.price_usd_per_mtok, 1e-12), -o.seller_id))

    def choose_upstream(self, offers: Sequence[UpstreamOffer], now: int, forced: bool = False) -> int | None:
        """Start a switch to a clearly better API (≥ 10 % more quality per dollar; assumption: switching has
        a cost, so small gains are ignored). ``forced`` (upstream gone) switches at once. Returns the new
        seller id when a switch starts, else None."""
        if not offers:
            return None
        best = self.best_upstream(offers)
        if forced:
            self.upstream_id, self.pending_upstream = best.seller_id, None
            return best.seller_id
        if self.pending_upstream is not None or best.seller_id == self.upstream_id:
            return None
        current = next((o for o in offers if o.seller_id == self.upstream_id), None)
        value = lambda o: o.quality / max(o.price_usd_per_mtok, 1e-12)  # noqa: E731
        if current is None or value(best) > 1.10 * value(current):
            self.pending_upstream = (best.seller_id, now + self.cfg.switch_delay_months)
            return best.seller_id
        return None

    def complete_switch(self, now: int) -> bool:
        """Apply a pending upstream switch whose delay has passed; True if it did."""
        if self.pending_upstream is not None and self.pending_upstream[1] <= now:
            self.upstream_id = self.pending_upstream[0]
            self.pending_upstream = None
            return True
        return False
