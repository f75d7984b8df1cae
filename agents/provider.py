"""LowVolumeProvider: hosts the best open-weight model on GPUs rented on demand."""

from __future__ import annotations

import mesa

from agents.firms import Firm
from agents.records import ProviderRound
from agents.types import Product

API = Product("api", tier=0)


class LowVolumeProvider(Firm):
    """An inference host: no model of its own (it serves a published open model: its ``quality`` and
    ``model_size``, × DeepSeek-V3's GPU time per token), GPUs rented each month (``gpus``), one API priced in
    $/Mtok blended by its pricing rule (a best response by default)."""

    kind = "provider"
    record = ProviderRound

    def __init__(self, model: mesa.Model, name: str, cfg, pricing_cfg) -> None:
        super().__init__(model, name, cfg.cash_usd, "investor", cfg.policy,
                         step_factor=pricing_cfg.max_step_factor, points=pricing_cfg.grid_points,
                         adjustment=pricing_cfg.adjustment)
        self.cfg = cfg
        self.skill = float(cfg.skill)
        self.api_price = float(cfg.api_price_usd_per_mtok)
        self.quality = 0.0
        self.model_size = 1.0
        self.gpus = 0.0

    def products(self) -> list[Product]:
        return [API]

    def price(self, product: Product) -> float:
        if product != API:
            raise KeyError(product)
        return self.api_price

    def set_price(self, product: Product, price: float) -> None:
        if product != API:
            raise KeyError(product)
        self.api_price = float(price)

    def tier_price(self, tier: int) -> float:
        """API price of ``tier`` ($/Mtok); a host has one."""
        return self.api_price
