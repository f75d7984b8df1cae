"""Settlement: revenues, GPU costs (idle capacity still costs), wrapper token bills, operating costs.

Every payment is a ledger posting (DESIGN.md §3 step 5), so money is conserved by construction; the per-firm
figures of the round are stored on ``firm.last`` for pricing, funding and recording.
"""

from __future__ import annotations

import numpy as np

from market import costs, demand
from market.clearing import Clearing
from market.offers import API, APP, FREE, VERTICAL, WRAPPER


def offer_totals(model, offers: demand.Offers, clearing: Clearing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per offer, real units, shape (J,) each: customers (count, from the clearing's tally of this round's
    choices), tokens served (Mtok/month), revenue ($/month)."""
    customers = clearing.customers.sum(axis=(0, 1)) * model.weight
    tokens = clearing.offer_served * model.weight
    revenue = offers.price_month * customers + offers.price_mtok * tokens
    return customers, tokens, revenue


def _sum(values: np.ndarray, ids: list[int]) -> float:
    return float(values[ids].sum()) if ids else 0.0


def settle(model, offers: demand.Offers, clearing: Clearing) -> None:
    """Post the round's payments and store each firm's figures in ``firm.last`` (all $ per month, Mtok)."""
    book, ledger = model.book, model.ledger
    customers, tokens, revenue = offer_totals(model, offers, clearing)
    model.offer_customers, model.offer_tokens, model.offer_revenue = customers, tokens, revenue
    hours = costs.HOURS_PER_MONTH
    sellers = {f.unique_id: f for f in model.alive([*model.labs, *model.providers])}
    bills = {uid: 0.0 for uid in sellers}
    bills_by_vertical: dict[int, dict[str, float]] = {uid: {} for uid in sellers}
    wrapper_tokens = {uid: 0.0 for uid in sellers}

    for j, e in enumerate(book.entries):
        if offers.alive[j] and revenue[j] > 0:
            ledger.post("customers", e.firm, float(revenue[j]), "subscriptions" if e.kind != API else "api_sales")

    for w in model.alive(model.wrappers):
        j = book.ids(w, WRAPPER)
        subs, tok, rev = _sum(customers, j), _sum(tokens, j), _sum(revenue, j)
        up = sellers.get(w.upstream_id)
        # A lab that entered the wrapper's vertical may charge it a surcharge on the list price.
        bill = tok * up.api_price * (1.0 + getattr(up, "surcharge", {}).get(w.vertical, 0.0)) if up is not None else 0.0
        if up is not None:
            ledger.post(w, up, bill, "token_bills")
            bills[up.unique_id] += bill
            by_v = bills_by_vertical[up.unique_id]
            by_v[w.vertical] = by_v.get(w.vertical, 0.0) + bill
            wrapper_tokens[up.unique_id] += tok
        ledger.post(w, "staff", w.cfg.opex_usd_per_month, "opex")
        w.last = dict(revenue_usd=rev, subscribers=subs, tokens_mtok=tok, token_bill_usd=bill,
                      cost_usd=bill, gross_profit_usd=rev - bill, opex_usd=w.cfg.opex_usd_per_month,
                      operating_profit_usd=rev - bill - w.cfg.opex_usd_per_month, price=w.price,
                      unit_cost=bill / subs if subs > 0 else np.nan)
        w.record_revenue(rev)

    for lab in model.alive(model.labs):
        p = model.gpu_owned_usd_per_hour * hours
        api_ids, free_ids = book.ids(lab, API), book.ids(lab, FREE)
        app_ids = book.ids(lab, APP) + book.ids(lab, VERTICAL)
        paid_tok = float(clearing.pool_served[book.paid_pool[lab.unique_id]])
        api_tok = _sum(tokens, api_ids) + wrapper_tokens[lab.unique_id]
        app_tok, free_tok = _sum(tokens, app_ids), _sum(tokens, free_ids)
        paid_cost, free_cost, training_cost = lab.paid_gpus * p, lab.free_gpus * p, lab.training_gpus * p
        unit = paid_cost / paid_tok if paid_tok > 0 else np.nan
        subsidy = max(0.0, unit - lab.api_price) * api_tok if np.isfinite(unit) else 0.0
        lab.subsidy_spent_usd += subsidy
        api_rev = _sum(revenue, api_ids) + bills[lab.unique_id]
        app_rev = _sum(revenue, app_ids)
        ledger.post(lab, "gpu_vendors", lab.gpus * p, "gpu_cost")
        ledger.post(lab, "staff", lab.cfg.opex_usd_per_month, "opex")
        cap = float(clearing.pool_capacity[book.paid_pool[lab.unique_id]])
        unit_or0 = 0.0 if np.isnan(unit) else unit
        lab.last = dict(
            revenue_usd=api_rev + app_rev, api_revenue_usd=api_rev, app_revenue_usd=app_rev,
            paid_tokens_mtok=paid_tok, api_tokens_mtok=api_tok, app_tokens_mtok=app_tok, free_tokens_mtok=free_tok,
            subscribers=_sum(customers, app_ids), free_users=_sum(customers, free_ids),
            paid_gpu_cost_usd=paid_cost, free_gpu_cost_usd=free_cost, training_cost_usd=training_cost,
            api_serving_cost_usd=unit_or0 * api_tok, app_serving_cost_usd=unit_or0 * app_tok,
            unit_cost_usd_per_mtok=unit, cost_usd=paid_cost + free_cost,
            gross_profit_usd=api_rev + app_rev - paid_cost - free_cost, opex_usd=lab.cfg.opex_usd_per_month,
            operating_profit_usd=api_rev + app_rev - lab.gpus * p - lab.cfg.opex_usd_per_month,
            utilisation=paid_tok / cap if cap > 0 else 0.0, price=lab.api_price, subsidy_usd=subsidy,
            bills_by_vertical=bills_by_vertical[lab.unique_id])
        lab.record_revenue(api_rev + app_rev)

    for prov in model.alive(model.providers):
        tech = model.tech_of(prov)
        tok = float(clearing.pool_served[book.paid_pool[prov.unique_id]])
        prov.gpus = float(min(costs.gpus_required(tok, tech), prov.cfg.max_gpus))
        gpu_cost = prov.gpus * model.gpu_rent_usd_per_hour * hours
        rev = _sum(revenue, book.ids(prov, API)) + bills[prov.unique_id]
        unit = gpu_cost / tok if tok > 0 else np.nan
        subsidy = max(0.0, unit - prov.api_price) * tok if np.isfinite(unit) else 0.0
        ledger.post(prov, "gpu_vendors", gpu_cost, "gpu_cost")
        ledger.post(prov, "staff", prov.cfg.opex_usd_per_month, "opex")
        cap = float(costs.capacity_mtok_per_month(prov.gpus, tech)) if prov.gpus > 0 else 0.0
        prov.last = dict(revenue_usd=rev, api_revenue_usd=rev, paid_tokens_mtok=tok, api_tokens_mtok=tok,
                         unit_cost_usd_per_mtok=gpu_cost / tok if tok > 0 else np.nan, cost_usd=gpu_cost,
                         api_serving_cost_usd=gpu_cost, gross_profit_usd=rev - gpu_cost,
                         opex_usd=prov.cfg.opex_usd_per_month,
                         operating_profit_usd=rev - gpu_cost - prov.cfg.opex_usd_per_month,
                         utilisation=tok / cap if cap > 0 else 0.0, price=prov.api_price, subsidy_usd=subsidy)
        prov.record_revenue(rev)
    model.last_api_tokens_mtok = sum(f.last.get("api_tokens_mtok", 0.0) for f in sellers.values())
