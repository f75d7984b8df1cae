"""Labs moving into verticals their API customers proved: build an app or acquire a wrapper (DESIGN.md Q5).

The lab decides (``agents.strategy.choose_vertical_move``) from what it sees — the token bills wrappers in each
vertical pay it; this module executes: payments through the ledger, new offers in the book, customers of an
acquired wrapper moved to the lab's app, and the surcharge on rival wrappers' tokens.
"""

from __future__ import annotations

import numpy as np

from agents.strategy import VerticalView, choose_vertical_move
from market.config import VERTICALS
from market.offers import WRAPPER


def _views(model, lab) -> list[VerticalView]:
    views = []
    for v in VERTICALS:
        if v == "general_chat":
            continue
        entered = v in lab.vertical_plan_prices or v in lab.building
        cands = tuple((w.unique_id, w.last.revenue_usd, lab.cfg.acquisition_multiple * 12.0 * w.last.revenue_usd)
                      for w in model.alive(model.wrappers) if w.vertical == v and w.last.revenue_usd > 0)
        revenue = sum(c[1] for c in cands)
        views.append(VerticalView(v, revenue, lab.last.bills_in(v), entered, cands))
    return views


def vertical_move(model, lab) -> None:
    """Let ``lab`` decide one vertical move and carry it out (build: pay now, launch later; acquire: now)."""
    cfg = lab.cfg
    move = choose_vertical_move(cfg.vertical_strategy, _views(model, lab), lab.cash_usd,
                                cfg.vertical_entry_revenue_usd, cfg.vertical_build_cost_usd)
    if move is None:
        return
    kind, vertical, target = move
    if kind == "build":
        model.ledger.post(lab, "staff", cfg.vertical_build_cost_usd, "vertical_build")
        lab.building[vertical] = model.round + cfg.vertical_build_months
        model.recorder.event(model, "vertical_build_started", lab, None, cfg.vertical_build_cost_usd,
                             vertical=vertical)
    else:
        acquire(model, lab, model.agent_by_id(target))


def _open_vertical_app(model, lab, vertical: str, multiplier: float, prices: list[float]) -> list[int]:
    lab.vertical_multiplier[vertical] = multiplier
    lab.vertical_plan_prices[vertical] = list(prices)
    lab.surcharge[vertical] = lab.cfg.wrapper_surcharge
    return model.book.add_vertical_app(lab, vertical)


def launch_due_apps(model, lab) -> None:
    """Launch the vertical apps whose build time has passed, each plan priced at the wrappers' mean there."""
    for vertical, due in list(lab.building.items()):
        if due > model.round:
            continue
        del lab.building[vertical]
        rivals = [w.plan_prices for w in model.alive(model.wrappers) if w.vertical == vertical]
        defaults = [p.price_usd_per_month for p in lab.vertical_plans]
        prices = [float(np.mean([r[k] for r in rivals])) if rivals else defaults[k] for k in range(len(defaults))]
        _open_vertical_app(model, lab, vertical, lab.cfg.vertical_app_multiplier, prices)
        model.recorder.event(model, "vertical_launch", lab, None, 0.0, vertical=vertical)


def acquire(model, lab, wrapper) -> None:
    """``lab`` buys ``wrapper``: pays its owners the price (a revenue multiple), takes over its cash, product
    and customers (who keep their plan, now the lab's vertical app's, without a switching cost)."""
    price = lab.cfg.acquisition_multiple * 12.0 * wrapper.last.revenue_usd
    model.ledger.post(lab, "sellers_of_firms", price, "acquisition")
    if wrapper.cash_usd >= 0:
        model.ledger.post(wrapper, lab, wrapper.cash_usd, "acquired_cash")
    else:
        model.ledger.post(lab, wrapper, -wrapper.cash_usd, "acquired_debt")
    new_ids = _open_vertical_app(model, lab, wrapper.vertical,
                                 max(wrapper.product_multiplier, lab.cfg.vertical_app_multiplier), wrapper.plan_prices)
    old = model.book.ids(wrapper, WRAPPER)
    model.population.reassign(np.array(old), np.array(new_ids[:len(old)]))
    wrapper.alive = False
    wrapper.acquired_by = lab.name
    model.recorder.event(model, "acquisition", lab, wrapper, price, vertical=wrapper.vertical)
