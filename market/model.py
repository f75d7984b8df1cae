"""TokenMarket: the Mesa model. One ``step()`` is one round (a month) and reads as the phase list of docs/design.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from agents.lab import FrontierLab
from agents.provider import LowVolumeProvider
from agents.strategy import affordable_gpus
from agents.types import SourcingObservation
from agents.wrapper import WrapperApp
from market import costs, demand, objective
from market.clearing import Clearing, clear_market
from market.config import VERTICALS, MarketConfig, config_from
from market.entry import enter
from market.finance import fund_and_exit, investor_credit
from market.ledger import Ledger
from market.offers import OfferBook
from market.threads import one_blas_thread
from market.oracle import DemandOracle, DemandSample, SampleState, SegmentTerms
from market.population import VectorPopulation
from market.pricing import evaluate_prices, price_observation
from market.quality import open_weight_quality, quality_gain
from market.recording import Recorder
from market.reference import AgentPopulation
from market.segments import news_between, nest_lambdas
from market.settlement import settle
from market.moves.review import MovesState, review, review_due
from market.verticals import launch_due_apps

# Model-level figures exposed through Mesa's DataCollector (batch_run, SolaraViz plots); the full set is in
# the recorder's model.csv rows.
REPORTED = ("api_price_usd_per_mtok", "api_unit_cost_usd_per_mtok", "lerner_api", "lerner_app",
            "app_share_of_gross_profit", "hhi_api", "consumer_surplus_usd", "tokens_paid_mtok",
            "tokens_unserved_mtok", "n_labs", "n_providers", "n_wrappers")


def make_population(model, cfg, brand_awareness: list[float]):
    """The customer population for ``cfg.mode``: ``vectorised`` (market/population.py) or ``agents`` (the
    one-agent-per-customer reference, market/reference.py)."""
    if cfg.mode == "agents":
        return AgentPopulation(model, cfg, brand_awareness)
    return VectorPopulation(model, cfg, brand_awareness)


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
        self.published_quality = 0.0  # best model ever published as open weights (it stays out there after an exit)
        self.open_weight_quality = 0.0
        self.lam = nest_lambdas(config.customers)
        self.threshold_cache: dict[int, tuple] = {}  # wrappers' sourcing thresholds, per review (market/pricing.py)
        self.population = make_population(self, config.customers, [lab.brand_awareness for lab in config.labs])
        self.weight = config.customers.population_weight
        pc = config.pricing
        self.moves = MovesState(self)
        self.labs: list[FrontierLab] = [FrontierLab(self, lab, i, config.wrappers.plans, pc,
                                                    min_gain_share=config.moves.min_gain_share)
                                        for i, lab in enumerate(config.labs)]
        self.providers: list[LowVolumeProvider] = [
            LowVolumeProvider(self, f"provider_{i + 1}", config.providers, pc) for i in range(config.providers.n)]
        self.firms_by_id: dict[int, Any] = {}
        for firm in (*self.labs, *self.providers):
            self.register_firm(firm, "parents" if firm.funding == "self_funded" else "investors")
        self._update_open_weights()
        self.wrappers: list[WrapperApp] = []
        wrapper_rate = objective.monthly_rate(config.finance.cost_of_capital_investor)
        for vertical, count in config.wrappers.per_vertical.items():
            for i in range(count):
                wrapper = WrapperApp(self, f"{vertical}_wrapper_{i + 1}", vertical, config.wrappers, pc, wrapper_rate)
                self.register_firm(wrapper)
                self.wrappers.append(wrapper)
        self.book = OfferBook(self)
        self.sample = DemandSample.draw(self._cells(), pc.sample_per_cell, self.rng, *self._spend_traits())
        self.segment_terms = [SegmentTerms(s.price_scale_usd, s.quality_exponent, s.api_capable,
                                           s.wtp_median_usd_per_month) for s in config.customers.segments]
        self._initial_market()
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.recorder.model_rows[-1][k] if m.recorder.model_rows else np.nan)
                             for k in REPORTED})
        self.running = True

    # ------------------------------------------------------------------------------------------ set-up

    def _cells(self) -> list[list[np.ndarray]]:
        """Population indices per (segment, vertical), for the demand oracle's stratified sample."""
        pop = self.population
        if isinstance(pop, VectorPopulation):
            return [[seg.start + rows for rows in seg.by_vertical] for seg in pop.segments]
        out, start = [], 0
        for members in pop.by_segment:
            vert = np.array([c.vertical for c in members], dtype=np.int64)
            out.append([start + rows for rows in demand.by_vertical(vert, len(VERTICALS))])
            start += len(members)
        return out

    def _spend_traits(self) -> tuple[np.ndarray, np.ndarray]:
        """(willingness to pay $/month, token need at the start Mtok/month), (n,) each in population order."""
        pop = self.population
        if isinstance(pop, VectorPopulation):
            return pop.wtp_usd, pop.usage_mtok
        return (np.array([c.wtp_usd for c in pop.customers]), np.array([c.usage_mtok for c in pop.customers]))

    @property
    def choice(self) -> np.ndarray:
        """(n,) current offer id of every simulated customer (−1: outside option), in segment order."""
        return self.population.choice

    @one_blas_thread
    def _initial_market(self) -> None:
        """Wrappers pick an upstream, everyone aware of AI chooses once at the initial prices, and fleets are
        sized to that demand."""
        self.last_api_tokens_mtok = 0.0
        self.offer_customers = self.offer_tokens = np.zeros(0)
        self.tally_users = np.zeros((self.population.n_segments, len(self.labs)))
        for lab in self.labs:  # provisional split so that the first offers have capacity owners
            lab.paid_gpus = lab.free_gpus = 1.0
        offers = self.current_offers = self.book.build()
        self.oracle = self.oracle_now(offers)
        for wrapper in self.wrappers:
            self.review_sourcing(wrapper, forced=True)
        offers = self.current_offers
        self.population.choose_all(offers, self.usage_factor, self.rng)
        clearing = clear_market(self, offers, capacity_limited=False)
        self._tally(clearing)
        for lab in self.labs:
            paid, free = self.gpu_needs(lab, clearing)
            lab.gpus = self.fleet_wanted(lab, paid + free)
            lab.allocate(paid, free)
        self.last_clearing = clearing
        evaluate_prices(self, record=False)

    # ------------------------------------------------------------------------------------------ the round

    @one_blas_thread
    def step(self) -> None:
        """One month, in the order of docs/design.md ("One round")."""
        self.round += 1
        previous = self.current_offers
        self._world_moves()                          # 1. prices of inputs, efficiency, usage, arrivals, awareness
        offers = self._firms_decide()                # 3. moves, prices, compute, capacity, sourcing
        news = news_between(previous, offers, self.config.customers.news_price_change)
        self.population.reconsider(offers, self.usage_factor, self.rng, news)  # 4. nested logit choice
        clearing = clear_market(self, offers)        # 5. capacity, rationing, spill-over
        self._tally(clearing)
        settle(self, offers, clearing)               # 6. revenues, GPU cost, token bills, opex
        self._learn()                                # 7. quality from training and data; product investment
        fund_and_exit(self)                          # 8. funding rounds, parent transfers, exits
        enter(self)                                  #    entry where expected margins are positive
        self.moves.after_settlement(self)            #    firms' figures for forecasts; forecast errors due
        self.recorder.record(self, offers, clearing)  # 9. rows of model.csv / agents.csv / events.csv
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
                self.ledger.post(wrapper, "staff", wrapper.cfg.switch_cost_usd, "upstream_switch")
                self.recorder.event(self, "upstream_switch", wrapper, self.agent_by_id(wrapper.upstream_id),
                                    wrapper.cfg.switch_cost_usd, vertical=wrapper.vertical)
        users = self.segment_offer_counts.sum(axis=1)
        self.population.spread_awareness(users, self.tally_users, self.config.customers, self.rng)

    def _update_open_weights(self) -> None:
        w = self.config.world
        alive = self.alive(self.labs)
        previous = self.frontier_history[-1] if self.frontier_history else 0.0
        self.frontier_history.append(max((lab.quality for lab in alive), default=previous))
        self.open_weight_quality = open_weight_quality(self.frontier_history, w.open_weight_lag_months,
                                                       w.open_weight_quality_gap, self.published_quality)
        for p in self.alive(self.providers):
            p.quality = self.open_weight_quality

    def oracle_now(self, offers: demand.Offers) -> DemandOracle:
        """The demand oracle on ``offers`` with the sampled customers' current holdings (market/oracle.py)."""
        pos = self.sample.positions
        pop = self.population
        if isinstance(pop, VectorPopulation):
            tenure = np.array([s.tenure_months for s in pop.segments])[self.sample.segment]
            state = SampleState(pop.wtp_usd[pos], pop.usage_mtok[pos] * self.usage_factor,
                                pop.switching_cost_usd[pos] / tenure, pop.aware[pos], pop.choice[pos])
        else:
            people = [pop.customers[i] for i in pos]
            state = SampleState(np.array([c.wtp_usd for c in people]),
                                np.array([c.usage_mtok for c in people]) * self.usage_factor,
                                np.array([c.switching_cost_usd / c.tenure_months for c in people]),
                                np.array([c.aware for c in people], dtype=np.int64),
                                np.array([c.choice for c in people], dtype=np.int32))
        return DemandOracle(self.sample, state, offers, self.segment_terms, self.lam, self.weight)

    def _firms_decide(self) -> demand.Offers:
        """Firms in random order: labs' strategic reviews when due, wrappers' sourcing reviews, prices (from their profit at
        candidate prices when everyone last posted), compute split and GPU orders. Then the demand oracle is
        rebuilt on the new prices and every product's curve evaluated (next month's pricing, this month's
        deviation gains)."""
        firms = self.alive([*self.labs, *self.providers, *self.wrappers])
        growth = (1.0 + self.config.world.usage_growth_per_year)
        self.current_offers = self.book.build()
        for i in self.rng.permutation(len(firms)):
            firm = firms[i]
            if not firm.alive:  # acquired earlier this round
                continue
            if isinstance(firm, FrontierLab) and review_due(self, firm):
                review(self, firm)                  # strategic moves by forecast value (market/moves/)
            if isinstance(firm, WrapperApp):
                self._maybe_review(firm)
            for product in firm.products():
                firm.decide_price(product, price_observation(self, firm, product))
            if isinstance(firm, FrontierLab):
                paid, free = self.gpu_needs(firm, self.last_clearing)
                firm.allocate(paid, free)
                ahead = growth ** (firm.cfg.capacity_lead_months / 12)
                wanted = self.fleet_wanted(firm, (paid + free) * ahead)
                firm.order_capacity(min(wanted, self.affordable_fleet(firm)), self.round)
        self.current_offers = self.book.build()
        evaluate_prices(self)
        return self.current_offers

    def _maybe_review(self, wrapper: WrapperApp) -> None:
        every = self.config.wrappers.review_months
        if wrapper.upstream is None or (self.round + wrapper.unique_id) % every == 0:
            self.review_sourcing(wrapper, forced=wrapper.upstream is None)

    def review_sourcing(self, wrapper: WrapperApp, forced: bool = False) -> None:
        """The wrapper reviews its upstream on the demand oracle's forecast of its profit under each option."""
        options = tuple(self.book.upstream_offers(wrapper.vertical))
        rows = np.array(self.book.ids(wrapper), dtype=np.int64)
        if rows.size and rows.max() >= self.oracle.offers.n:  # an entrant registered after the oracle was built
            self.oracle = self.oracle_now(self.book.build())
        quality = np.array([o.quality for o in options]) * wrapper.product_multiplier
        prices = np.array([o.price_usd_per_mtok for o in options])
        profits, tokens = self.oracle.option_profits(rows, quality, prices, vertical=VERTICALS.index(wrapper.vertical))
        current = next((k for k, o in enumerate(options) if o.key == wrapper.upstream), None)
        chosen = wrapper.choose_upstream(SourcingObservation(options, profits, current, tokens), self.round, forced)
        if chosen is not None:
            kind = "upstream_switch" if forced else "upstream_switch_started"
            self.recorder.event(self, kind, wrapper, self.agent_by_id(chosen.seller_id),
                                float(profits.max()), vertical=wrapper.vertical)
            if forced:
                offers = self.current_offers = self.book.build()
                if offers.n == self.oracle.offers.n:
                    self.oracle.update(offers, rows)
                else:
                    self.oracle = self.oracle_now(offers)

    def _learn(self) -> None:
        w = self.config.world
        for lab in self.alive(self.labs):
            compute = lab.training_gpus * self.efficiency * lab.cfg.training_efficiency
            lab.quality += quality_gain(compute, lab.last.free_tokens_mtok, w.training_gain,
                                        w.training_ref_gpus, w.data_gain, w.data_ref_mtok, w.data_flywheel)
            if lab.publishing and lab.quality >= lab.published_quality + 0.05:
                lab.published_quality = lab.quality
                self.published_quality = max(self.published_quality, lab.quality)
                self.recorder.event(self, "open_weight_release", lab, None, lab.quality, "quality")
        for wrapper in self.alive(self.wrappers):
            spend = wrapper.invest(wrapper.last.gross_profit_usd, wrapper.runway_months())
            if spend > 0:
                self.ledger.post(wrapper, "staff", spend, "product_investment")
            wrapper.last = dataclasses.replace(wrapper.last, product_investment_usd=spend,
                                               operating_profit_usd=wrapper.last.operating_profit_usd - spend)

    def _tally(self, clearing: Clearing) -> None:
        """Customers per (segment, offer), per (segment, vertical) among those inside, and per (segment, lab):
        sellers' and diffusion's view of the market."""
        self.segment_offer_counts = clearing.customers.sum(axis=1)
        self.segment_vertical_inside = clearing.customers.sum(axis=2)
        self.segment_price_scale = self.population.price_scales
        owners = np.array([e.firm.unique_id for e in self.book.entries[:clearing.customers.shape[2]]])
        users = np.zeros((self.population.n_segments, len(self.labs)))
        for b, lab in enumerate(self.labs):
            mine = owners == lab.unique_id
            users[:, b] = self.segment_offer_counts[:, mine].sum(axis=1)
        self.tally_users = users

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
        return affordable_gpus(lab.last.revenue_usd, lab.cash_usd, parent,
                               self.gpu_owned_usd_per_hour * costs.HOURS_PER_MONTH, lab.cfg.opex_usd_per_month,
                               credit_usd=investor_credit(self, lab))


def _with(config: MarketConfig, overrides: dict[str, Any]) -> MarketConfig:
    from market.config import build_config

    return build_config(config.model_dump(), overrides)

