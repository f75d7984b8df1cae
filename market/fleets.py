"""The GPU market in the round (DESIGN.md §4 steps 1, 3 and 5; ``market/gpu_market.py`` wired in).

* **Supply.** Deliveries follow the calibrated path (``gpu_market.supply_path_from_config``). Labs' orders claim
  the deliveries of the month they are due (order round + ``labs[].capacity_lead_months``; pro rata when they
  exceed what is left); the rest, and the GPUs exiting firms sell, join the stock clouds rent out. Owned GPUs and
  the rentable stock retire 1 / ``gpu_market.life_months`` a month.
* **Owned GPUs** are bought on delivery (``gpu_market.capex_usd_per_gpu`` each, paid to GPU vendors) and cost
  their running cost (``gpu_market.opex_usd_per_gpu_hour``) every hour; the books charge depreciation of
  capex / life a GPU-month. A lab compares renting with owning at its cost of capital
  (``gpu_market.owned_cost_usd_per_gpu_hour``).
* **Rent.** Each month, after prices are posted, every lab submits the rental schedule of its uses
  (``agents.compute.rental_schedule``) and every host a step: the GPUs its expected load needs (last month's
  load on its pool before rationing, grown by a month of usage growth) at any rent below what a busy GPU-hour
  earns at its posted price, and one replica at any rent. The rent clears these with the rest of the market's isoelastic
  demand against the rentable stock (``gpu_market.clear``) and is what hosts and renting labs pay this month;
  labs then split their fleets (owned + rented) by marginal value.
* **Set-up.** Labs arrive owning the GPUs their lasting uses want at their owned cost (if owning beats renting
  at the reference rent; ``agents.compute.lasting_uses``); the rentable stock is the path's stock at round 0 less those fleets; the outside demand is
  calibrated so that the rent clears at ``gpu_market.reference_rent_usd_per_hour`` (``gpu_market.initial_state``).
  When the labs' wanted fleets exceed the stock left after renters' needs (hosts' GPUs and labs' rented inference
  R&D at the reference rent), every lab owns the same share of its wanted fleet (``initial_fleet_share``, pro rata
  as on scarce deliveries) and rents the rest at a round-0 rent above the reference. Only a config whose stock at
  round 0 cannot cover the renters' needs alone is refused (:class:`market.config.ConfigError` naming
  ``gpu_market.supply_share``).
"""

from __future__ import annotations

import numpy as np

from agents.compute import gpus_wanted, lasting_uses
from market import costs
from market.config import ConfigError
from market.gpu_market import (DemandSchedule, GpuMarketState, RentClearing, clear, deliver, initial_state,
                               owned_cost_usd_per_gpu_hour, place_orders, retire, stock_at,
                               supply_path_from_config)
from market.offers import FREE

RENT_POINTS = 24  # rents at which a lab states its rental demand (log-spaced between the floor and the ceiling)


