"""Carrying out labs' strategic moves in the market (the choices are made by value in market/moves/): building and
launching vertical apps, acquiring wrappers, terms for rival wrappers, free-tier size (DESIGN.md Q5, Q1).

Payments go through the ledger; new offers enter the book; customers of an acquired wrapper move to the lab's app
with their plan; wrappers cut off by their supplier choose another at once.
"""

from __future__ import annotations

import numpy as np

from market.moves.entry import wrapper_plan_prices
from market.offers import FREE, WRAPPER


def start_build(model, lab, vertical: str) -> None:
    """Pay for building an app in ``vertical`` now; it launches after ``vertical_build_months``."""
    cfg = lab.cfg
    model.ledger.post(lab, "staff", cfg.vertical_build_cost_usd, "vertical_build")
    lab.building[vertical] = model.round + cfg.vertical_build_months
    model.recorder.event(model, "vertical_build_started", lab, None, cfg.vertical_build_cost_usd, vertical=vertical)


def _open_vertical_app(model, lab, vertical: str, multiplier: float, prices: list[float]) -> list[int]:
    lab.vertical_multiplier[vertical] = multiplier
    lab.vertical_plan_prices[vertical] = list(prices)
    return model.book.add_vertical_app(lab, vertical)


def launch_due_apps(model, lab) -> None:
    """Launch the vertical apps whose build time has passed, each plan priced at the wrappers' mean there."""
    for vertical, due in list(lab.building.items()):
        if due > model.round:
            continue
        del lab.building[vertical]
        _open_vertical_app(model, lab, vertical, lab.cfg.vertical_app_multiplier,
                           wrapper_plan_prices(model, vertical, lab))
        model.recorder.event(model, "vertical_launch", lab, None, 0.0, vertical=vertical)


def acquire(model, lab, wrapper, price_usd: float) -> None:
    """``lab`` buys ``wrapper`` for ``price_usd`` (paid to its owners) and takes over its cash, product and
    customers (who keep their plan, now the lab's vertical app's, without a switching cost)."""
    model.ledger.post(lab, "sellers_of_firms", price_usd, "acquisition")
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
    model.recorder.event(model, "acquisition", lab, wrapper, price_usd, vertical=wrapper.vertical)


def set_terms(model, lab, vertical: str, option: str) -> None:
    """Terms for rival wrappers in ``vertical``: ``normal``, ``surcharge`` (``moves.surcharge_share`` on the
    token price) or ``cut_off`` (no sales; wrappers buying from the lab there choose another supplier at once)."""
    lab.terms[vertical] = option
    lab.surcharge[vertical] = model.config.moves.surcharge_share if option == "surcharge" else 0.0
    if option != "cut_off":
        return
    for w in model.alive(model.wrappers):
        if w.vertical != vertical:
            continue
        if w.pending_upstream is not None and w.pending_upstream[0][0] == lab.unique_id:
            w.pending_upstream = None
        if w.upstream_id == lab.unique_id:
            w.upstream = None
            model.review_sourcing(w, forced=True)


def set_free_tier(model, lab, size: str) -> None:
    """Size the lab's free tier: ``off`` closes it (its users choose again next round), ``small`` or ``large``
    set its cap (customers.free_tier_cap_mtok, moves.free_tier_large_cap_mtok)."""
    lab.free_tier_size = size
    lab.offers_free_tier = size != "off"
    if size == "off":
        model.population.drop_offers(np.array(model.book.ids(lab, FREE)))
