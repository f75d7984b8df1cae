"""Funding and exit: parents cover losses within a budget, investors fund by their appetite, the rest exit.

Investors fund a firm that asks (runway below the trigger) when

    appetite × (six-month revenue growth) + (1 − appetite) × (operating margin) ≥ 0

so disciplined money (appetite 0) funds only firms that make money, and growth-at-any-cost money (appetite 1)
funds any firm whose revenue grows (assumption: a one-parameter reading of DESIGN.md Q6's "investor appetite").
A round buys ``raise_months_of_burn`` months of burn, capped. A firm with negative cash after funding exits;
creditors write off its debt.
"""

from __future__ import annotations

import dataclasses

from agents.lab import FrontierLab
from agents.wrapper import WrapperApp


def investors_fund(revenue_now: float, revenue_6m_ago: float, operating_profit: float, appetite: float) -> bool:
    """Whether investors fund: appetite-weighted revenue growth plus margin is ≥ 0 ($/month inputs).

    A firm without revenue six months ago counts as growing by 100 % if it sells anything now (assumption: new
    firms are judged on traction); a firm without revenue now has margin −1.
    """
    if revenue_6m_ago > 0:
        growth = revenue_now / revenue_6m_ago - 1.0
    else:
        growth = 1.0 if revenue_now > 0 else 0.0
    margin = max(-1.0, operating_profit / revenue_now) if revenue_now > 0 else -1.0
    return appetite * growth + (1.0 - appetite) * margin >= 0.0


def investor_credit(model, firm) -> float:
    """Money ($) an investor-funded firm could raise now: up to the largest round (``max_raise_usd``) if investors
    would fund it on its current figures, else nothing (parents' money is budgeted separately). Assumption: a
    firm investors back plans its fleet as if a full round were on offer (the 2025 mega-rounds)."""
    if firm.funding != "investor":
        return 0.0
    obs = firm.funding_observation(0.0)
    fin = model.config.finance
    op = firm.last.operating_profit_usd
    ok = investors_fund(obs.revenue_now_usd, obs.revenue_6m_ago_usd, op, fin.investor_appetite)
    return fin.max_raise_usd if ok else 0.0


def fund_and_exit(model) -> None:
    """Post parent transfers and funding rounds, then remove firms with negative cash (events recorded)."""
    fin, ledger = model.config.finance, model.ledger
    for firm in model.alive([*model.labs, *model.providers, *model.wrappers]):
        inflow = 0.0
        op = firm.last.operating_profit_usd
        burn = max(0.0, -op)
        if isinstance(firm, FrontierLab) and firm.funding in ("self_funded", "efficient") and burn > 0:
            transfer = min(burn, firm.cfg.parent_budget_usd_per_month)
            ledger.post("parents", firm, transfer, "parent_transfer")
            inflow += transfer
        obs = firm.funding_observation(burn)
        if firm.wants_to_raise(obs, fin.runway_trigger_months) and investors_fund(
                obs.revenue_now_usd, obs.revenue_6m_ago_usd, op, fin.investor_appetite):
            amount = min(fin.max_raise_usd, burn * fin.raise_months_of_burn)
            if amount > 0:
                ledger.post("investors", firm, amount, "funding_round")
                model.recorder.event(model, "funding_round", firm, None, amount)
                inflow += amount
        firm.last = dataclasses.replace(firm.last, funding_inflow_usd=inflow)
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
    moved = model.population.drop_offers(dead)
    model.recorder.event(model, "customers_released", firm, None, moved * model.weight, "customers")
    if isinstance(firm, WrapperApp):
        return
    for w in model.alive(model.wrappers):
        if w.pending_upstream is not None and w.pending_upstream[0][0] == firm.unique_id:
            w.pending_upstream = None
        if w.upstream_id == firm.unique_id:
            w.upstream = None
            model.review_sourcing(w, forced=True)