class GpuMarket:
    """The GPU market of one run: the supply path, the market's state (rentable stock, order book, outside
    demand), this month's rent and clearing, and GPUs released by exits.

    Args:
        cfg: ``GpuMarketConfig``.
    """

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.path = supply_path_from_config(cfg)
        self.state: GpuMarketState | None = None
        self.rent = float(cfg.reference_rent_usd_per_hour)
        self.clearing: RentClearing | None = None
        self.released = 0.0
        self.cancelled: dict[int, float] = {}  # round → claims of exited firms, rentable when due
        self.delivered = 0.0
        self.owners_received = 0.0
        self.capex_usd = 0.0
        self.rents = np.geomspace(cfg.opex_usd_per_gpu_hour * (1 + 1e-6), cfg.rent_ceiling_usd_per_hour, RENT_POINTS)

    # ------------------------------------------------------------------------------------------ prices

    def owned_cost(self, rate_monthly: float) -> float:
        """What an owned GPU costs per hour at an owner's monthly cost of capital ($/GPU-hour)."""
        c = self.cfg
        return owned_cost_usd_per_gpu_hour(c.capex_usd_per_gpu, c.life_months, c.opex_usd_per_gpu_hour, rate_monthly)

    def owned_book_cost(self) -> float:
        """What the books charge an owned GPU per hour: depreciation capex / life plus running cost ($/GPU-hour)."""
        c = self.cfg
        return c.capex_usd_per_gpu / c.life_months / costs.HOURS_PER_MONTH + c.opex_usd_per_gpu_hour

    def release(self, gpus: float) -> None:
        """GPUs an exiting firm sold: they join the rentable stock at next month's deliveries."""
        self.released += float(gpus)

    def cancel(self, orders) -> None:
        """Orders ``(round due, GPUs)`` of an exiting firm: the GPUs join the rentable stock when they arrive."""
        for due, gpus in orders:
            self.cancelled[due] = self.cancelled.get(due, 0.0) + float(gpus)

    @property
    def stock(self) -> float:
        """GPUs in service in the simulated market at the start of this round (the path's stock)."""
        return stock_at(self.path, self.state.round, self.cfg.life_months) if self.state is not None else 0.0

    # ------------------------------------------------------------------------------------------ the round

    def start(self, model, clearing) -> None:
        """Set-up (module docstring): labs' initial owned fleets, rationed to the installed base; the initial
        state; the round-0 clearing.

        Raises:
            ConfigError: naming ``gpu_market.supply_share`` when the renters' needs alone (hosts' GPUs and labs'
                rented inference R&D at the reference rent) reach the path's stock at round 0.
        """
        decisions = {lab.unique_id: model.compute_decision(lab, clearing, initial=True) for lab in model.alive(model.labs)}
        ref = self.cfg.reference_rent_usd_per_hour
        hosts = [host_schedule(model, p, clearing) for p in model.alive(model.providers)]
        renters = (sum(s.gpus_at(ref, "above") for s in hosts)
                   + sum(gpus_wanted([u for u in d.uses if u not in lasting_uses(d.uses)], ref) for d in decisions.values()))
        stock = stock_at(self.path, 0, self.cfg.life_months)
        if renters >= stock:
            raise ConfigError(
                f"gpu_market.supply_share: {self.cfg.supply_share} gives {stock:,.0f} GPUs at round 0, which cannot "
                f"cover what renters (hosts, labs' inference R&D) want at the reference rent ({renters:,.0f}); "
                f"allowed: a share whose round-0 stock exceeds {renters:,.0f} GPUs")
        wanted = {}
        for lab in model.alive(model.labs):
            obs = lab.compute_observation
            if obs.rent_usd_per_hour >= obs.owned_cost_usd_per_hour:
                wanted[lab.unique_id] = gpus_wanted(lasting_uses(decisions[lab.unique_id].uses), obs.owned_cost_usd_per_hour)
        share = initial_fleet_share(sum(wanted.values()), stock - renters)
        for lab in model.alive(model.labs):
            if lab.unique_id in wanted:
                lab.owned_gpus = wanted[lab.unique_id] * share
        owned = sum(lab.owned_gpus for lab in model.alive(model.labs))
        for lab in model.alive(model.labs):  # with the fleets known, the schedules are what they rent beyond them
            decisions[lab.unique_id] = model.compute_decision(lab, clearing, initial=True)
        schedules = [self._lab_schedule(d) for d in decisions.values()] + hosts
        self.state = initial_state(self.path, self.cfg.life_months, owned, schedules, ref,
                                   self.cfg.outside_demand_elasticity)
        self._clear(model, decisions, schedules)

    def world_moves(self, model) -> None:
        """Step 1: this month's deliveries arrive (owners' orders to their fleets, paid on delivery; the rest and
        last month's exits' GPUs to the rentable stock); owned fleets retire 1 / life."""
        now = model.round
        released = self.released + self.cancelled.pop(now, 0.0)
        self.state, self.owners_received = deliver(self.state, self.path, self.cfg.life_months, released,
                                                   self.cfg.outside_demand_tracks_supply)
        self.delivered = float(self.path.deliveries(now))
        self.released = 0.0
        self.capex_usd = 0.0
        for lab in model.alive(model.labs):
            lab.owned_gpus = retire(lab.owned_gpus, self.cfg.life_months)
            got = lab.receive(now)
            lab.capex_usd = got * self.cfg.capex_usd_per_gpu
            if lab.capex_usd > 0:
                model.ledger.post(lab, "gpu_vendors", lab.capex_usd, "capex")
                self.capex_usd += lab.capex_usd

    def decide(self, model) -> None:
        """Step 3 (after prices are posted): the compute decisions of labs at a planning review
        (``TokenMarket.plan_due``), the rental market cleared, fleets split (labs between reviews hold their
        rental commitment and their plan's split), GPU orders placed by the reviewing labs (pro rata on scarce
        deliveries)."""
        labs = model.alive(model.labs)
        decisions = {lab.unique_id: model.compute_decision(lab, model.last_clearing) for lab in labs
                     if model.plan_due(lab)}
        schedules = [self._lab_schedule(decisions[lab.unique_id]) if lab.unique_id in decisions
                     else committed_schedule(lab, self.rents) for lab in labs]
        schedules += [host_schedule(model, p, model.last_clearing) for p in model.alive(model.providers)]
        self._clear(model, decisions, schedules)
        requests = [decisions[lab.unique_id].order_gpus if lab.unique_id in decisions else 0.0 for lab in labs]
        if labs and sum(requests) > 0:
            lead = [max(1, lab.cfg.capacity_lead_months) for lab in labs]  # an order arrives next month at the soonest
            for lt in sorted(set(lead)):  # labs with the same lead time claim the same month's deliveries
                group = [i for i, x in enumerate(lead) if x == lt]
                fill = place_orders(self.state.book, self.path, model.round, lt, [requests[i] for i in group])
                self.state = GpuMarketState(self.state.round, self.state.rentable_gpus, self.state.rent_usd_per_gpu_hour,
                                            fill.book, self.state.outside)
                for i, g in zip(group, fill.granted):
                    if g > 0:
                        labs[i].orders.append((fill.delivery_round, float(g)))

    def _lab_schedule(self, decision) -> DemandSchedule:
        return DemandSchedule(tuple(decision.rents_usd_per_hour), tuple(np.minimum.accumulate(decision.rental_gpus)))

    def _clear(self, model, decisions: dict, schedules: list[DemandSchedule]) -> None:
        self.state, self.clearing = clear(self.state, schedules, self.cfg.opex_usd_per_gpu_hour,
                                          self.cfg.rent_ceiling_usd_per_hour)
        self.rent = self.clearing.rent_usd_per_gpu_hour
        got = iter(self.clearing.rented_gpus)  # schedules: every alive lab's, in order, then the hosts'
        for lab in model.alive(model.labs):
            if lab.unique_id in decisions:
                lab.take_fleet(float(next(got)))
            else:
                lab.hold_fleet(float(next(got)))
        for p in model.alive(model.providers):
            p.gpus = float(next(got))


