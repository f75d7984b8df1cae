"""Per-round rows for model.csv, agents.csv and events.csv (DESIGN.md §5). Units are in the column names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from market import demand, metrics
from market.clearing import Clearing
from market.config import VERTICALS


class Recorder:
    """Collects rows as the run goes; :meth:`frames` returns model, agents and events DataFrames."""

    def __init__(self) -> None:
        self.model_rows: list[dict[str, Any]] = []
        self.agent_rows: list[dict[str, Any]] = []
        self.event_rows: list[dict[str, Any]] = []

    def event(self, model, kind: str, actor, target, amount: float = 0.0, unit: str = "usd",
              vertical: str = "") -> None:
        """Record an event (entry, exit, funding round, acquisition, vertical launch, upstream switch …):
        round, kind, actor, target, amount (in ``unit``) and the vertical it concerns, if any."""
        self.event_rows.append(dict(round=model.round, kind=kind, actor=getattr(actor, "name", ""),
                                    target=getattr(target, "name", "") if target is not None else "",
                                    amount=float(amount), unit=unit,
                                    vertical=vertical or getattr(actor, "vertical", "")))

    def record(self, model, offers: demand.Offers, clearing: Clearing) -> None:
        """Append this round's model row and one row per firm (alive or exited this round)."""
        customers = vertical_offer_cells(model)
        self.model_rows.append(model_row(model, offers, clearing, customers))
        by_vertical = _by_firm(model, customers)
        for firm in [*model.labs, *model.providers, *model.wrappers]:
            if firm.alive or firm.last.get("_recorded_exit") is None:
                row = agent_row(model, firm)
                counts = by_vertical.get(firm.name, np.zeros(len(VERTICALS)))
                row.update({f"customers_{v}": float(c) for v, c in zip(VERTICALS, counts)})
                self.agent_rows.append(row)
                if not firm.alive:
                    firm.last["_recorded_exit"] = model.round

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(model, agents, events) DataFrames."""
        events = pd.DataFrame(self.event_rows, columns=["round", "kind", "actor", "target", "amount", "unit", "vertical"])
        return pd.DataFrame(self.model_rows), pd.DataFrame(self.agent_rows), events


def vertical_customers_by_firm(model) -> dict[str, np.ndarray]:
    """Real customers each firm serves in each vertical, shape (V,) per firm name; a direct API user counts for
    the API seller."""
    return _by_firm(model, vertical_offer_cells(model))


def customer_rows(model, k: int) -> pd.DataFrame:
    """``k`` simulated customers (evenly spaced through the population) with their traits and current choice,
    one row each: segment and vertical names, wtp_usd_per_month, usage_mtok_per_month (at the start; this
    round's use is × usage growth), switching_cost_usd, offer kind and firm of the choice ("" when outside)."""
    s = model.population.sample(k)
    entries = model.book.entries
    names = [seg.name for seg in model.config.customers.segments]
    inside = s["choice"] >= 0
    return pd.DataFrame(dict(
        round=model.round, customer=s["customer"], segment=[names[i] for i in s["segment"]],
        vertical=[VERTICALS[v] for v in s["vertical"]], wtp_usd_per_month=s["wtp_usd"],
        usage_mtok_per_month=s["usage_mtok"], switching_cost_usd=s["switching_cost_usd"],
        offer=[entries[j].kind if ok else "" for j, ok in zip(s["choice"], inside)],
        firm=[entries[j].firm.name if ok else "" for j, ok in zip(s["choice"], inside)]))


def agent_row(model, firm) -> dict[str, Any]:
    """One firm's row: identity, price, unit cost, volume, money, capacity, quality."""
    last = firm.last
    if firm.kind == "wrapper":
        up = model.agent_by_id(firm.upstream_id)
        price, unit, vertical, upstream = firm.price, last.get("unit_cost", np.nan), firm.vertical, up.name if up else ""
        tokens, gpus, util, quality = last.get("tokens_mtok", 0.0), 0.0, np.nan, (up.quality if up else 0) * firm.product_multiplier
        price_unit = "usd_per_month"
    else:
        price, unit, vertical, upstream = firm.api_price, last.get("unit_cost_usd_per_mtok", np.nan), "", ""
        tokens, gpus, util, quality = last.get("paid_tokens_mtok", 0.0), firm.gpus, last.get("utilisation", np.nan), firm.quality
        price_unit = "usd_per_mtok"
    return dict(round=model.round, agent_id=firm.unique_id, type=firm.kind, name=firm.name, funding=firm.funding,
                vertical=vertical, upstream=upstream, alive=firm.alive, price=price, price_unit=price_unit,
                unit_cost=unit, app_price_usd_per_month=getattr(firm, "app_price", np.nan),
                tokens_mtok=tokens, api_tokens_mtok=last.get("api_tokens_mtok", np.nan),
                free_tokens_mtok=last.get("free_tokens_mtok", 0.0),
                subscribers=last.get("subscribers", 0.0), revenue_usd=last.get("revenue_usd", 0.0),
                cost_usd=last.get("cost_usd", 0.0), gross_profit_usd=last.get("gross_profit_usd", 0.0),
                operating_profit_usd=last.get("operating_profit_usd", 0.0), cash_usd=firm.cash_usd,
                gpus=gpus, utilisation=util, quality=quality, subsidy_usd=last.get("subsidy_usd", 0.0),
                funding_inflow_usd=last.get("funding_inflow_usd", 0.0),
                training_gpus=getattr(firm, "training_gpus", 0.0), free_gpus=getattr(firm, "free_gpus", 0.0),
                paid_gpus=getattr(firm, "paid_gpus", 0.0) if firm.kind == "lab" else gpus,
                product_multiplier=getattr(firm, "product_multiplier", np.nan),
                acquired_by=getattr(firm, "acquired_by", None) or "")


def vertical_offer_cells(model) -> np.ndarray:
    """Shape (V, J): real customers of each offer in each vertical, from the population's current choices (after
    this round's exits). Every per-vertical customer measure of the round is read from it."""
    return model.population.counts(len(model.book.entries)).sum(axis=0) * model.weight


def _by_firm(model, cells: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for j, e in enumerate(model.book.entries):
        out[e.firm.name] = out.get(e.firm.name, 0.0) + cells[:, j]
    return out


def _vertical_hhi(model, customers: np.ndarray) -> dict[str, float]:
    """HHI per vertical over firms, by customers served in that vertical (API users count for the API seller)."""
    per_firm = np.array(list(_by_firm(model, customers).values())) if model.book.entries else np.zeros((1, len(VERTICALS)))
    return {f"hhi_{name}": metrics.hhi(per_firm[:, v]) for v, name in enumerate(VERTICALS)}


def _vertical_revenue_shares(model, offers: demand.Offers, clearing: Clearing) -> dict[str, float]:
    """Per vertical other than general chat: labs' and wrappers' shares of what customers there paid this round
    ($/month: apps, vertical apps and direct API use; providers' API sales are in the total, in neither share)."""
    cells_customers = clearing.customers.sum(axis=0)
    cells_served = clearing.cell_served.sum(axis=0)
    revenue = cells_customers * offers.price_month[None, :] + cells_served * offers.price_mtok[None, :]
    # Offers of firms that entered after clearing had no customers this round: only the first J count.
    kind = np.array([e.firm.kind for e in model.book.entries[:offers.n]])
    out = {}
    for v, name in enumerate(VERTICALS):
        if name == "general_chat":
            continue
        total = revenue[v].sum()
        for k in ("lab", "wrapper"):
            out[f"{k}_revenue_share_{name}"] = float(revenue[v, kind == k].sum() / total) if total > 0 else np.nan
    return out


def consumer_surplus_usd(model, offers: demand.Offers) -> float:
    """Expected consumer surplus over the outside option, $/month, real units (see the population's
    ``consumer_surplus``: μ × logit inclusive value on a fixed sample per segment)."""
    return model.population.consumer_surplus(offers, model.usage_factor) * model.weight


def model_row(model, offers: demand.Offers, clearing: Clearing, customers: np.ndarray) -> dict[str, Any]:
    """Market-level figures of the round (units in the names)."""
    labs, provs, wraps = model.alive(model.labs), model.alive(model.providers), model.alive(model.wrappers)
    api_sellers = [*labs, *provs]
    api_rev = np.array([f.last.get("api_revenue_usd", 0.0) for f in api_sellers]) if api_sellers else np.zeros(0)
    api_cost = np.array([f.last.get("api_serving_cost_usd", 0.0) for f in api_sellers]) if api_sellers else np.zeros(0)
    api_tok = np.array([f.last.get("api_tokens_mtok", 0.0) for f in api_sellers]) if api_sellers else np.zeros(0)
    app_rev = sum(f.last.get("app_revenue_usd", 0.0) for f in labs) + sum(f.last.get("revenue_usd", 0.0) for f in wraps)
    app_cost = (sum(f.last.get("app_serving_cost_usd", 0.0) + f.last.get("free_gpu_cost_usd", 0.0) for f in labs)
                + sum(f.last.get("token_bill_usd", 0.0) for f in wraps))
    gp_api, gp_app = float(api_rev.sum() - api_cost.sum()), app_rev - app_cost
    total_tok = api_tok.sum()
    flows = model.ledger.new_round()
    paid = float(sum(f.last.get("paid_tokens_mtok", 0.0) for f in api_sellers))
    free = float(sum(f.last.get("free_tokens_mtok", 0.0) for f in labs))
    lab_gpus = sum(f.gpus for f in labs)
    w = model.weight
    n_customers = model.population.n
    using_ai = float(customers.sum())
    row = dict(
        round=model.round,
        api_price_usd_per_mtok=float(api_rev.sum() / total_tok) if total_tok > 0 else np.nan,
        api_unit_cost_usd_per_mtok=float(api_cost.sum() / total_tok) if total_tok > 0 else np.nan,
        lerner_api=metrics.weighted_lerner(api_rev, api_cost),
        lerner_app=metrics.weighted_lerner(np.array([app_rev]), np.array([app_cost])),
        gross_profit_api_usd=gp_api, gross_profit_app_usd=gp_app,
        app_share_of_gross_profit=metrics.share_of(gp_app, gp_app + gp_api) if gp_app + gp_api > 0 else np.nan,
        hhi_api=metrics.hhi(api_tok),
        **_vertical_hhi(model, customers),
        tokens_paid_mtok=paid, tokens_free_mtok=free,
        tokens_unserved_mtok=float((clearing.offer_tokens - clearing.offer_served).sum() * w),
        customers_spilled=clearing.spilled,
        compute_share_training=sum(f.training_gpus for f in labs) / lab_gpus if lab_gpus else np.nan,
        compute_share_free=sum(f.free_gpus for f in labs) / lab_gpus if lab_gpus else np.nan,
        compute_share_paid=sum(f.paid_gpus for f in labs) / lab_gpus if lab_gpus else np.nan,
        **_vertical_revenue_shares(model, offers, clearing),
        subsidy_usd=sum(f.last.get("subsidy_usd", 0.0) for f in api_sellers),
        consumer_surplus_usd=consumer_surplus_usd(model, offers),
        customers_using_ai=using_ai,
        customers_outside=n_customers * w - using_ai,
        customers_total=n_customers * w,
        revenue_labs_usd=sum(f.last.get("revenue_usd", 0.0) for f in labs),
        revenue_providers_usd=sum(f.last.get("revenue_usd", 0.0) for f in provs),
        revenue_wrappers_usd=sum(f.last.get("revenue_usd", 0.0) for f in wraps),
        n_labs=len(labs), n_providers=len(provs), n_wrappers=len(wraps),
        investor_inflow_usd=flows.get("funding_round", 0.0), parent_inflow_usd=flows.get("parent_transfer", 0.0),
        gpu_spend_usd=flows.get("gpu_cost", 0.0),
        gpu_owned_usd_per_hour=model.gpu_owned_usd_per_hour, gpu_rent_usd_per_hour=model.gpu_rent_usd_per_hour,
        frontier_quality=max((f.quality for f in labs), default=0.0), open_weight_quality=model.open_weight_quality,
        money_total_usd=model.ledger.total(),
    )
    return row
