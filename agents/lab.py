"""FrontierLab: owns a GPU fleet (bought with a lead time), a frontier model, an API and a consumer app."""

from __future__ import annotations

from collections import deque

import mesa

from agents.firms import Firm
from agents.policies import make_policy
from agents.types import PriceObservation


class FrontierLab(Firm):
    """A frontier lab.

    State: model ``quality`` (index, 2025 frontier = 1), owned ``gpus``, GPU orders in transit, API price
    ($/Mtok blended), app price ($/month), compute split (training share of the fleet, free-tier share of the
    serving fleet), serving ``skill`` (throughput multiplier).
    Decisions: :meth:`set_prices`, :meth:`order_capacity`.
    """

    kind = "lab"

    def __init__(self, model: mesa.Model, cfg, gpus: float) -> None:
        super().__init__(model, cfg.name, cfg.cash_usd, cfg.funding)
        self.cfg = cfg
        self.quality = float(cfg.quality)
        self.skill = float(cfg.skill)
        self.gpus = float(gpus)
        self.orders: deque[tuple[int, float]] = deque()
        self.api_price = float(cfg.api_price_usd_per_mtok)
        self.app_price = float(cfg.app_price_usd_per_month)
        self.training_share = float(cfg.training_share)
        self.free_share = float(cfg.free_share) if cfg.free_tier else 0.0
        self.api_policy = make_policy(**cfg.api_policy.model_dump())
        self.app_policy = make_policy(**cfg.app_policy.model_dump())

    @property
    def serving_gpus(self) -> float:
        """GPUs not reserved for training."""
        return self.gpus * (1.0 - self.training_share)

    @property
    def paid_gpus(self) -> float:
        """GPUs serving paid traffic (API, own apps, wrappers' tokens)."""
        return self.serving_gpus * (1.0 - self.free_share)

    @property
    def free_gpus(self) -> float:
        """GPUs serving the free tier."""
        return self.serving_gpus * self.free_share

    def set_prices(self, api_obs: PriceObservation, app_obs: PriceObservation | None) -> None:
        """Set the API price ($/Mtok) and, if the lab sells a paid app, its price ($/month) by its policies."""
        self.api_price = self.api_policy.decide(api_obs)
        if app_obs is not None and self.app_price > 0:
            self.app_price = self.app_policy.decide(app_obs)

    def order_capacity(self, gpus_needed: float, now: int) -> float:
        """Order GPUs so that fleet + orders in transit reach ``gpus_needed``; returns GPUs ordered.

        Orders arrive after ``capacity_lead_months``; owned GPUs are never sold (idle capacity still costs).
        """
        in_transit = sum(n for _, n in self.orders)
        order = max(0.0, gpus_needed - self.gpus - in_transit)
        if order > 0:
            self.orders.append((now + self.cfg.capacity_lead_months, order))
        return order

    def receive_capacity(self, now: int) -> float:
        """Add orders due by round ``now`` to the fleet; returns GPUs received."""
        got = 0.0
        while self.orders and self.orders[0][0] <= now:
            got += self.orders.popleft()[1]
        self.gpus += got
        return got