def committed_schedule(lab, rents: np.ndarray) -> DemandSchedule:
    """A lab's rental demand between its planning reviews: the GPUs it rented at its last review, at any rent of
    ``rents`` ($/GPU-hour): a reservation held until the next review (assumption: capacity is reserved for the
    plan's term, as in reserved-instance and committed-use contracts; ``labs[].plan_review_months``)."""
    return DemandSchedule(tuple(float(r) for r in rents), tuple(float(lab.rented_gpus) for _ in rents))


def initial_fleet_share(wanted_gpus: float, installed_gpus: float) -> float:
    """The share of their wanted fleets labs own at round 0: 1 when the installed base left after the renters'
    needs covers them, else installed / wanted (pro rata, the rule ``place_orders`` applies to scarce deliveries).

    A lab cannot arrive owning GPUs the market's stock does not hold: ``wanted_gpus`` are the GPUs its lasting
    uses want at its owned cost, ``installed_gpus`` the path's stock at round 0 less what renters want at the
    reference rent (GPUs, both). A rationed lab then wants to rent the rest, so the round-0 rent clears above the
    reference rent: the scarcity shows as a price, not as GPUs that do not exist (assumption: fleets bought before
    the run came from the same installed base). Returns a number in [0, 1]. Raises ValueError for negative
    inputs.
    """
    if not (wanted_gpus >= 0 and installed_gpus >= 0):
        raise ValueError(f"wanted_gpus={wanted_gpus!r}, installed_gpus={installed_gpus!r}: must be ≥ 0")
    return 1.0 if wanted_gpus <= installed_gpus else installed_gpus / wanted_gpus


