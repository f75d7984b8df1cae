"""What a lab observes when it splits its fleet by marginal value (DESIGN.md Q1; ``agents/compute.py`` wired in).

The lab decides (``agents.compute.decide_compute``); this module computes the numbers it decides from:

* **PVq**, the present value of a quality point (``quality_forecast``, ``pv_quality_point``): its profit now,
  π' — the demand oracle's finite difference of the lab's monthly profit at its posted prices (before any
  capacity limit) when the quality of everything it sells, and of the wrapper apps built on its API, rises by
  ``QUALITY_STEP`` (``market.oracle.DemandOracle.firm_totals``) — and how that worth moves as the market does.
  The oracle reads π' again ``FORECAST_MONTHS`` on, first with every rival lab at the quality its latest
  month's training would add each month (the derivative-consistent production function of
  ``market.quality.quality_gain``), then with hosts also at the open-weight frontier's trend; the two monthly
  ratios are the rivals' erosion ψ and the obsolescence d of a point. Demand in the model is a nested logit in
  absolute quality (customers value wtp·(fit·q)^γ), so a point's worth falls as rivals close in on it, not as a
  share of a moving frontier. PVq = Σ_{t ≤ H} π'·(ψ(1 − d))^t / (1 + r)^t over the lab's
  ``labs[].value_horizon_months`` H at its owners' cost of capital r: an annuity at the effective rate
  (1 + r)/(ψ(1 − d)) − 1. ψ = 1 and d = 0 give the older forecast with rivals held. Assumptions: trends persist
  for the forecast; the lab's own quality is held (no growth of its own demand in the forecast), and neither
  factor may exceed 1 (a point's worth that rivals' progress would raise is not banked on). Re-estimated at the
  lab's reviews every ``labs[].quality_review_months`` (staggered by firm) and kept in between;
* **paid serving's value**: the capacity shadow price of the lab's last profit curves (``capacity_use``): at each
  capacity, the most it could earn re-pricing one product, revenue less non-GPU cost (the GPU is its only marginal
  cost: its price is the shadow price the split finds), plus the learning-by-doing value of a served Mtok
  (``market.learning.volume_learning_value_usd_per_mtok``); before the lab has curves, its revenue per Mtok of
  load up to the GPUs its recent demand needs;
* **demand**: last month's load on its paid and free pools as customers asked for it before anyone was turned
  away (``market.clearing.Clearing.asked``), grown by a month of usage growth; the
  GPUs that serve its average at full batching and those that cover its peak (``market.costs.gpus_required``);
* **inference R&D**: the present value, over the same horizon, of the GPU bill at the rent of serving its demand
  (paid and free GPUs at the peak), with at most ``learning.rd_absorption`` × (stock + scale) GPUs a month;
* **what it can fund**: ``agents.compute.fleet_budget_gpus`` on its revenue (before its first month, the
  oracle's) with the capital market's offer now
  (``market.finance.CapitalMarket.funding_capacity``) — replacing a plan built on credit nobody offered.

The free tier's conversion value is 0 (assumption: in the model a free user reaches a paid plan only by choosing
again, and the brand awareness it spreads is not priced by the lab).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from agents.compute import ComputeObservation, fleet_budget_gpus, paid_capacity_use
from market import costs, learning, objective
from market.quality import quality_gain
from market.pricing import firm_view

CAPACITY_POINTS = 13  # GPU counts at which paid serving's capacity value is read off the curves
QUALITY_STEP = 0.01  # quality-index points of the finite difference (the monthly gain of a large lab is ≈ 0.01)


FORECAST_MONTHS = 12  # assumption: labs plan their next model a year ahead (annual frontier releases); a point's
# worth is read on the forecast market a year on and its monthly change extrapolated at a constant rate


@dataclasses.dataclass(frozen=True)
class QualityForecast:
    """A lab's forecast of what a quality point is worth, now and along the market's expected quality path.

    Fields:
        per_point_now_usd: the point's profit now, $/month per quality-index point (the oracle's finite difference).
        per_point_labs_usd: the same ``ahead_months`` on, with the lab and every rival lab (and the wrappers built
            on them) at their quality forecast from their recent training, $/month per point.
        per_point_open_usd: the same state with hosts also at the open-weight frontier's trend, $/month per point.
        ahead_months: months between now and the forecast state (> 0).
        rate_monthly: the owners' monthly cost of capital.
        horizon_months: months over which the lab values a lasting gain.
    """

    per_point_now_usd: float
    per_point_labs_usd: float
    per_point_open_usd: float
    ahead_months: float
    rate_monthly: float
    horizon_months: float

    @property
    def rivals_retention(self) -> float:
        """Monthly factor of a point's worth as rival labs move along their training paths, in [0, 1] (1: held;
        < 1: their progress erodes it): min(1, (per_point_labs / per_point_now)^(1/ahead_months)). Capped at 1
        (assumption: no growth of demand in the forecast — where rivals' progress would raise what a point earns,
        as for a seller with most of a logit market, the lab does not bank on it)."""
        return min(1.0, _monthly_ratio(self.per_point_labs_usd, self.per_point_now_usd, self.ahead_months))

    @property
    def obsolescence_monthly(self) -> float:
        """Share of a point's worth lost a month as open weights catch up, in [0, 1] (0: none):
        max(0, 1 − (per_point_open / per_point_labs)^(1/ahead_months)) (floored at 0 for the same reason)."""
        return max(0.0, 1.0 - _monthly_ratio(self.per_point_open_usd, self.per_point_labs_usd, self.ahead_months))

    @property
    def life_months(self) -> float:
        """Expected life of the point's worth, months: 1 / (1 − ψ(1 − d)) (``inf`` when nothing erodes it)."""
        retention = self.rivals_retention * (1.0 - self.obsolescence_monthly)
        return math.inf if retention >= 1.0 else 1.0 / (1.0 - retention)

    @property
    def pv_usd(self) -> float:
        """PVq, $ per quality point: ``pv_quality_point`` on these figures."""
        return pv_quality_point(self.per_point_now_usd, self.rivals_retention, self.obsolescence_monthly,
                                self.horizon_months, self.rate_monthly)


