"""LowVolumeProvider: hosts the best open-weight model on GPUs rented on demand and prices near cost."""

from __future__ import annotations

import mesa

from agents.firms import Firm
from agents.policies import make_policy
from agents.types import PriceObservation


class LowVolumeProvider(Firm):
    """An inference host: no model of its own (quality = open-weight frontier), elastic rented GPUs,
    API price in $/Mtok blended set by its policy (competitive by default)."""

    kind = "provider"

    def __init__(self, model: mesa.Model, name: str, cfg) -> None:
        super().__init__(model, name, cfg.cash_usd, "investor")
        self.cfg = cfg
        self.skill = float(cfg.skill)
        self.api_price = float(cfg.api_price_usd_per_mtok)
        self.quality = 0.0
        self.gpus = 0.0
        self.policy = make_policy(rng=model.rng, **cfg.policy.model_dump())

    def set_prices(self, api_obs: PriceObservation) -> None:
        """Set the API price ($/Mtok) by the provider's policy."""
        self.api_price = self.policy.decide(api_obs)