def host_schedule(model, host, clearing) -> DemandSchedule:
    """A host's rental demand: the GPUs its expected load needs, wanted at any rent below what a busy GPU-hour
    earns at its posted price (its price × the Mtok a GPU-hour serves at full batching: it rents while price covers
    marginal cost); one replica at any rent (assumption: a host keeps one deployment running to stay in the market).

    Expected load (reference-model Mtok/month) = (1 − q) × last month's load on its pool before rationing, grown by
    a month of usage growth, + q × the demand oracle's load on it at this month's posted prices (before capacity
    limits), q = :func:`reconsider_share`: customers who do not look around keep last month's choice, those who do
    choose at the posted prices. It rents before customers choose, so a price cut (its own or a rival's) moves its
    fleet by what the cut will move this month, not by the long-run shift (which would leave it idle).
    """
    tech = model.tech_of(host)
    growth = (1.0 + model.config.world.usage_growth_per_year) ** (1.0 / 12.0)
    pool = model.book.paid_pool[host.unique_id]
    load = clearing.asked(pool) * growth
    oracle = getattr(model, "oracle", None)
    if oracle is not None:
        forecast = oracle_pool_load(model, oracle, host)
        if forecast is not None:
            q = reconsider_share(model.config.customers)
            load = (1.0 - q) * load + q * forecast
    load = max(load, getattr(host, "expected_load_mtok", 0.0))
    replica = float(tech.replica_gpus)
    gpus = max(float(costs.gpus_required(load, tech)), replica)
    cfg = model.gpus.cfg
    busy = host.api_price * 3600.0 / costs.gpu_seconds_per_mtok(tech)  # $ a busy GPU-hour earns at its price
    earns = min(max(busy, cfg.opex_usd_per_gpu_hour), cfg.rent_ceiling_usd_per_hour)
    return DemandSchedule((earns, earns, cfg.rent_ceiling_usd_per_hour), (gpus, replica, replica))


def oracle_pool_load(model, oracle, host) -> float | None:
    """The load (reference-model Mtok/month) the demand oracle puts on ``host``'s paid pool at posted prices if
    every sampled customer chose now, before capacity limits: its paid offers' tokens × their model size plus the
    tokens of wrapper apps buying from it (the load of ``DemandOracle.firm_totals`` at quality factor 1, without
    building the seller's full view). None when the host has an offer the oracle does not know (an entrant)."""
    offers, book = oracle.offers, model.book
    own = np.array([j for j in book.ids(host) if book.entries[j].kind != FREE], dtype=np.int64)
    if own.size and int(own.max()) >= offers.n:
        return None
    own = own[offers.alive[own]] if own.size else own
    bought = [np.array([j for j in book.ids(w) if j < offers.n], dtype=np.int64) for w in model.alive(model.wrappers)
              if w.upstream is not None and w.upstream[0] == host.unique_id]
    rows = np.concatenate([own, *bought]) if bought else own
    if rows.size == 0:
        return 0.0
    size = np.concatenate([offers.size[own], np.ones(rows.size - own.size)])  # a host's API tier has size 1
    tokens = (oracle.probabilities(rows) * oracle.X[rows]) @ oracle.w
    return float(tokens @ size)


def reconsider_share(customers) -> float:
    """q: the share of API buyers who look around in a month without news — the mean ``reconsider_prob`` of the
    API-capable segments weighted by their shares (0 when no segment buys from APIs; ``CustomersConfig``)."""
    api = [s for s in customers.segments if s.api_capable]
    total = sum(s.share for s in api)
    return sum(s.share * s.reconsider_prob for s in api) / total if total > 0 else 0.0