def _monthly_ratio(later: float, earlier: float, months: float) -> float:
    # A worth that vanishes (≤ 0) at the forecast state gives a factor of 0: the point's value ends at once.
    if earlier <= 0:
        return 1.0
    return max(0.0, later / earlier) ** (1.0 / months)


def pv_quality_point(per_point_usd: float, rivals_retention: float, obsolescence_monthly: float,
                     horizon_months: float, rate_monthly: float) -> float:
    """Present value ($) of a quality point gained now: Σ_{t=1..H} π'·(ψ·(1 − d))^t / (1 + r)^t.

    π' (``per_point_usd``, $/month per point) is its profit this month; ψ (``rivals_retention``, ≥ 0) the monthly
    factor by which its worth moves as the lab and its rivals keep training (quality stays a stock in
    ``market.quality``, but in the logit what a point earns depends on where everyone else stands); d
    (``obsolescence_monthly``, < 1) the share of its worth lost a month as open weights catch up; r the owners'
    monthly cost of capital; H (``horizon_months``) the planning horizon. The sum is an annuity at the effective
    rate (1 + r) / (ψ(1 − d)) − 1, so ψ = 1 and d = 0 give π' × annuity_factor(H, r): the forecast with rivals
    held and no obsolescence. The expected life of the point's worth is 1 / (1 − ψ(1 − d)) months when
    ψ(1 − d) < 1.

    Raises:
        ValueError: ψ < 0, d ≥ 1 or NaN inputs.
    """
    if not rivals_retention >= 0 or not obsolescence_monthly < 1:
        raise ValueError(f"rivals_retention={rivals_retention!r} must be ≥ 0 and obsolescence_monthly="
                         f"{obsolescence_monthly!r} < 1")
    retention = rivals_retention * (1.0 - obsolescence_monthly)
    if retention == 0.0 or per_point_usd == 0.0:
        return 0.0
    effective = (1.0 + rate_monthly) / retention - 1.0
    if math.isinf(horizon_months) and effective <= 0:
        raise ValueError(f"a point whose worth grows at least as fast as the cost of capital ({retention!r} a month "
                         f"against 1 + {rate_monthly!r}) has no finite value over an infinite horizon")
    return per_point_usd * objective.annuity_factor(horizon_months, effective)


def quality_gains(model, ahead_months: float) -> dict[int, float]:
    """Quality-index points each seller is forecast to gain over ``ahead_months``: every lab at its latest month's
    training compute and free-tier data (``market.quality.quality_gain``, efficiency held at today's), every host
    at the open-weight frontier's gain over the last ``FORECAST_MONTHS`` (the registry's best model now less its
    best a year ago, by the month), each rate held over the months ahead (assumption: trends persist)."""
    w, cfg = model.config.world, model.config.open_weights
    gains = {}
    for lab in model.alive(model.labs):
        compute = lab.training_gpus * model.efficiency * lab.cfg.training_efficiency
        gains[lab.unique_id] = ahead_months * quality_gain(compute, lab.last.free_tokens_mtok, w.training_gain,
                                                           w.training_ref_gpus, w.data_gain, w.data_ref_mtok,
                                                           w.data_flywheel)
    lag = int(cfg.release_lag_months)
    open_now = model.open_models.best_quality(model.round, lag)
    open_before = model.open_models.best_quality(model.round - FORECAST_MONTHS, lag)
    open_gain = max(0.0, open_now - open_before) / FORECAST_MONTHS * ahead_months if open_before > 0 else 0.0
    for host in model.alive(model.providers):
        gains[host.unique_id] = open_gain
    return gains


