"""TokenMarket: the Mesa model. One ``step()`` is one round (a month) and reads as DESIGN.md §3's phase list."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from agents.lab import FrontierLab
from agents.provider import LowVolumeProvider
from agents.wrapper import WrapperApp
from market import costs, demand
from agents.strategy import affordable_gpus
from market.clearing import Clearing, clear_market
from market.entry import enter
from market.config import MarketConfig, config_from
from market.finance import fund_and_exit, investor_credit
from market.ledger import Ledger
from market.offers import OfferBook
from market.population import make_population
from market.quality import open_weight_quality, quality_gain
from market.recording import Recorder
from market.settlement import settle
from market.verticals import launch_due_apps, vertical_move

# Model-level figures exposed through Mesa's DataCollector (batch_run, SolaraViz plots); the full set is in
# the recorder's model.csv rows.
REPORTED = ("api_price_usd_per_mtok", "api_unit_cost_usd_per_mtok", "lerner_api", "lerner_app",
            "app_share_of_gross_profit", "hhi_api", "consumer_surplus_usd", "tokens_paid_mtok",
            "tokens_unserved_mtok", "n_labs", "n_providers", "n_wrappers")


class TokenMarket(mesa.Model):
    """The market for LLM inference: labs, providers, wrapper apps and customer segments, month by month.

    Args:
        config: a validated :class:`MarketConfig`; when None it is built from ``scenario`` and ``overrides``.
        scenario: a shipped scenario name or TOML path (any other object, such as the one SolaraViz passes on
            reset, is ignored).
        rng: seed (int) for ``model.rng``; pass one explicitly, ``None`` is not reproducible.
        **overrides: flat dotted (or ``__``-separated) config overrides, e.g. ``world__gpu_rent_usd_per_hour=3``,
            so that ``mesa.batch_run`` and SolaraViz can set parameters by keyword.

    Raises:
        market.config.ConfigError: bad scenario or overrides (before anything is built).
    """

    def __init__(self, config: MarketConfig | None = None, *, scenario: Any = None, rng: Any = None,
                 **overrides: Any) -> None:
        if config is None:
            name = scenario if isinstance(scenario, (str, Path)) else None
            config = config_from(name, overrides)
        elif overrides:
            config = _with(config, overrides)
        super().__init__(rng=rng)
        self.config = config
        self.seed = rng if isinstance(rng, (int, np.integer)) else None
        self.round = 0
        self.ledger = Ledger()
        self.recorder = Recorder()
        w = config.world
        self.lab_tech = costs.lab_tech(scale_economies=w.scale_economies)
        self.provider_tech = costs.provider_tech(skill=config.providers.skill, scale_economies=w.scale_economies)
        self.gpu_owned_usd_per_hour = w.gpu_owned_usd_per_hour
        self.gpu_rent_usd_per_hour = w.gpu_rent_usd_per_hour
        self.efficiency = 1.0
        self._tech_cache: dict[tuple[int, float], costs.ServingTech] = {}
        self.usage_factor = 1.0
        self.frontier_history: list[float] = []
        self.open_weight_quality = 0.0

        self._build_customers()
        self.labs: list[FrontierLab] = [FrontierLab(self, lab, gpus=0.0) for lab in config.labs]
        self.providers: list[LowVolumeProvider] = [
            LowVolumeProvider(self, f"provider_{i + 1}", config.providers) for i in range(config.providers.n)]
        self.firms_by_id: dict[int, Any] = {}
        for firm in (*self.labs, *self.providers):
            self.register_firm(firm, "parents" if firm.funding == "self_funded" else "investors")
        self._update_open_weights()
        self.wrappers: list[WrapperApp] = []
        for vertical, count in config.wrappers.per_vertical.items():
            for i in range(count):
                wrapper = WrapperApp(self, f"{vertical}_wrapper_{i + 1}", vertical, config.wrappers, upstream_id=-1)
                self.register_firm(wrapper)
                wrapper.choose_upstream(self.upstream_offers(vertical), 0, forced=True)
                self.wrappers.append(wrapper)
        self.book = OfferBook(self)
        self._initial_market()
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.recorder.model_rows[-1][k] if m.recorder.model_rows else np.nan)
                             for k in REPORTED})
        self.running = True

    # ------------------------------------------------------------------------------------------ set-up

    def _build_customers(self) -> None:
        cfg = self.config.customers
        self.population = make_population(self, cfg)
        self.weight = cfg.population_weight

    @property
    def choice(self) -> np.ndarray:
        """(n,) current offer id of every simulated customer (−1: outside option), in segment order."""
        return self.population.choice

    def _initial_market(self) -> None:
        """Everyone chooses once at the initial prices; fleets are then sized to that demand."""
        self.last_api_tokens_mtok = 0.0
        self.offer_customers = self.offer_tokens = np.zeros(0)
        for lab in self.labs:  # provisional split so that the first offers have capacity owners
            lab.paid_gpus = lab.free_gpus = 1.0
        offers = self.current_offers = self.book.build()
        self.population.choose_all(offers, self.usage_factor, self.rng)
        clearing = clear_market(self, offers, capacity_limited=False)
        self._tally(clearing)
        for lab in self.labs:
            paid, free = self.gpu_needs(lab, clearing)
            lab.gpus = self.fleet_wanted(lab, paid + free)
            lab.allocate(paid, free)
        self.last_clearing = clearing

    # ------------------------------------------------------------------------------------------ the round

    def step(self) -> None:
        """One month, in the order of DESIGN.md §3."""
        self.round += 1
        self._world_moves()                          # 1. prices, efficiency, usage, arrivals, launches
        offers = self._firms_decide()                # 2. prices, compute, capacity, upstreams, vertical moves
        self.population.reconsider(offers, self.usage_factor, self.rng)  # 3. logit choice of those reconsidering
        clearing = clear_market(self, offers)        # 4. capacity, rationing, spill-over
        self._tally(clearing)
        settle(self, offers, clearing)               # 5. revenues, GPU cost, token bills, opex
        self._learn()                                # 6. quality from training and data; product investment
        fund_and_exit(self)                          # 7. funding rounds, parent transfers, exits
        enter(self)                                  #    entry where expected margins are positive
        self.recorder.record(self, offers, clearing)  # 8. rows of model.csv / agents.csv / events.csv
        self.datacollector.collect(self)
        self.last_clearing = clearing
        if self.round >= self.config.world.rounds:
            self.running = False

    def _world_moves(self) -> None:
        w, years = self.config.world, self.round / 12.0
        self.efficiency = (1.0 + w.efficiency_gain_per_year) ** years
        self.usage_factor = (1.0 + w.usage_growth_per_year) ** years
        drift = (1.0 + w.gpu_price_change_per_year) ** years
        self.gpu_owned_usd_per_hour = w.gpu_owned_usd_per_hour * drift
        self.gpu_rent_usd_per_hour = w.gpu_rent_usd_per_hour * drift
        for lab in self.alive(self.labs):
            lab.gpus *= 1.0 - 1.0 / 48.0  # assumption: four-year GPU life, retired evenly
            lab.receive_capacity(self.round)
            launch_due_apps(self, lab)
        self._update_open_weights()
        for wrapper in self.alive(self.wrappers):
            if wrapper.complete_switch(self.round):
                self.recorder.event(self, "upstream_switch", wrapper, self.agent_by_id(wrapper.upstream_id),
                                    vertical=wrapper.vertical)

    def _update_open_weights(self) -> None:
        w = self.config.world
        alive = self.alive(self.labs)
        self.frontier_history.append(max((lab.quality for lab in alive), default=0.0))
        published = max((lab.published_quality for lab in alive), default=0.0)
        self.open_weight_quality = open_weight_quality(self.frontier_history, w.open_weight_lag_months,
                                                       w.open_weight_quality_gap, published)
        for p in self.alive(self.providers):
            p.quality = self.open_weight_quality

    def _firms_decide(self) -> demand.Offers:
        firms = self.alive([*self.labs, *self.providers, *self.wrappers])
        growth = (1.0 + self.config.world.usage_growth_per_year)
        for i in self.rng.permutation(len(firms)):
            firm = firms[i]
            if not firm.alive:  # acquired earlier this round
                continue
            if isinstance(firm, FrontierLab):
                firm.set_prices(self.book.api_observation(firm), self.book.app_observation(firm),
                                self.book.vertical_observations(firm))
                paid, free = self.gpu_needs(firm, self.last_clearing)
                firm.allocate(paid, free)
                ahead = growth ** (firm.cfg.capacity_lead_months / 12)
                wanted = self.fleet_wanted(firm, (paid + free) * ahead)
                firm.order_capacity(min(wanted, self.affordable_fleet(firm)), self.round)
                vertical_move(self, firm)
            elif isinstance(firm, LowVolumeProvider):
                firm.set_prices(self.book.api_observation(firm))
            else:
                firm.set_prices(self.book.wrapper_observation(firm))
                new = firm.choose_upstream(self.upstream_offers(firm.vertical), self.round)
                if new is not None:
                    self.recorder.event(self, "upstream_switch_started", firm, self.agent_by_id(new),
                                        vertical=firm.vertical)
        self.current_offers = self.book.build()
        return self.current_offers

    def _learn(self) -> None:
        w = self.config.world
        for lab in self.alive(self.labs):
            compute = lab.training_gpus * self.efficiency * lab.cfg.training_efficiency
            lab.quality += quality_gain(compute, lab.last.get("free_tokens_mtok", 0.0), w.training_gain,
                                        w.training_ref_gpus, w.data_gain, w.data_ref_mtok, w.data_flywheel)
            if lab.cfg.publishes_weights and lab.quality >= lab.published_quality + 0.05:
                lab.published_quality = lab.quality
                self.recorder.event(self, "open_weight_release", lab, None, lab.quality, "quality")
        for wrapper in self.alive(self.wrappers):
            spend = wrapper.invest(wrapper.last.get("gross_profit_usd", 0.0), wrapper.runway_months())
            self.ledger.post(wrapper, "staff", spend, "product_investment")
            wrapper.last["operating_profit_usd"] = wrapper.last.get("operating_profit_usd", 0.0) - spend

    def _tally(self, clearing: Clearing) -> None:
        """Customers per (segment, offer) and per (segment, vertical) among those inside: sellers' market view."""
        self.segment_offer_counts = clearing.customers.sum(axis=1)
        self.segment_vertical_inside = clearing.customers.sum(axis=2)
        self.segment_price_scale = self.population.price_scales

    # ------------------------------------------------------------------------------------------ helpers

    def alive(self, firms: list) -> list:
        """The firms of ``firms`` that have not exited."""
        return [f for f in firms if f.alive]

    def register_firm(self, firm, source: str = "investors") -> None:
        """Open the firm's ledger account (its initial cash comes from ``source``) and index it by id."""
        self.ledger.open(firm, firm.cash_usd, source)
        self.firms_by_id[firm.unique_id] = firm

    def agent_by_id(self, unique_id: int):
        """The firm with ``unique_id`` (alive, exited or acquired), or None."""
        return self.firms_by_id.get(unique_id)

    def tech_of(self, firm) -> costs.ServingTech:
        """Serving technology of a lab or provider this round (skill × efficiency gains)."""
        key = (firm.unique_id, self.efficiency)
        tech = self._tech_cache.get(key)
        if tech is None:
            if isinstance(firm, FrontierLab):
                skill = self.lab_tech.skill * firm.skill * self.efficiency / firm.cfg.compute_per_token
                tech = dataclasses.replace(self.lab_tech, skill=skill)
            else:
                tech = dataclasses.replace(self.provider_tech, skill=self.provider_tech.skill * self.efficiency)
            if len(self._tech_cache) > 4096:  # efficiency moves every round: old entries are never asked again
                self._tech_cache.clear()
            self._tech_cache[key] = tech
        return tech

    def upstream_offers(self, vertical: str | None = None):
        """APIs a wrapper can buy from: alive labs and providers with their price to a wrapper in ``vertical``
        ($/Mtok, including a lab's surcharge in verticals it entered) and model quality."""
        from agents.types import UpstreamOffer

        return [UpstreamOffer(f.unique_id, f.api_price * (1.0 + getattr(f, "surcharge", {}).get(vertical, 0.0)), f.quality)
                for f in self.alive([*self.labs, *self.providers])]

    def gpu_needs(self, lab: FrontierLab, clearing: Clearing) -> tuple[float, float]:
        """GPUs (paid, free tier) that serve last round's demand (served + unserved) at target utilisation."""
        tech = self.tech_of(lab)
        util = lab.cfg.target_utilisation
        paid = costs.gpus_required(clearing.pool_demand[self.book.paid_pool[lab.unique_id]], tech) / util
        free = costs.gpus_required(clearing.pool_demand[self.book.free_pool[lab.unique_id]], tech) / util
        return float(paid), float(free)

    def fleet_wanted(self, lab: FrontierLab, serving_gpus: float) -> float:
        """Fleet (GPUs) a lab plans for: serving plus training, the latter its target share of the fleet but at
        least its planned training cluster (``training_gpus``)."""
        share = lab.cfg.training_share
        training = max(lab.cfg.training_gpus, serving_gpus * share / max(1e-9, 1.0 - share))
        return serving_gpus + training

    def affordable_fleet(self, lab: FrontierLab) -> float:
        """Largest fleet (GPUs) the lab can commit to: revenue + parent budget + (cash + what investors would lend
        now) over 24 months, after opex."""
        parent = lab.cfg.parent_budget_usd_per_month if lab.funding in ("self_funded", "efficient") else 0.0
        return affordable_gpus(lab.last.get("revenue_usd", 0.0), lab.cash_usd, parent,
                               self.gpu_owned_usd_per_hour * costs.HOURS_PER_MONTH, lab.cfg.opex_usd_per_month,
                               credit_usd=investor_credit(self, lab))


def _with(config: MarketConfig, overrides: dict[str, Any]) -> MarketConfig:
    from market.config import build_config

    return build_config(config.model_dump(), overrides)
