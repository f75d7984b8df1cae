"""What a lab observes when it splits its fleet by marginal value (DESIGN.md Q1; ``agents/compute.py`` wired in).

The lab decides (``agents.compute.decide_compute``); this module computes the numbers it decides from:

* **PVq**, the present value of a quality point: the demand oracle's finite difference of the lab's monthly
  profit at its posted prices (before any capacity limit) when the quality of everything it sells — and of the
  wrapper apps built on its API — rises by ``QUALITY_STEP`` (``market.oracle.DemandOracle.firm_totals``), held
  for the lab's ``labs[].value_horizon_months`` and discounted at its owners' cost of capital (assumption: no
  growth of demand in the forecast, and rivals' qualities held); a strategic forecast, re-estimated at the lab's
  reviews every ``labs[].quality_review_months`` (staggered by firm) and kept in between;
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
from market.pricing import firm_view

CAPACITY_POINTS = 13  # GPU counts at which paid serving's capacity value is read off the curves
QUALITY_STEP = 0.01  # quality-index points of the finite difference (the monthly gain of a large lab is ≈ 0.01)


def quality_value(model, lab, review: bool = True) -> tuple[float, float, float]:
    """(PVq $ per quality point, paid revenue $/month, paid load reference-Mtok/month) of ``lab`` on the demand
    oracle at posted prices, before capacity limits (module docstring). With ``review`` False the lab keeps the
    PVq of its last review (``lab.pv_quality_usd``) and only revenue and load are read from the oracle."""
    view = dataclasses.replace(firm_view(model, lab), capacity_mtok=math.inf)
    base, revenue, load = model.oracle.firm_totals(view)
    if not review and math.isfinite(lab.pv_quality_usd):
        return lab.pv_quality_usd, revenue, load
    q = max(lab.quality, 1e-9)
    nudged = model.oracle.firm_totals(view, (q + QUALITY_STEP) / q)[0]
    per_point = max(0.0, (nudged - base) / QUALITY_STEP)
    horizon = objective.annuity_factor(lab.cfg.value_horizon_months, model.capital.rate_monthly(lab))
    return per_point * horizon, revenue, load


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