def market_factors(model, gains: dict[int, float]) -> np.ndarray:
    """(n_offers,) quality factors of the current offers when each seller of ``gains`` has gained its points:
    (q + gain) / q for its own offers, and for wrappers' offers the factor of the seller they buy tokens from."""
    book = model.book
    n = model.oracle.offers.n
    factors = np.ones(n)
    by_id = {f.unique_id: f for f in (*model.labs, *model.providers)}
    for j, entry in enumerate(book.entries[:n]):
        seller = entry.firm
        if seller.unique_id not in gains:
            upstream = getattr(seller, "upstream", None)
            seller = by_id.get(upstream[0]) if upstream is not None else None
        if seller is None or seller.unique_id not in gains or not seller.quality > 0:
            continue
        factors[j] = (seller.quality + gains[seller.unique_id]) / seller.quality
    return factors


def quality_forecast(model, lab) -> QualityForecast:
    """The lab's :class:`QualityForecast` on the demand oracle at posted prices, before capacity limits: the
    finite difference of its profit in its quality now; the same ``FORECAST_MONTHS`` on with every rival lab (and
    the wrappers on its API) along its training trend (``quality_gains``); and with hosts along the open-weight
    trend too. Its own quality is held at today's in all three (assumption: no growth of its own demand in the
    forecast, as before — the point's worth is not extrapolated upward along its own training plan)."""
    view = dataclasses.replace(firm_view(model, lab), capacity_mtok=math.inf)
    everyone = quality_gains(model, FORECAST_MONTHS)
    everyone.pop(lab.unique_id, None)  # its own quality held: the forecast assumes no growth of its own demand
    hosts = {h.unique_id for h in model.providers}
    rivals = {k: v for k, v in everyone.items() if k not in hosts}

    q = max(lab.quality, 1e-9)

    def per_point(gains: dict[int, float] | None) -> float:
        factors = None if gains is None else market_factors(model, gains)
        base, nudged = model.oracle.firm_totals_many(view, (1.0, (q + QUALITY_STEP) / q), factors)
        return max(0.0, (nudged[0] - base[0]) / QUALITY_STEP)

    now = per_point(None)
    at_labs = per_point(rivals) if now > 0 and any(v > 0 for v in rivals.values()) else now
    opened = any(everyone[h] > 0 for h in hosts if h in everyone)
    at_open = per_point(everyone) if now > 0 and opened else at_labs
    return QualityForecast(now, at_labs, at_open, float(FORECAST_MONTHS), model.capital.rate_monthly(lab),
                           lab.cfg.value_horizon_months)


def quality_value(model, lab, review: bool = True) -> tuple[float, float, float]:
    """(PVq $ per quality point, paid revenue $/month, paid load reference-Mtok/month) of ``lab`` on the demand
    oracle at posted prices, before capacity limits (module docstring; ``quality_forecast``). With ``review``
    False the lab keeps the PVq of its last review (``lab.pv_quality_usd``) and only revenue and load are read
    from the oracle."""
    view = dataclasses.replace(firm_view(model, lab), capacity_mtok=math.inf)
    _, revenue, load = model.oracle.firm_totals(view)
    if not review and math.isfinite(lab.pv_quality_usd):
        return lab.pv_quality_usd, revenue, load
    forecast = quality_forecast(model, lab)
    lab.quality_forecast = forecast
    return forecast.pv_usd, revenue, load


