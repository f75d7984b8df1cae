"""FrontierLab: owns a GPU fleet (bought with a lead time), a model line (a frontier model and smaller tiers), an
API per tier, a chat app with a free tier and paid plans, and optionally vertical apps."""

from __future__ import annotations

import math
from collections import deque

import mesa

from agents.compute import ComputeDecision, ComputeObservation, decide_compute, split_compute
from agents.firms import Firm
from agents.moves import ChooseByValue, VerticalEntry
from agents.records import LabRound
from agents.types import Product


class FrontierLab(Firm):
    """A frontier lab.

    State: model ``quality`` (index, 2025 frontier = 1) and its model line (``cfg.tiers``: size and quality
    relative to the frontier model), its fleet ``gpus`` (``owned_gpus`` plus ``rented_gpus`` this month) and its
    split into ``paid_gpus``, ``free_gpus``, ``training_gpus`` and ``rd_gpus`` (inference R&D) by marginal value
    (``split``; ``gpu_value_usd_per_hour`` is the shadow price of a GPU-hour), GPU orders in transit
    (``orders``: (round due, GPUs)), prices (``tier_prices`` $/Mtok per tier, ``plan_prices`` $/month per
    chat plan, ``vertical_plan_prices``: vertical → $/month per plan of its vertical app), vertical apps being
    built (``building``: vertical → launch round), its terms for rival wrappers in verticals it entered
    (``terms``: vertical → normal, surcharge or cut_off; ``surcharge``: vertical → extra share of the token price),
    and the subsidy it has spent pricing below cost ($). ``brand`` is its index among the labs (the awareness bit
    customers need to consider its apps). Its strategic state: ``conduct`` on its API (best_response, penetration,
    premium: it prices its API tiers at ``api_price_factor`` × the static best response), ``free_tier_size`` (off,
    small, large), ``publishing`` (whether it publishes its models as open weights).
    Decisions: :meth:`decide_price` (per product), :meth:`decide_compute` (uses, rental schedule, GPU order; the
    market clears the rent and the lab splits its fleet, :meth:`take_fleet`), and its strategic moves by the rules
    in ``rules`` (agents/moves.py: move → a rule choosing among forecast values).
    """

    kind = "lab"
    record = LabRound

    def __init__(self, model: mesa.Model, cfg, brand: int, vertical_plans, pricing_cfg,
                 min_gain_share: float = 0.002) -> None:
        super().__init__(model, cfg.name, cfg.cash_usd, cfg.funding, cfg.pricing,
                         step_factor=pricing_cfg.max_step_factor, points=pricing_cfg.grid_points,
                         adjustment=pricing_cfg.adjustment)
        self.cfg = cfg
        self.brand = brand
        self.quality = float(cfg.quality)
        self.skill = float(cfg.skill)
        self.gpus = self.owned_gpus = self.rented_gpus = 0.0
        self.orders: deque[tuple[int, float]] = deque()
        self.compute: ComputeDecision | None = None
        self.compute_observation: ComputeObservation | None = None
        self.capacity_curves: dict[Product, tuple] = {}  # product → (gross $/month, load Mtok/month) per candidate
        self.pv_quality_usd = math.nan
        self.quality_forecast = None  # its last review's market.compute_split.QualityForecast
        self.capex_usd = 0.0
        self.split = None
        self.gpu_value_usd_per_hour = math.nan
        self.tier_prices = [float(t.price_usd_per_mtok) for t in cfg.tiers]
        self.plan_prices = [float(p.price_usd_per_month) for p in cfg.plans]
        self.vertical_plans = tuple(vertical_plans)
        self.vertical_plan_prices: dict[str, list[float]] = {}
        self.offers_free_tier = bool(cfg.free_tier)
        self.paid_gpus = self.free_gpus = self.training_gpus = self.rd_gpus = self.idle_gpus = 0.0
        self.building: dict[str, int] = {}
        self.surcharge: dict[str, float] = {}
        self.vertical_multiplier: dict[str, float] = {}
        self.subsidy_spent_usd = 0.0
        self.published_quality = 0.0
        self.conduct, self.api_price_factor = "best_response", 1.0
        self.free_tier_size = "small" if cfg.free_tier else "off"
        self.publishing = False
        self.terms: dict[str, str] = {}
        rule = ChooseByValue(min_gain_share)
        self.rules = {"api_conduct": rule, "vertical": VerticalEntry(rule), "rival_terms": rule, "free_tier": rule,
                      "publish": rule}

    # ------------------------------------------------------------------------------------------ model line

    @property
    def free_tier_index(self) -> int:
        """The tier serving the free tier: the smallest model of the line (the last)."""
        return len(self.cfg.tiers) - 1

    def tier_quality(self, tier: int) -> float:
        """Quality index of model ``tier``."""
        return self.quality * self.cfg.tiers[tier].quality_factor

    def tier_size(self, tier: int) -> float:
        """Compute per token of model ``tier`` relative to the frontier model."""
        return self.cfg.tiers[tier].size_factor

    def tier_price(self, tier: int) -> float:
        """API price of ``tier`` ($/Mtok)."""
        return self.tier_prices[tier]

    def vertical_fit(self, vertical: str) -> float:
        """Quality multiplier of the lab's models in ``vertical`` (1 where the config names none)."""
        return self.cfg.vertical_quality.get(vertical, 1.0)

    # ------------------------------------------------------------------------------------------ prices

    def set_conduct(self, conduct: str, factor: float) -> None:
        """Play API ``conduct``: price every API tier at ``factor`` × its static best response from now on."""
        self.conduct, self.api_price_factor = conduct, float(factor)

    def price_factor(self, product: Product) -> float:
        """``api_price_factor`` for an API tier, 1 for apps (conduct is an API move)."""
        return self.api_price_factor if product.kind == "api" else 1.0

    def products(self) -> list[Product]:
        out = [Product("api", tier=t) for t in range(len(self.tier_prices))]
        out += [Product("plan", plan=p) for p in range(len(self.plan_prices))]
        for vertical, prices in self.vertical_plan_prices.items():
            out += [Product("vertical", plan=p, vertical=vertical) for p in range(len(prices))]
        return out

    def price(self, product: Product) -> float:
        if product.kind == "api":
            return self.tier_prices[product.tier]
        if product.kind == "plan":
            return self.plan_prices[product.plan]
        if product.kind == "vertical":
            return self.vertical_plan_prices[product.vertical][product.plan]
        raise KeyError(product)

    def set_price(self, product: Product, price: float) -> None:
        if product.kind == "api":
            self.tier_prices[product.tier] = float(price)
        elif product.kind == "plan":
            self.plan_prices[product.plan] = float(price)
        elif product.kind == "vertical":
            self.vertical_plan_prices[product.vertical][product.plan] = float(price)
        else:
            raise KeyError(product)

    # ------------------------------------------------------------------------------------------ compute

    def decide_compute(self, obs: ComputeObservation, rents_usd_per_hour) -> ComputeDecision:
        """Build its uses, its rental demand schedule at ``rents_usd_per_hour`` and its GPU order from ``obs``
        (``agents.compute.decide_compute``); kept until the rent clears."""
        self.compute = decide_compute(obs, rents_usd_per_hour)
        return self.compute

    def take_fleet(self, rented_gpus: float) -> None:
        """With ``rented_gpus`` rented this month, split the fleet (owned + rented) among its uses so that their
        marginal values are equal (``agents.compute.split_compute``); its shadow price becomes the value of a
        GPU-hour to the lab; GPUs no use wants idle (``idle_gpus``)."""
        self.rented_gpus = float(rented_gpus)
        self.gpus = self.owned_gpus + self.rented_gpus
        split = self.split = split_compute(self.gpus, self.compute.uses)
        self.paid_gpus, self.free_gpus = split.of("paid"), split.of("free")
        self.training_gpus, self.rd_gpus = split.of("training"), split.of("inference_rd")
        self.idle_gpus = split.idle_gpus
        self.gpu_value_usd_per_hour = split.shadow_price_usd_per_gpu_hour

    def hold_fleet(self, rented_gpus: float) -> None:
        """Between planning reviews: the lab keeps its plan — each use's share of the fleet and the shadow price
        of its last split — on the fleet it has now (``rented_gpus`` rented, its owned GPUs after retirement and
        deliveries). GPUs, not a re-split: the marginal values are those of the plan (assumption: a compute plan
        is set at a review and held until the next, as GPU orders and reservations are;
        ``labs[].plan_review_months``)."""
        fleet = self.owned_gpus + float(rented_gpus)
        if self.gpus > 0:
            scale = fleet / self.gpus
            self.paid_gpus *= scale
            self.free_gpus *= scale
            self.training_gpus *= scale
            self.rd_gpus *= scale
            self.idle_gpus *= scale
        else:  # no fleet at the review: GPUs arriving before the next one have no use in the plan
            self.idle_gpus = fleet
        self.rented_gpus, self.gpus = float(rented_gpus), fleet

    def receive(self, now: int) -> float:
        """Add the GPUs ordered for delivery by round ``now`` to the owned fleet; returns GPUs received."""
        got = 0.0
        while self.orders and self.orders[0][0] <= now:
            got += self.orders.popleft()[1]
        self.owned_gpus += got
        return got

    def in_transit(self) -> float:
        """GPUs ordered and not yet delivered."""
        return sum(n for _, n in self.orders)
