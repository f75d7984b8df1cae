"""Funding and exit: parents cover losses within a budget, investors fund growing firms, the rest exit.

Assumptions (documented per field in ``FinanceConfig``): firms raise when runway falls below a trigger;
investors fund when revenue grew by at least the hurdle over six months; a round buys a fixed number of
months of burn, capped. A firm with negative cash after funding exits; its debts are written off by creditors.
"""

from __future__ import annotations

from agents.lab import FrontierLab
from agents.wrapper import WrapperApp


def investors_fund(revenue_now: float, revenue_6m_ago: float, hurdle: float) -> bool:
    """Whether investors fund: six-month revenue growth ≥ hurdle (a firm with no past revenue is funded once
    it sells anything, and pre-revenue firms only if the hurdle is ≤ −1)."""
    if revenue_6m_ago <= 0:
        return revenue_now > 0 or hurdle <= -1
    return revenue_now / revenue_6m_ago - 1.0 >= hurdle


def fund_and_exit(model) -> None:
    """Post parent transfers and funding rounds, then remove firms with negative cash (events recorded)."""
    fin, ledger = model.config.finance, model.ledger
    for firm in model.alive([*model.labs, *model.providers, *model.wrappers]):
        burn = max(0.0, -firm.last.get("operating_profit_usd", 0.0))
        if isinstance(firm, FrontierLab) and firm.funding in ("self_funded", "efficient") and burn > 0:
            ledger.post("parents", firm, min(burn, firm.cfg.parent_budget_usd_per_month), "parent_transfer")
        obs = firm.funding_observation(burn)
        if firm.wants_to_raise(obs, fin.runway_trigger_months) and investors_fund(
                obs.revenue_now_usd, obs.revenue_6m_ago_usd, fin.investor_growth_hurdle):
            amount = min(fin.max_raise_usd, burn * fin.raise_months_of_burn)
            if amount > 0:
                ledger.post("investors", firm, amount, "funding_round")
                model.recorder.event(model, "funding_round", firm, None, amount)
    for firm in model.alive([*model.labs, *model.providers, *model.wrappers]):
        if firm.cash_usd < 0:
            exit_firm(model, firm)


def exit_firm(model, firm) -> None:
    """Remove ``firm``: creditors absorb its debt, its customers go to the outside option and must choose
    again, wrappers built on it switch upstream at once (event per move)."""
    model.ledger.post("creditors", firm, -firm.cash_usd, "write_off")
    firm.alive = False
    model.recorder.event(model, "exit", firm, None, 0.0)
    dead = model.book.ids(firm)
    moved = sum(seg.drop_offers(dead) for seg in model.segments)
    model.recorder.event(model, "customers_released", firm, None, moved * model.weight, "customers")
    if isinstance(firm, WrapperApp):
        return
    for w in model.alive(model.wrappers):
        if w.pending_upstream is not None and w.pending_upstream[0] == firm.unique_id:
            w.pending_upstream = None
        if w.upstream_id == firm.unique_id:
            new = w.choose_upstream(model.upstream_offers(), model.round, forced=True)
            model.recorder.event(model, "upstream_switch", w, model.agent_by_id(new) if new is not None else None)