def observation(model, lab, clearing) -> ComputeObservation:
    """The lab's :class:`agents.compute.ComputeObservation` this round (module docstring)."""
    w, gm, fin = model.config.world, model.gpus, model.config.finance
    tech = model.tech_of(lab)
    gps = costs.gpu_seconds_per_mtok(tech)
    ref_per_hour = 3600.0 / gps
    monthly_growth = (1.0 + w.usage_growth_per_year) ** (1.0 / 12.0)
    book = model.book
    paid_load = clearing.asked(book.paid_pool[lab.unique_id]) * monthly_growth
    free_load = clearing.asked(book.free_pool[lab.unique_id]) * monthly_growth if lab.offers_free_tier else 0.0
    review = (model.round + lab.unique_id) % lab.cfg.quality_review_months == 0  # staggered, like wrappers' reviews
    pvq, revenue, load = quality_value(model, lab, review)
    lab.pv_quality_usd = pvq
    horizon = objective.annuity_factor(lab.cfg.value_horizon_months, model.capital.rate_monthly(lab))
    sells = bool(book.ids(lab, "api") or book.ids(lab, "plan") or book.ids(lab, "vertical"))
    peak = float(costs.gpus_required(paid_load, tech)) if paid_load > 0 else (float(tech.replica_gpus) if sells else 0.0)
    free_gpus = float(costs.gpus_required(free_load, tech)) if free_load > 0 else 0.0
    rent = gm.rent
    pv_serving = (peak + free_gpus) * rent * costs.HOURS_PER_MONTH * horizon
    real_per_ref = lab.last.paid_tokens_mtok / lab.last.paid_equiv_mtok if lab.last.paid_equiv_mtok > 0 else 1.0
    learning_value = learning.volume_learning_value_usd_per_mtok(model.skill_state(lab).cumulative_mtok, pv_serving,
                                                                 model.learning_params) * real_per_ref
    margin = (revenue / load if load > 0 else 0.0) + learning_value
    paid_use = capacity_use(lab, tech, learning_value)
    lump, monthly = model.capital.funding_capacity(lab)
    sales = lab.last.revenue_usd if lab.last.round >= 0 else revenue  # before its first month: the oracle's
    budget = fleet_budget_gpus(sales, lab.cfg.opex_usd_per_month, lab.cash_usd, lump, monthly,
                               fin.fleet_budget_months, rent * costs.HOURS_PER_MONTH)
    params, stock = model.learning_params, model.skill_state(lab).rd_gpu_months
    size_free = lab.tier_size(lab.free_tier_index)
    lead = lab.cfg.capacity_lead_months
    return ComputeObservation(
        pv_per_quality_point_usd=pvq, training_gain=w.training_gain, training_ref_gpus=w.training_ref_gpus,
        training_multiplier=model.efficiency * lab.cfg.training_efficiency,
        data_gain=w.data_gain if w.data_flywheel else 0.0, data_ref_mtok=w.data_ref_mtok,
        paid_margin_usd_per_mtok=margin, paid_mtok_per_gpu_hour=ref_per_hour,
        paid_average_gpus=paid_load * gps / costs.SECONDS_PER_MONTH, paid_peak_gpus=peak,
        free_mtok_per_gpu_hour=ref_per_hour / size_free,
        free_demand_gpus=free_gpus,
        conversion_value_usd_per_mtok=0.0, pv_serving_cost_usd=pv_serving,
        rd_elasticity=params.rd_elasticity, rd_half_gpu_months=params.rd_half_gpu_months, rd_stock_gpu_months=stock,
        rd_cap_gpus=model.config.learning.rd_absorption * (stock + params.rd_half_gpu_months),
        owned_gpus=lab.owned_gpus, arriving_gpus=lab.in_transit(),
        survival_over_lead=(1.0 - 1.0 / gm.cfg.life_months) ** lead, budget_gpus=budget, rent_usd_per_hour=rent,
        owned_cost_usd_per_hour=gm.owned_cost(model.capital.rate_monthly(lab)),
        growth_over_lead=(1.0 + w.usage_growth_per_year) ** (lead / 12.0), paid_use=paid_use)


def capacity_use(lab, tech, extra_usd_per_mtok: float = 0.0):
    """Paid serving valued by the capacity shadow price of the lab's last curves (``lab.capacity_curves``, set by
    ``market.pricing.evaluate_prices``): ``agents.compute.paid_capacity_use`` on ``CAPACITY_POINTS`` GPU counts
    from 0 to what the largest load on those curves needs, each GPU count's capacity being the largest average
    demand it covers with its own peak (``market.costs.max_volume_mtok_per_month``); ``extra_usd_per_mtok`` (the
    learning-by-doing value of a served Mtok) is added to every Mtok of load. None when the lab has no curves."""
    curves = list(lab.capacity_curves.values())
    if not curves:
        return None
    gross = np.concatenate([c[0] for c in curves])
    load = np.concatenate([c[1] for c in curves])
    top = float(load.max()) if load.size else 0.0
    if not top > 0:
        return None
    g_max = float(costs.gpus_required(top, tech))
    gpus = np.linspace(0.0, g_max, CAPACITY_POINTS)
    capacity = np.asarray(costs.max_volume_mtok_per_month(gpus, tech), float)
    return paid_capacity_use(gross + extra_usd_per_mtok * load, load, gpus, capacity)
