"""Per-round rows for model.csv, agents.csv and events.csv (DESIGN.md §5). Units are in the column names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from market import demand, metrics, value
from market.clearing import Clearing
from market.config import VERTICALS


class Recorder:
    """Collects rows as the run goes; :meth:`frames` returns model, agents and events DataFrames."""

    def __init__(self) -> None:
        self.model_rows: list[dict[str, Any]] = []
        self.agent_rows: list[dict[str, Any]] = []
        self.event_rows: list[dict[str, Any]] = []
        self._exit_recorded: set[int] = set()
        self._paid_in: dict[int, float] = {}  # agent id → owners' paid-in capital to date ($)

    def event(self, model, kind: str, actor, target, amount: float = 0.0, unit: str = "usd",
              vertical: str = "", detail: str = "") -> None:
        """Record an event (entry, exit, funding round, acquisition, vertical launch, upstream switch, decision …):
        round, kind, actor, target (a firm, or a text such as a decision's option), amount (in ``unit``), the
        vertical it concerns, if any, and a compact JSON ``detail`` (a decision's options and their forecast
        values)."""
        self.event_rows.append(dict(round=model.round, kind=kind, actor=getattr(actor, "name", ""),
                                    target=target if isinstance(target, str) else getattr(target, "name", ""),
                                    amount=float(amount), unit=unit,
                                    vertical=vertical or getattr(actor, "vertical", ""), detail=detail))

    def record(self, model, offers: demand.Offers, clearing: Clearing) -> None:
        """Append this round's model row and one row per firm (alive, or gone this round: exited or acquired).

        The value-capture and return-on-capital totals of the model row are sums over the same firms' rows
        (``market/value.py``)."""
        customers = vertical_offer_cells(model)
        firms = [f for f in [*model.labs, *model.providers, *model.wrappers]
                 if f.alive or f.unique_id not in self._exit_recorded]
        records = {f.unique_id: this_round(model, f) for f in firms}
        for f in firms:  # paid-in capital: initial cash, then every funding inflow (investor rounds, parents)
            start = self._paid_in.get(f.unique_id, float(f.cfg.cash_usd))
            self._paid_in[f.unique_id] = start + records[f.unique_id].funding_inflow_usd
        row = model_row(model, offers, clearing, customers)
        row.update(value.market_columns([(f.kind, records[f.unique_id], self._paid_in[f.unique_id]) for f in firms],
                                        row["consumer_surplus_usd"], row["gpu_spend_usd"],
                                        model.config.outcomes.gpu_supplier_margin))
        self.model_rows.append(row)
        by_vertical = _by_firm(model, customers)
        finance = model.config.finance
        for firm in firms:
            row = agent_row(model, firm)
            row.update(value.firm_columns(firm.kind, records[firm.unique_id], self._paid_in[firm.unique_id],
                                          value.cost_of_capital_per_year(finance, firm.funding)))
            counts = by_vertical.get(firm.name, np.zeros(len(VERTICALS)))
            row.update({f"customers_{v}": float(c) for v, c in zip(VERTICALS, counts)})
            self.agent_rows.append(row)
            if not firm.alive:
                self._exit_recorded.add(firm.unique_id)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(model, agents, events) DataFrames."""
        events = pd.DataFrame(self.event_rows, columns=list(EVENT_COLUMNS))
        return pd.DataFrame(self.model_rows), pd.DataFrame(self.agent_rows), events


EVENT_COLUMNS = ("round", "kind", "actor", "target", "amount", "unit", "vertical", "detail")


def settled(model, firms: list) -> list:
    """The firms of ``firms`` that settled this round (alive now, or exited after settling): the ones whose
    figures belong in this round's totals. A wrapper acquired before settlement did not settle."""
    return [f for f in firms if f.last.round == model.round]


def this_round(model, firm):
    """The firm's record if it settled this round, else an empty one (zeros): a firm gone before settlement
    sold nothing this round."""
    return firm.last if firm.last.round == model.round else type(firm.last)(round=model.round)


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


def _price(firm, kind: str, index: int) -> float:
    prices = {"api": getattr(firm, "tier_prices", None), "plan": getattr(firm, "plan_prices", None)}[kind]
    return float(prices[index]) if prices is not None and index < len(prices) else np.nan


def agent_row(model, firm) -> dict[str, Any]:
    """One firm's row: identity, the API conduct it plays (labs: best_response, penetration or premium; others
    best_response), prices, unit and marginal cost, volume, money, capacity, quality, deviation gain."""
    last = this_round(model, firm)
    kind = firm.kind
    up = model.book.upstream_of(firm)[0] if kind == "wrapper" else None
    if kind == "wrapper":
        price, price_unit, unit, mc = firm.plan_prices[0], "usd_per_month", last.unit_cost_usd_per_subscriber, np.nan
        tokens, gpus, util = last.tokens_mtok, 0.0, np.nan
        ids = [j for j in model.book.ids(firm) if j < model.current_offers.n]
        quality = float(model.current_offers.quality[ids[0]]) if ids else 0.0
        api_tokens = np.nan
    else:
        price, price_unit = (firm.tier_prices[0] if kind == "lab" else firm.api_price), "usd_per_mtok"
        unit, mc = last.unit_cost_usd_per_mtok, last.marginal_cost_usd_per_mtok
        tokens, gpus, util, quality = last.paid_tokens_mtok, firm.gpus, last.utilisation, firm.quality
        api_tokens = last.api_tokens_mtok
    lab = kind == "lab"
    return dict(round=model.round, agent_id=firm.unique_id, type=kind, name=firm.name, funding=firm.funding,
                vertical=getattr(firm, "vertical", ""), upstream=up.name if up is not None else "",
                alive=firm.alive, conduct=getattr(firm, "conduct", "best_response"), price=price, price_unit=price_unit, unit_cost=unit, marginal_cost=mc,
                api_small_price_usd_per_mtok=_price(firm, "api", 1) if lab else np.nan,
                plan1_price_usd_per_month=_price(firm, "plan", 0) if kind != "provider" else np.nan,
                plan2_price_usd_per_month=_price(firm, "plan", 1) if kind != "provider" else np.nan,
                tokens_mtok=tokens, api_tokens_mtok=api_tokens,
                free_tokens_mtok=last.free_tokens_mtok if lab else 0.0,
                subscribers=getattr(last, "subscribers", 0.0), free_users=last.free_users if lab else 0.0,
                revenue_usd=last.revenue_usd,
                api_revenue_usd=getattr(last, "api_revenue_usd", 0.0), app_revenue_usd=getattr(last, "app_revenue_usd", 0.0),
                cost_usd=last.cost_usd, gross_profit_usd=last.gross_profit_usd,
                operating_profit_usd=last.operating_profit_usd, cash_usd=firm.cash_usd,
                gpus=gpus, utilisation=util, quality=quality, subsidy_usd=getattr(last, "subsidy_usd", 0.0),
                funding_inflow_usd=last.funding_inflow_usd,
                training_gpus=getattr(firm, "training_gpus", 0.0), free_gpus=getattr(firm, "free_gpus", 0.0),
                paid_gpus=getattr(firm, "paid_gpus", 0.0) if lab else gpus,
                product_multiplier=getattr(firm, "product_multiplier", np.nan),
                acquired_by=getattr(firm, "acquired_by", None) or "",
                deviation_gain_usd=firm.deviation_gain_usd, deviation_gain_share=firm.deviation_gain_share,
                **compute_columns(model, firm), **capital_columns(model, firm, last))


USES = ("paid", "free", "training", "inference_rd")


def compute_columns(model, firm) -> dict[str, Any]:
    """GPUs and know-how of a seller: owned and rented GPUs, R&D and idle GPUs, each use's shadow value at its
    allocation and the lab's shadow price of a GPU-hour ($/GPU-hour), its present value per quality point ($) and
    the expected life of a point's worth at its last review (months, ``inf``: nothing erodes it), GPUs bought this month (capex $) and rent paid; serving skill, cache-hit rate and cumulative served volume
    (Mtok). Wrappers: NaN."""
    if firm.kind == "wrapper":
        return {k: np.nan for k in COMPUTE_COLUMNS}
    lab = firm.kind == "lab"
    split = getattr(firm, "split", None) if lab else None
    values = dict(zip(split.names, split.marginal_value_usd_per_gpu_hour)) if split is not None else {}
    state = model.skill_state(firm)
    tech = model.tech_of(firm) if firm.alive else None
    last = this_round(model, firm)
    return dict(
        owned_gpus=firm.owned_gpus if lab else 0.0, rented_gpus=firm.rented_gpus if lab else firm.gpus,
        rd_gpus=firm.rd_gpus if lab else 0.0, idle_gpus=firm.idle_gpus if lab else 0.0,
        **{f"shadow_{u}_usd_per_gpu_hour": float(values.get(u, np.nan)) for u in USES},
        gpu_value_usd_per_gpu_hour=firm.gpu_value_usd_per_hour if lab else model.gpu_rent_usd_per_hour,
        pv_quality_usd=firm.pv_quality_usd if lab else np.nan,
        quality_life_months=firm.quality_forecast.life_months if lab and firm.quality_forecast else np.nan,
        capex_usd=last.capex_usd, rent_usd=last.rent_usd if lab else last.gpu_cost_usd,
        serving_skill=tech.skill if tech is not None else np.nan,
        cache_hit_rate=tech.cache_hit_rate if tech is not None else np.nan,
        cumulative_mtok=state.cumulative_mtok, model_size=firm.cfg.compute_per_token if lab else firm.model_size)


COMPUTE_COLUMNS = ("owned_gpus", "rented_gpus", "rd_gpus", "idle_gpus",
                   *(f"shadow_{u}_usd_per_gpu_hour" for u in USES), "gpu_value_usd_per_gpu_hour", "pv_quality_usd",
                   "quality_life_months", "capex_usd", "rent_usd", "serving_skill", "cache_hit_rate", "cumulative_mtok", "model_size")


def capital_columns(model, firm, last) -> dict[str, Any]:
    """The firm's cap table and owners' flows: the original owners' share, what investors have paid in ($), the
    round's cash flow ($/month: operating profit + depreciation − capex), parent transfer, owners' flow (their part of
    exit proceeds less the parent's transfers, $), investors' loss at exit ($), and the market value of the
    equity (``market_value``)."""
    table = model.capital.cap_table(firm)
    parent, owners_exit, loss = model.capital.books[firm.unique_id].flows(model.round)
    return dict(owners_share=table.owners_share,
                investors_paid_in_usd=float(sum(table.paid_in_usd[1:])), cash_flow_usd=last.cash_flow_usd,
                parent_transfer_usd=parent, owners_flow_usd=owners_exit - parent, investor_loss_usd=loss,
                market_value_usd=market_value(model, firm))


MARKET_VALUE_EVERY = 12  # months between valuations of every firm (and in the last round): a DCF per firm is not free


def market_value(model, firm) -> float:
    """The equity's market value ($, the highest investor valuation; ``market.finance.CapitalMarket``) every
    ``MARKET_VALUE_EVERY`` rounds and in the run's last round (what owners' value uses), NaN in between; 0 after
    an exit."""
    if not firm.alive:
        return 0.0
    if model.round % MARKET_VALUE_EVERY and model.round < model.config.world.rounds:
        return np.nan
    return model.capital.market_value_usd(firm)


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
    """Per vertical other than general chat: what customers there paid this round (``vertical_revenue_<v>_usd``,
    $/month: apps, vertical apps and direct API use) and labs' and wrappers' shares of it (providers' API sales
    are in the total, in neither share)."""
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
        out[f"vertical_revenue_{name}_usd"] = float(total * model.weight)  # the cells count simulated customers
        for k in ("lab", "wrapper"):
            out[f"{k}_revenue_share_{name}"] = float(revenue[v, kind == k].sum() / total) if total > 0 else np.nan
    return out


def consumer_surplus_usd(model, offers: demand.Offers) -> float:
    """Expected consumer surplus over the outside option, $/month, real units (see the population's
    ``consumer_surplus``: μ × logit inclusive value on a fixed sample per segment)."""
    return model.population.consumer_surplus(offers, model.usage_factor) * model.weight


def model_row(model, offers: demand.Offers, clearing: Clearing, customers: np.ndarray) -> dict[str, Any]:
    """Market-level figures of the round (units in the names)."""
    labs, provs, wraps = settled(model, model.labs), settled(model, model.providers), settled(model, model.wrappers)
    api_sellers = [*labs, *provs]
    prov_cost = lambda f: f.last.gpu_cost_usd  # noqa: E731 (a host's whole cost serves its API)
    api_rev = np.array([f.last.api_revenue_usd for f in api_sellers]) if api_sellers else np.zeros(0)
    api_cost = np.array([f.last.api_serving_cost_usd if f.kind == "lab" else prov_cost(f) for f in api_sellers]) if api_sellers else np.zeros(0)
    api_tok = np.array([f.last.api_tokens_mtok for f in api_sellers]) if api_sellers else np.zeros(0)
    api_mc = np.array([value.api_marginal_cost_usd(f.kind, f.last) for f in api_sellers]) if api_sellers else np.zeros(0)
    app_rev = sum(f.last.app_revenue_usd for f in labs) + sum(f.last.revenue_usd for f in wraps)
    # A lab's apps bear the part of its serving cost its API does not (free tier included), so that the two
    # layers' gross profits add up to the firms' (market/value.py: lab_gross_profit_split).
    app_cost = (sum(f.last.cost_usd - f.last.api_serving_cost_usd for f in labs)
                + sum(f.last.token_bill_usd for f in wraps))
    gp_api, gp_app = float(api_rev.sum() - api_cost.sum()), app_rev - app_cost
    total_tok = api_tok.sum()
    flows = model.ledger.new_round()
    paid = float(sum(f.last.paid_tokens_mtok for f in api_sellers))
    free = float(sum(f.last.free_tokens_mtok for f in labs))
    # The fleet each lab split this month: a lab that exits at settlement has sold its GPUs (gpus = 0) but used them.
    lab_gpus = sum(f.paid_gpus + f.free_gpus + f.training_gpus + f.rd_gpus + f.idle_gpus for f in labs)
    shares = np.array([f.deviation_gain_share for f in [*api_sellers, *wraps] if np.isfinite(f.deviation_gain_share)])
    w = model.weight
    n_customers = model.population.n
    using_ai = float(customers.sum())
    row = dict(
        round=model.round,
        api_price_usd_per_mtok=float(api_rev.sum() / total_tok) if total_tok > 0 else np.nan,
        api_unit_cost_usd_per_mtok=float(api_cost.sum() / total_tok) if total_tok > 0 else np.nan,
        lerner_api=metrics.weighted_lerner(api_rev, api_cost),
        lerner_api_marginal_cost=metrics.weighted_lerner(api_rev, api_mc),
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
        compute_share_rd=sum(f.rd_gpus for f in labs) / lab_gpus if lab_gpus else np.nan,
        **_vertical_revenue_shares(model, offers, clearing),
        subsidy_usd=sum(f.last.subsidy_usd for f in api_sellers),
        deviation_gain_median_share=float(np.median(shares)) if shares.size else np.nan,
        deviation_gain_max_share=float(shares.max()) if shares.size else np.nan,
        consumer_surplus_usd=consumer_surplus_usd(model, offers),
        customers_using_ai=using_ai,
        customers_outside=n_customers * w - using_ai,
        customers_total=n_customers * w,
        revenue_labs_usd=sum(f.last.revenue_usd for f in labs),
        revenue_providers_usd=sum(f.last.revenue_usd for f in provs),
        revenue_wrappers_usd=sum(f.last.revenue_usd for f in wraps),
        n_labs=len(model.alive(model.labs)), n_providers=len(model.alive(model.providers)),
        n_wrappers=len(model.alive(model.wrappers)),
        investor_inflow_usd=flows.get("funding_round", 0.0), parent_inflow_usd=flows.get("parent_transfer", 0.0),
        investor_loss_usd=sum(model.capital.books[f.unique_id].flows(model.round)[2]
                              for f in [*model.labs, *model.providers, *model.wrappers]),
        gpu_spend_usd=flows.get("capex", 0.0) + flows.get("gpu_running", 0.0) + flows.get("gpu_rent", 0.0),
        capex_usd=flows.get("capex", 0.0), gpu_rent_paid_usd=flows.get("gpu_rent", 0.0),
        **gpu_market_columns(model),
        frontier_quality=max((f.quality for f in model.alive(model.labs)), default=0.0), open_weight_quality=model.open_weight_quality,
        money_total_usd=model.ledger.total(),
    )
    return row


def gpu_market_columns(model) -> dict[str, Any]:
    """The GPU market of the month: the cleared rent ($/GPU-hour), the simulated market's stock and this month's
    deliveries (GPUs), the rentable stock and what the outside renters took (GPUs), labs' owned and rented GPUs."""
    gm = model.gpus
    c = gm.clearing
    labs = model.alive(model.labs)
    return dict(gpu_rent_usd_per_hour=gm.rent, gpu_stock=gm.stock, gpu_deliveries=gm.delivered,
                gpu_rentable=gm.state.rentable_gpus, gpu_outside_rented=c.outside_gpus if c is not None else np.nan,
                gpus_owned_labs=sum(f.owned_gpus for f in labs), gpus_rented_labs=sum(f.rented_gpus for f in labs),
                gpus_rented_providers=sum(f.gpus for f in model.alive(model.providers)))
