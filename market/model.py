"""TokenMarket: the Mesa model. One ``step()`` is one round (a month) and reads as the phase list of docs/design.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from agents.compute import ComputeDecision
from agents.lab import FrontierLab
from agents.provider import LowVolumeProvider
from agents.types import SourcingObservation
from agents.wrapper import WrapperApp
from market import compute_split, costs, demand, learning, objective, skills
from market.clearing import Clearing, clear_market
from market.config import VERTICALS, MarketConfig
from market.scenario import config_from
from market.entry import enter
from market.finance import CapitalMarket, fund_and_exit
from market.fleets import GpuMarket
from market.ledger import Ledger
from market.offers import OfferBook
from market.open_weights import PublishedModel
from market.threads import one_blas_thread
from market.oracle import DemandOracle, DemandSample, SampleState, SegmentTerms
from market.population import VectorPopulation
from market.pricing import evaluate_prices, price_observation
from market.quality import distilled, host_choice, initial_registry, lab_model, quality_gain
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
        **overrides: flat dotted (or ``__``-separated) config overrides, e.g. ``gpu_market__supply_share=0.5``,
            so that ``mesa.batch_run`` and SolaraViz can set parameters by keyword.

    Raises:
        market.config.ConfigError: bad scenario or overrides (before anything is built); a GPU supply that cannot
            cover the labs' fleets at round 0 (``gpu_market.supply_share``, found at set-up).
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
        self.provider_tech = costs.provider_tech(scale_economies=w.scale_economies)
        self.efficiency = 1.0
        self._tech_cache: dict[int, costs.ServingTech] = {}
        self.usage_factor = 1.0
        self.frontier_history: list[float] = []
        self.gpus = GpuMarket(config.gpu_market)
        self.capital = CapitalMarket(config.capital, config.finance)
        self.learning_params = learning.params_from_config(config.learning)
        self.skills: dict[int, learning.SkillState] = {}
        self.publications: list[learning.Publication] = []
        self.open_models = initial_registry(config.open_weights)
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
        self._open_weights_moves()
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
        """Wrappers pick an upstream, everyone aware of AI chooses once at the initial prices, and the GPU market
        starts from that demand: labs' owned fleets, the rentable stock, the round-0 rent and splits
        (``market.fleets.GpuMarket.start``)."""
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
        self.last_clearing = clearing
        self.oracle = self.oracle_now(self.current_offers)
        self.gpus.start(self, clearing)
        evaluate_prices(self, record=False, oracle=self.oracle)

    # ------------------------------------------------------------------------------------------ the round

    @one_blas_thread
    def step(self) -> None:
        """One month, in the order of docs/design.md ("One round")."""
        self.round += 1
        previous = self.current_offers
        self._world_moves()                          # 1. GPU deliveries, efficiency, usage, open weights, awareness
        offers = self._firms_decide()                # 3. moves, prices, sourcing; rent cleared, compute split
        news = news_between(previous, offers, self.config.customers.news_price_change)
        self.population.reconsider(offers, self.usage_factor, self.rng, news)  # 4. nested logit choice
        clearing = clear_market(self, offers)        # 5. capacity, rationing, spill-over
        self._tally(clearing)
        settle(self, offers, clearing)               # 6. revenues, GPU cost, token bills, opex
        self._learn()                                # 7. quality, skill and caching, publications; product
        fund_and_exit(self)                          # 8. capital market: rounds, parents; exits sell assets
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
        self._tech_cache.clear()
        self.gpus.world_moves(self)
        for lab in self.alive(self.labs):
            launch_due_apps(self, lab)
        self._open_weights_moves()
        for wrapper in self.alive(self.wrappers):
            if wrapper.complete_switch(self.round):
                self.ledger.post(wrapper, "staff", wrapper.cfg.switch_cost_usd, "upstream_switch")
                self.recorder.event(self, "upstream_switch", wrapper, self.agent_by_id(wrapper.upstream_id),
                                    wrapper.cfg.switch_cost_usd, vertical=wrapper.vertical)
        users = self.segment_offer_counts.sum(axis=1)
        self.population.spread_awareness(users, self.tally_users, self.config.customers, self.rng)

    def _open_weights_moves(self) -> None:
        """The closed frontier of the month joins its history; an outside distiller copies it if distillation is
        on and pays (``market.quality.distilled``); every host picks the published model it serves."""
        cfg = self.config.open_weights
        alive = self.alive(self.labs)
        previous = self.frontier_history[-1] if self.frontier_history else 0.0
        self.frontier_history.append(max((lab.quality for lab in alive), default=previous))
        made = distilled(self.open_models, self.frontier_history, self.round, cfg)
        if made is not None:
            self.open_models = self.open_models.publish(made[0])
            self.recorder.event(self, "distillation", None, None, made[1])
        for p in self.alive(self.providers):
            self.choose_open_model(p)

    def choose_open_model(self, host) -> None:
        """``host`` serves the published model with the most quality^k per $ of its serving cost
        (``market.quality.host_choice``); its quality and model size follow."""
        # The ranking is quality^k / (base × size^e): the host's own base cost scales every model alike, so its last
        # unit cost (any positive number before it has one) does.
        unit = host.last.unit_cost_usd_per_mtok
        base = unit / host.model_size ** self.config.open_weights.cost_exponent if np.isfinite(unit) and unit > 0 else 1.0
        chosen = host_choice(self.open_models, self.round, base, self.config.open_weights)
        if chosen is not None and (chosen.quality, chosen.compute_per_token) != (host.quality, host.model_size):
            host.quality, host.model_size = chosen.quality, chosen.compute_per_token
            self._tech_cache.pop(host.unique_id, None)

    @property
    def open_weight_quality(self) -> float:
        """Quality of the best open model hosts can serve this round (index)."""
        return self.open_models.best_quality(self.round, self.config.open_weights.release_lag_months)

    @property
    def gpu_rent_usd_per_hour(self) -> float:
        """This month's GPU rent ($/GPU-hour, cleared by the GPU market)."""
        return self.gpus.rent

    def publish_weights(self, lab) -> PublishedModel:
        """``lab`` publishes its frontier model as open weights (hosts may serve it after
        ``open_weights.release_lag_months``) and its serving technique with it (hosts may adopt it after
        ``learning.publication_lag_months``); the mechanism the lab's publishing decision calls. Returns the
        published model; records an ``open_weight_release`` event."""
        model = lab_model(lab, self.round)
        self.open_models = self.open_models.publish(model)
        lab.published_quality = lab.quality
        self.publications.append(learning.publication_of(self.skill_state(lab), self.learning_params,
                                                         lab.unique_id, self.round))
        self.recorder.event(self, "open_weight_release", lab, None, lab.quality, "quality")
        return model

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
        self.current_offers = self.book.build()
        self.oracle = self.oracle_now(self.current_offers)
        self.gpus.decide(self)
        evaluate_prices(self, oracle=self.oracle)
        return self.current_offers

    def compute_decision(self, lab: FrontierLab, clearing: Clearing, initial: bool = False) -> ComputeDecision:
        """``lab``'s compute decision from its observation (``market.compute_split.observation``): its uses, its
        rental schedule at the GPU market's rents and its GPU order. ``initial`` (set-up): the lab arrives with the
        fleet it has, unlimited by funding, and its R&D stock at the calibration point (no R&D before round 1)."""
        obs = compute_split.observation(self, lab, clearing)
        if initial:
            obs = dataclasses.replace(obs, budget_gpus=float("inf"), pv_serving_cost_usd=0.0)
        lab.compute_observation = obs
        return lab.decide_compute(obs, self.gpus.rents)

    def plan_due(self, lab: FrontierLab) -> bool:
        """Whether ``lab`` reviews its compute plan (GPU orders, rental commitment, split) this round: every
        ``labs[].plan_review_months``, staggered by its id as its quality reviews are (``market.compute_split``),
        so that at the default cadences the value of a quality point is re-estimated at each planning review."""
        return (self.round + lab.unique_id) % lab.cfg.plan_review_months == 0

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
        """Step 7: quality from training and free-tier data; skill and caching from served volume, inference R&D
        and adopted publications (``market.learning.advance``); weights published; wrappers' product work."""
        w = self.config.world
        for lab in self.alive(self.labs):
            compute = lab.training_gpus * self.efficiency * lab.cfg.training_efficiency
            lab.quality += quality_gain(compute, lab.last.free_tokens_mtok, w.training_gain,
                                        w.training_ref_gpus, w.data_gain, w.data_ref_mtok, w.data_flywheel)
            # A lab that plays ``publish`` (its strategic move, market/moves/review.py) releases each model that is
            # 0.05 of quality above what it last published.
            if lab.publishing and lab.quality >= lab.published_quality + 0.05:
                self.publish_weights(lab)
        for firm in self.alive([*self.labs, *self.providers]):
            served = firm.last.paid_tokens_mtok + getattr(firm.last, "free_tokens_mtok", 0.0)
            self.skills[firm.unique_id] = learning.advance(self.skill_state(firm), served, getattr(firm, "rd_gpus", 0.0),
                                                           self.publications, self.round, self.learning_params)
        self._tech_cache.clear()
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
        """Open the firm's ledger account (its initial cash comes from ``source``) and its books with the capital
        market, give a seller its starting know-how (``market.skills``), and index it by id."""
        self.ledger.open(firm, firm.cash_usd, source)
        self.capital.open(firm)
        if isinstance(firm, FrontierLab):
            self.skills[firm.unique_id] = skills.initial_lab_state(firm.cfg.skill, self.learning_params,
                                                                   self.config.learning.deepseek_rd_gpu_months)
        elif isinstance(firm, LowVolumeProvider):
            self.skills[firm.unique_id] = self._new_host_state()
        self.firms_by_id[firm.unique_id] = firm

    def _new_host_state(self) -> learning.SkillState:
        """A new host's know-how: ``providers.skill`` adopted, and what has been published so far (an entrant
        downloads the open-source serving engines)."""
        state = skills.initial_host_state(self.config.providers.skill)
        adopt, hit = learning.reachable(self.publications, self.round, self.learning_params.publication_lag_months)
        return dataclasses.replace(state, adopted_skill=max(state.adopted_skill, adopt), adopted_cache_hit_rate=hit)

    def skill_state(self, firm) -> learning.SkillState:
        """The firm's serving know-how (``market.learning.SkillState``)."""
        return self.skills[firm.unique_id]

    def gpu_value_usd_per_hour(self, firm) -> float:
        """What one more GPU-hour costs the firm at the margin ($/GPU-hour): a lab's shadow price of a GPU-hour
        (its compute split; the rent before its first split), a host's rent."""
        if isinstance(firm, FrontierLab) and np.isfinite(firm.gpu_value_usd_per_hour):
            return firm.gpu_value_usd_per_hour
        return self.gpus.rent

    def agent_by_id(self, unique_id: int):
        """The firm with ``unique_id`` (alive, exited or acquired), or None."""
        return self.firms_by_id.get(unique_id)

    def tech_of(self, firm) -> costs.ServingTech:
        """Serving technology of a lab or provider this round: its earned skill and cache-hit rate with the
        world's efficiency gains, for its model's size (``market.skills``)."""
        tech = self._tech_cache.get(firm.unique_id)
        if tech is None:
            state, params = self.skill_state(firm), self.learning_params
            if isinstance(firm, FrontierLab):
                tech = skills.lab_tech(self.lab_tech, state, params, self.efficiency, firm.cfg.compute_per_token)
            else:
                expected = max(firm.last.api_tokens_mtok, getattr(firm, "expected_load_mtok", 0.0))
                tech = skills.host_tech(self.provider_tech, self.lab_tech, state, params, self.efficiency,
                                        firm.model_size, self.config.open_weights.cost_exponent, expected)
            self._tech_cache[firm.unique_id] = tech
        return tech

    def entrant_tech(self, expected_mtok: float) -> costs.ServingTech:
        """The serving technology a new host would have for ``expected_mtok`` Mtok a month: no volume or research
        yet, the techniques published so far adopted, serving the model hosts serve now (the first host's)."""
        state = self._new_host_state()
        size = next((p.model_size for p in self.alive(self.providers)), self.config.open_weights.initial_compute_per_token)
        return skills.host_tech(self.provider_tech, self.lab_tech, state, self.learning_params, self.efficiency, size,
                                self.config.open_weights.cost_exponent, expected_mtok)


def _with(config: MarketConfig, overrides: dict[str, Any]) -> MarketConfig:
    from market.config import build_config

    return build_config(config.model_dump(), overrides)

