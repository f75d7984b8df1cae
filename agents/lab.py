"""FrontierLab: owns a GPU fleet (bought with a lead time), a frontier model, an API, a consumer app with a free
tier, and optionally vertical apps."""

from __future__ import annotations

from collections import deque

import mesa

from agents.firms import Firm
from agents.policies import make_policy
from agents.strategy import allocate_compute
from agents.types import PriceObservation


class FrontierLab(Firm):
    """A frontier lab.

    State: model ``quality`` (index, 2025 frontier = 1), owned ``gpus`` and its split into ``paid_gpus``,
    ``free_gpus`` and ``training_gpus``, GPU orders in transit, API price ($/Mtok blended), app price ($/month),
    vertical apps (``vertical_prices``: vertical → $/month; ``building``: vertical → launch round), the surcharge
    it puts on wrappers' tokens in verticals it entered, and the subsidy it has spent pricing below cost ($).
    Decisions: :meth:`set_prices`, :meth:`allocate`, :meth:`order_capacity`.
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
        self.offers_free_tier = bool(cfg.free_tier)
        self.paid_gpus = self.free_gpus = self.training_gpus = 0.0
        self.api_policy = make_policy(rng=model.rng, **cfg.api_policy.model_dump())
        self.app_policy = make_policy(rng=model.rng, **cfg.app_policy.model_dump())
        self.vertical_policy = make_policy(rng=model.rng, name="value", step=0.1)
        self.vertical_prices: dict[str, float] = {}
        self.building: dict[str, int] = {}
        self.surcharge: dict[str, float] = {}
        self.vertical_multiplier: dict[str, float] = {}
        self.subsidy_spent_usd = 0.0
        self.published_quality = 0.0

    def set_prices(self, api_obs: PriceObservation, app_obs: PriceObservation | None,
                   vertical_obs: dict[str, PriceObservation] | None = None) -> None:
        """Set the API price ($/Mtok), the paid app price and vertical app prices ($/month) by its policies."""
        self.api_price = self.api_policy.decide(api_obs)
        if app_obs is not None and self.app_price > 0:
            self.app_price = self.app_policy.decide(app_obs)
        for vertical, obs in (vertical_obs or {}).items():
            self.vertical_prices[vertical] = self.vertical_policy.decide(obs)

    def allocate(self, paid_need_gpus: float, free_need_gpus: float) -> None:
        """Split the fleet between paid serving, the free tier and training (see ``allocate_compute``)."""
        free_need = free_need_gpus if self.offers_free_tier else 0.0
        self.paid_gpus, self.free_gpus, self.training_gpus = allocate_compute(
            self.gpus, paid_need_gpus, free_need, self.cfg.min_training_share)

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
