"""Entry: low-volume providers and wrappers enter when expected margins are positive (issue 3).

At most one entrant per type (per vertical for wrappers) a round, funded by investors with the configured
initial cash. Expectations are simple and documented: an entrant expects the incumbents' average price and an
equal share of their volume (assumption: a naive, symmetric entry forecast).
"""

from __future__ import annotations

import numpy as np

from agents.provider import LowVolumeProvider
from agents.wrapper import WrapperApp
from market import costs, objective


def enter(model) -> None:
    """Add at most one provider and one wrapper per vertical where entry is expected to pay."""
    _provider_entry(model)
    _wrapper_entry(model)


def _provider_entry(model) -> None:
    cfg = model.config.providers
    alive = model.alive(model.providers)
    if not cfg.entry or len(alive) >= cfg.max_n or not alive:
        return
    tokens = np.array([p.last.api_tokens_mtok for p in alive])
    prices = np.array([p.api_price for p in alive])
    if tokens.sum() <= 0:
        return
    price = float((prices * tokens).sum() / tokens.sum())
    volume = float(tokens.sum() / (len(alive) + 1))
    unit = float(costs.unit_cost_at_volume(volume, model.entrant_tech(volume), model.gpu_rent_usd_per_hour))
    profit = (price - unit) * volume - cfg.opex_usd_per_month
    if price > unit * (1.0 + cfg.entry_margin_min) and profit > 0:
        firm = LowVolumeProvider(model, f"provider_{len(model.providers) + 1}", cfg, model.config.pricing)
        firm.api_price, firm.expected_load_mtok = price, volume
        model.providers.append(firm)
        model.register_firm(firm)
        model.choose_open_model(firm)
        model.book.add_seller(firm)
        model.recorder.event(model, "entry", firm, None, cfg.cash_usd)


def _wrapper_entry(model) -> None:
    cfg = model.config.wrappers
    if not cfg.entry:
        return
    for vertical in cfg.per_vertical:
        alive = [w for w in model.alive(model.wrappers) if w.vertical == vertical]
        if not alive or len(alive) >= cfg.max_per_vertical:
            continue
        revenue = sum(w.last.revenue_usd for w in alive)
        profit = sum(w.last.operating_profit_usd for w in alive)
        if revenue <= 0 or profit / revenue < cfg.entry_margin_min:
            continue
        n = sum(1 for w in model.wrappers if w.vertical == vertical) + 1
        rate = objective.monthly_rate(model.config.finance.cost_of_capital_investor)
        firm = WrapperApp(model, f"{vertical}_wrapper_{n}", vertical, cfg, model.config.pricing, rate)
        firm.plan_prices = [float(np.mean([w.plan_prices[k] for w in alive])) for k in range(len(firm.plan_prices))]
        model.wrappers.append(firm)
        model.register_firm(firm)
        model.book.add_wrapper(firm)  # it picks its upstream at its first review, next round
        model.recorder.event(model, "entry", firm, None, cfg.cash_usd, vertical=vertical)
