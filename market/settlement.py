"""Settlement: revenues, GPU costs (idle capacity still costs), wrapper token bills, operating costs.

GPU costs: a lab's owned GPUs cost their running cost in cash (``gpu_running``, to GPU vendors; their purchase was
paid on delivery, ``market.fleets``) and the books charge depreciation of capex / life a GPU-month; rented GPUs
(labs' and hosts') cost this month's cleared rent (``gpu_rent``, to clouds). A lab's uses are charged the
fleet's average cost per GPU-hour; its marginal cost per Mtok is at its shadow price of a GPU-hour.

Every payment is a ledger posting (docs/design.md, "One round", step 6), so money is conserved by construction;
each firm's figures of the round become its typed record (agents/records.py), ``firm.last``.
"""

from __future__ import annotations

import numpy as np

from agents.records import LabRound, ProviderRound, WrapperRound
from market import costs, demand
from market.clearing import Clearing
from market.offers import API, FREE, PLAN, VERTICAL, WRAPPER


def offer_totals(model, offers: demand.Offers, clearing: Clearing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per offer, real units, shape (J,) each: customers (count), tokens served (Mtok/month), revenue ($/month):
    flat prices × customers, plus per-token and overage prices × the tokens served."""
    customers = clearing.customers.sum(axis=(0, 1)) * model.weight
    share = clearing.served_share
    tokens = clearing.offer_tokens * share * model.weight
    extra = clearing.overage.sum(axis=(0, 1)) * share * model.weight
    over_price = np.where(np.isfinite(offers.overage_usd_per_mtok), offers.overage_usd_per_mtok, 0.0)
    revenue = offers.price_month * customers + offers.price_mtok * (tokens - extra) + over_price * extra
    return customers, tokens, revenue


def _sum(values: np.ndarray, ids: list[int]) -> float:
    return float(values[ids].sum()) if ids else 0.0


def settle(model, offers: demand.Offers, clearing: Clearing) -> None:
    """Post the round's payments and set each alive firm's ``last`` record (all $ per month, Mtok)."""
    book, ledger = model.book, model.ledger
    customers, tokens, revenue = offer_totals(model, offers, clearing)
    model.offer_customers, model.offer_tokens, model.offer_revenue = customers, tokens, revenue
    hours = costs.HOURS_PER_MONTH
    sellers = {f.unique_id: f for f in model.alive([*model.labs, *model.providers])}
    bills = {uid: 0.0 for uid in sellers}
    bills_by_vertical: dict[int, dict[str, float]] = {uid: {} for uid in sellers}
    wrapper_tokens = {uid: 0.0 for uid in sellers}
    wrapper_equiv = {uid: 0.0 for uid in sellers}
    r = model.round

    for j, e in enumerate(book.entries):
        if j < offers.n and offers.alive[j] and revenue[j] > 0:
            ledger.post("customers", e.firm, float(revenue[j]), "subscriptions" if e.kind != API else "api_sales")

    for w in model.alive(model.wrappers):
        j = book.ids(w, WRAPPER)
        subs, tok, rev = _sum(customers, j), _sum(tokens, j), _sum(revenue, j)
        up, tier = book.upstream_of(w)
        bill = 0.0
        if up is not None and up.unique_id in sellers:
            bill = tok * book.wrapper_token_price(w)
            ledger.post(w, up, bill, "token_bills")
            bills[up.unique_id] += bill
            by_v = bills_by_vertical[up.unique_id]
            by_v[w.vertical] = by_v.get(w.vertical, 0.0) + bill
            wrapper_tokens[up.unique_id] += tok
            wrapper_equiv[up.unique_id] += tok * (up.tier_size(tier) if up.kind == "lab" else 1.0)
        opex = w.cfg.opex_usd_per_month
        ledger.post(w, "staff", opex, "opex")
        w.last = WrapperRound(round=r, revenue_usd=rev, cost_usd=bill, gross_profit_usd=rev - bill, opex_usd=opex,
                              operating_profit_usd=rev - bill - opex, subscribers=subs, tokens_mtok=tok,
                              token_bill_usd=bill, unit_cost_usd_per_subscriber=bill / subs if subs > 0 else np.nan)
        w.record_revenue(rev)

    gm = model.gpus
    own_hour, rent = gm.owned_book_cost(), gm.rent
    depreciation_month = gm.cfg.capex_usd_per_gpu / gm.cfg.life_months
    for lab in model.alive(model.labs):
        uid = lab.unique_id
        running = lab.owned_gpus * gm.cfg.opex_usd_per_gpu_hour * hours
        rent_usd = lab.rented_gpus * rent * hours
        depreciation = lab.owned_gpus * depreciation_month
        gpu_cost = running + rent_usd + depreciation
        price_gpu = gpu_cost / lab.gpus if lab.gpus > 0 else own_hour * hours  # average cost of a GPU-month
        tech = model.tech_of(lab)
        api_ids, free_ids = book.ids(lab, API), book.ids(lab, FREE)
        app_ids = book.ids(lab, PLAN) + book.ids(lab, VERTICAL)
        paid_equiv = float(clearing.pool_served[book.paid_pool[uid]])
        api_tok = _sum(tokens, api_ids) + wrapper_tokens[uid]
        api_equiv = float((tokens[api_ids] * offers.size[api_ids]).sum()) + wrapper_equiv[uid] if api_ids else wrapper_equiv[uid]
        app_tok, free_tok = _sum(tokens, app_ids), _sum(tokens, free_ids)
        app_equiv = float((tokens[app_ids] * offers.size[app_ids]).sum()) if app_ids else 0.0
        paid_cost, free_cost, training_cost = lab.paid_gpus * price_gpu, lab.free_gpus * price_gpu, lab.training_gpus * price_gpu
        unit = paid_cost / paid_equiv if paid_equiv > 0 else np.nan
        unit0 = 0.0 if np.isnan(unit) else unit
        subsidy = 0.0
        for j in api_ids:  # each tier against the unit cost of its size
            subsidy += max(0.0, unit0 * offers.size[j] - offers.price_mtok[j]) * tokens[j]
        for w in model.alive(model.wrappers):
            up, tier = book.upstream_of(w)
            if up is lab:
                wt = _sum(tokens, book.ids(w, WRAPPER))
                subsidy += max(0.0, unit0 * lab.tier_size(tier) - book.wrapper_token_price(w)) * wt
        lab.subsidy_spent_usd += subsidy
        api_rev = _sum(revenue, api_ids) + bills[uid]
        app_rev = _sum(revenue, app_ids)
        opex = lab.cfg.opex_usd_per_month
        if running > 0:
            ledger.post(lab, "gpu_vendors", running, "gpu_running")
        if rent_usd > 0:
            ledger.post(lab, "clouds", rent_usd, "gpu_rent")
        ledger.post(lab, "staff", opex, "opex")
        cap = float(clearing.pool_capacity[book.paid_pool[uid]])
        lab.last = LabRound(
            round=r, revenue_usd=api_rev + app_rev, cost_usd=paid_cost + free_cost,
            gross_profit_usd=api_rev + app_rev - paid_cost - free_cost, opex_usd=opex,
            operating_profit_usd=api_rev + app_rev - gpu_cost - opex,
            api_revenue_usd=api_rev, wrapper_bills_usd=bills[uid], app_revenue_usd=app_rev,
            paid_tokens_mtok=api_tok + app_tok, paid_equiv_mtok=paid_equiv, api_tokens_mtok=api_tok,
            api_equiv_mtok=api_equiv, app_tokens_mtok=app_tok, free_tokens_mtok=free_tok,
            subscribers=_sum(customers, app_ids), free_users=_sum(customers, free_ids),
            gpu_cost_usd=gpu_cost, paid_gpu_cost_usd=paid_cost, free_gpu_cost_usd=free_cost,
            training_cost_usd=training_cost, rd_cost_usd=lab.rd_gpus * price_gpu, rent_usd=rent_usd,
            capex_usd=lab.capex_usd, depreciation_usd=depreciation,
            api_serving_cost_usd=unit0 * api_equiv,
            app_serving_cost_usd=unit0 * app_equiv, unit_cost_usd_per_mtok=unit,
            marginal_cost_usd_per_mtok=float(costs.marginal_cost_usd_per_mtok(tech, max(model.gpu_value_usd_per_hour(lab), 1e-9))),
            utilisation=paid_equiv / cap if cap > 0 else 0.0, subsidy_usd=subsidy,
            bills_by_vertical=tuple(sorted(bills_by_vertical[uid].items())))
        lab.record_revenue(api_rev + app_rev)

    for prov in model.alive(model.providers):
        uid = prov.unique_id
        tech = model.tech_of(prov)
        tok = float(clearing.pool_served[book.paid_pool[uid]])
        gpu_cost = prov.gpus * rent * hours
        rev = _sum(revenue, book.ids(prov, API)) + bills[uid]
        unit = gpu_cost / tok if tok > 0 else np.nan
        subsidy = max(0.0, unit - prov.api_price) * tok if np.isfinite(unit) else 0.0
        opex = prov.cfg.opex_usd_per_month
        if gpu_cost > 0:
            ledger.post(prov, "clouds", gpu_cost, "gpu_rent")
        ledger.post(prov, "staff", opex, "opex")
        cap = float(costs.capacity_mtok_per_month(prov.gpus, tech)) if prov.gpus > 0 else 0.0
        prov.last = ProviderRound(
            round=r, revenue_usd=rev, cost_usd=gpu_cost, gross_profit_usd=rev - gpu_cost, opex_usd=opex,
            operating_profit_usd=rev - gpu_cost - opex, api_revenue_usd=rev, api_tokens_mtok=tok,
            paid_tokens_mtok=tok, gpus=prov.gpus, gpu_cost_usd=gpu_cost, unit_cost_usd_per_mtok=unit,
            marginal_cost_usd_per_mtok=float(costs.marginal_cost_usd_per_mtok(tech, rent)),
            utilisation=tok / cap if cap > 0 else 0.0, subsidy_usd=subsidy)
        prov.record_revenue(rev)
    model.last_api_tokens_mtok = sum(f.last.api_tokens_mtok for f in sellers.values())
