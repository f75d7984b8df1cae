"""The capital market in the round (DESIGN.md §4 steps 2 and 8, Q6; ``market/capital.py`` and ``market/exit.py``
wired in): investors who value firms and price rounds with dilution, parents with budgets and hurdle rates, cap
tables, and exits that sell assets.

Each month, after settlement, every firm's figures join its books (revenue, gross profit, fixed costs = gross
profit − operating profit). Then:

* a **parent-funded** lab (``self_funded``, ``efficient``: ``market.capital.parent_of``) that burns cash gets its
  burn from its parent, up to the parent's monthly budget, when the unit is worth more than 0 to the parent (DCF at
  its hurdle rate, ``market.capital.value_to_parent``);
* an **investor-funded** firm (labs, hosts, wrappers) whose runway fell below ``finance.runway_trigger_months``
  asks for ``finance.raise_months_of_burn`` months of burn (``market.capital.round_size_usd``); the investors of
  ``capital.appetites`` value it (α · revenue multiple + (1 − α) · DCF at ``finance.cost_of_capital_investor``)
  and price the round at a uniform pre-money (``market.capital.price_round``); the money is posted from
  ``investors``, and everyone on the cap table is diluted by pre / post (``market.capital.CapTable``);
* a firm whose cash is still negative exits (``exit_firm``): its assets are sold (``market.exit.liquidate``) —
  owned GPUs to clouds at a fire-sale discount on their used value (they join the rentable stock next month),
  customers to the rival that values them most, a lab's weights to the lab that gains most from them (or published
  when nobody bids and the lab published before) — creditors are paid first and the rest goes to the cap table.

The capital market's pricing rule is also a quote for forecasts (:meth:`CapitalMarket.quote`, the contract of
PLAN.md): a strategic forecast can include the funding a strategy would need and at what valuation
(``market.objective.forecast_owners_value`` with ``pricing=model.capital.quote(firm)``,
``history=model.capital.history(firm)``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from agents.lab import FrontierLab
from agents.wrapper import WrapperApp
from market import objective
from market.capital import (CapTable, FirmFigures, Parent, RoundPricer, RoundTerms, figures_from_history,
                            investor_valuation, parent_of, parent_transfer, price_round, pricer_from_config,
                            round_size_usd, value_to_parent)
from market.exit import liquidate
from market.gpu_market import used_gpu_value_usd
from market.objective import OwnerPath, RoundPricing

HISTORY_MONTHS = 24  # months of figures kept per firm: the growth window (6) and a forecast's history need fewer


@dataclasses.dataclass(slots=True)
class Books:
    """One firm's books as the capital market keeps them: monthly revenue, gross profit and fixed costs ($/month,
    oldest first, the last ``HISTORY_MONTHS``), its cap table, and this month's flows to and from its owners
    (``month``: the round they belong to; parent transfer, owners' exit proceeds, investors' loss at exit, $)."""

    revenue: list[float] = dataclasses.field(default_factory=list)
    gross_profit: list[float] = dataclasses.field(default_factory=list)
    fixed_costs: list[float] = dataclasses.field(default_factory=list)
    cap_table: CapTable = dataclasses.field(default_factory=CapTable)
    month: int = -1
    parent_usd: float = 0.0
    owners_exit_usd: float = 0.0
    investor_loss_usd: float = 0.0

    def flows(self, now: int) -> tuple[float, float, float]:
        """(parent transfer, owners' exit proceeds, investors' loss at exit) of round ``now`` ($; zeros if none)."""
        return (self.parent_usd, self.owners_exit_usd, self.investor_loss_usd) if self.month == now else (0.0, 0.0, 0.0)

    def book_flow(self, now: int, parent: float = 0.0, owners_exit: float = 0.0, investor_loss: float = 0.0) -> None:
        """Add flows of round ``now``."""
        if self.month != now:
            self.month, self.parent_usd, self.owners_exit_usd, self.investor_loss_usd = now, 0.0, 0.0, 0.0
        self.parent_usd += parent
        self.owners_exit_usd += owners_exit
        self.investor_loss_usd += investor_loss


class CapitalMarket:
    """Investors, parents and cap tables of every firm in one run.

    Args:
        capital_cfg: ``CapitalConfig`` (investors' appetites, capital, valuation rules, exit terms).
        finance_cfg: ``FinanceConfig`` (when firms raise, how much, the costs of capital).
    """

    def __init__(self, capital_cfg, finance_cfg) -> None:
        self.cfg, self.fin = capital_cfg, finance_cfg
        self.pricer: RoundPricer = pricer_from_config(capital_cfg, finance_cfg)
        self.books: dict[int, Books] = {}

    # ------------------------------------------------------------------------------------------ books

    def open(self, firm) -> None:
        """Start the books of ``firm`` (its original owners hold all of it)."""
        self.books[firm.unique_id] = Books()

    def record(self, firm) -> None:
        """Append the firm's figures of the month (its ``last`` record) to its books."""
        b, last = self.books[firm.unique_id], firm.last
        b.revenue.append(max(0.0, last.revenue_usd))
        b.gross_profit.append(last.gross_profit_usd)
        b.fixed_costs.append(max(0.0, last.gross_profit_usd - last.operating_profit_usd))
        if len(b.revenue) > HISTORY_MONTHS:
            del b.revenue[0], b.gross_profit[0], b.fixed_costs[0]

    def history(self, firm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(revenue, gross profit, fixed costs), each (T,) $/month, oldest first: what a forecast passes as
        ``history`` to ``market.objective.forecast_owners_value``."""
        b = self.books[firm.unique_id]
        return np.array(b.revenue), np.array(b.gross_profit), np.array(b.fixed_costs)

    def figures(self, firm) -> FirmFigures | None:
        """What investors and parents see of ``firm`` now (None before its first month)."""
        b = self.books[firm.unique_id]
        if not b.revenue:
            return None
        return figures_from_history(b.revenue, b.gross_profit, b.fixed_costs, firm.cash_usd)

    def cap_table(self, firm) -> CapTable:
        """The firm's cap table."""
        return self.books[firm.unique_id].cap_table

    # ------------------------------------------------------------------------------------------ quotes

    def quote(self, firm, forecast_figures: FirmFigures | None = None) -> RoundPricing | None:
        """The rule that would price ``firm``'s rounds (a ``market.objective.RoundPricing``), for forecasts: the
        config's investors' pricing for an investor-funded firm; None for a parent-funded one (it raises no
        rounds) and, when ``forecast_figures`` are given, None if no investor would value a firm with those
        figures above 0."""
        if firm.funding != "investor":
            return None
        if forecast_figures is not None and self.best_valuation(forecast_figures) <= 0:
            return None
        return self.pricer

    def best_valuation(self, fig: FirmFigures) -> float:
        """The highest investor valuation of a firm with figures ``fig`` ($, may be negative)."""
        p = self.pricer
        return max(investor_valuation(fig, i, p.forecast, p.multiples) for i in p.investors)

    def market_value_usd(self, firm) -> float:
        """What the owners could sell the whole equity for now: the highest investor valuation, floored at 0 ($)."""
        fig = self.figures(firm)
        return 0.0 if fig is None else max(0.0, self.best_valuation(fig))

    def terms(self, firm, amount_usd: float) -> RoundTerms | None:
        """The terms investors would offer ``firm`` now for a round of ``amount_usd`` (None: no round, or a
        parent-funded firm)."""
        fig = self.figures(firm)
        if firm.funding != "investor" or fig is None or not amount_usd > 0:
            return None
        p = self.pricer
        return price_round(fig, amount_usd, p.investors, p.forecast, p.multiples)

    def funding_capacity(self, firm) -> tuple[float, float]:
        """(a round it could raise now $, a monthly transfer it could get $/month): for an investor-funded firm,
        a round of ``finance.max_raise_usd`` as the investors would fill it (0 when they would not); for a
        parent-funded lab, its parent's monthly budget while the parent values the unit above 0."""
        parent = self.parent(firm)
        if parent is not None:
            fig = self.figures(firm)
            ok = fig is None or self.value_to_parent(fig, parent) > 0
            return 0.0, parent.budget_usd_per_month if ok else 0.0
        terms = self.terms(firm, self.fin.max_raise_usd)
        return (0.0 if terms is None else terms.amount_usd), 0.0

    def parent(self, firm) -> Parent | None:
        """The parent of a self-funded or efficient lab (``market.capital.parent_of``), None otherwise."""
        if not isinstance(firm, FrontierLab):
            return None
        return parent_of(firm.funding, firm.cfg.parent_budget_usd_per_month, self.fin.cost_of_capital_self_funded,
                         self.fin.cost_of_capital_efficient)

    def value_to_parent(self, fig: FirmFigures, parent: Parent) -> float:
        """The unit's value to its parent ($): DCF at the parent's hurdle (no strategic value)."""
        return value_to_parent(fig, parent, self.pricer.forecast)

    def rate_monthly(self, firm) -> float:
        """The owners' monthly cost of capital: the parent's hurdle for parent-funded labs, else investors'."""
        fin = self.fin
        rate = {"self_funded": fin.cost_of_capital_self_funded,
                "efficient": fin.cost_of_capital_efficient}.get(firm.funding, fin.cost_of_capital_investor)
        return objective.monthly_rate(rate)


# ------------------------------------------------------------------------------------------ the round

def fund_and_exit(model) -> None:
    """Step 8 of the round: books updated, parents' transfers and investors' rounds posted (cap tables diluted,
    events recorded), then firms with negative cash exit (``exit_firm``)."""
    capital, fin, ledger = model.capital, model.config.finance, model.ledger
    for firm in model.alive([*model.labs, *model.providers, *model.wrappers]):
        capital.record(firm)
        inflow = 0.0
        burn = max(0.0, -firm.last.cash_flow_usd)
        parent = capital.parent(firm)
        if parent is not None:
            fig = capital.figures(firm)
            if burn > 0:
                transfer = parent_transfer(burn, capital.value_to_parent(fig, parent), parent)
                if transfer > 0:
                    ledger.post("parents", firm, transfer, "parent_transfer")
                    capital.books[firm.unique_id].book_flow(model.round, parent=transfer)
                    inflow += transfer
        elif firm.wants_to_raise(firm.funding_observation(burn), fin.runway_trigger_months) or firm.cash_usd < 0:
            amount = round_size_usd(burn, firm.cash_usd, fin.raise_months_of_burn, fin.max_raise_usd)
            terms = capital.terms(firm, amount) if amount > 0 else None
            if terms is not None:
                ledger.post("investors", firm, terms.amount_usd, "funding_round")
                b = capital.books[firm.unique_id]
                b.cap_table = b.cap_table.after_round(terms)
                model.recorder.event(model, "funding_round", firm, None, terms.amount_usd,
                                     detail=f'{{"pre_money_usd": {terms.pre_money_usd:.6g}, '
                                            f'"new_share": {terms.new_share:.6g}}}')
                inflow += terms.amount_usd
        firm.last = dataclasses.replace(firm.last, funding_inflow_usd=inflow)
    for firm in model.alive([*model.labs, *model.providers, *model.wrappers]):
        if firm.cash_usd < 0:
            exit_firm(model, firm)


def _customers_of(model, ids: list[int]) -> tuple[float, float]:
    """(real customers holding offers ``ids`` now, their mean tenure in months, weighted by segment)."""
    if not ids:
        return 0.0, 1.0
    counts = model.segment_offer_counts
    ids = [j for j in ids if j < counts.shape[1]]
    per_segment = counts[:, ids].sum(axis=1) if ids else np.zeros(counts.shape[0])
    total = float(per_segment.sum())
    tenure = np.array([s.tenure_months for s in model.config.customers.segments])
    mean = float(per_segment @ tenure / total) if total > 0 else float(tenure.mean())
    return total * model.weight, mean


def _bidders(model, firm) -> list:
    if isinstance(firm, WrapperApp):
        return [w for w in model.alive(model.wrappers) if w is not firm and w.vertical == firm.vertical]
    peers = model.labs if isinstance(firm, FrontierLab) else model.providers
    return [f for f in model.alive(peers) if f is not firm]


def _customer_values(model, firm, bidders: list) -> np.ndarray:
    """Each bidder's present value ($) of the margin on ``firm``'s customers: the bidder's gross profit per
    customer this month × their number, as an annuity over their tenure at the bidder's cost of capital; 0 for
    a bidder that cannot pay it."""
    customers, tenure = _customers_of(model, model.book.ids(firm))
    values = []
    for b in bidders:
        own, _ = _customers_of(model, model.book.ids(b))
        per = b.last.gross_profit_usd / own if own > 0 else 0.0
        value = max(0.0, per) * customers * objective.annuity_factor(tenure, model.capital.rate_monthly(b))
        values.append(value if b.cash_usd >= model.config.capital.customer_sale_share * value else 0.0)
    return np.array(values)


def _weights_values(firm, bidders: list) -> np.ndarray:
    """Each bidding lab's value ($) of an exiting lab's weights: its present value per quality point × the
    quality it would gain by serving them (0 if they are no better than its own, or it cannot pay)."""
    if not isinstance(firm, FrontierLab):
        return np.zeros(0)
    values = []
    for b in bidders:
        pvq = getattr(b, "pv_quality_usd", 0.0)
        value = max(0.0, pvq if math.isfinite(pvq) else 0.0) * max(0.0, firm.quality - b.quality)
        values.append(value if b.cash_usd >= value else 0.0)
    return np.array(values)


def _move_customers(model, firm, buyer) -> None:
    """The buyer takes over the customers of each of ``firm``'s offers that it sells a like of (same kind and
    product), without a switching cost; the rest go outside and choose again."""
    book = model.book
    mine = {(e.kind, e.product): j for j, e in enumerate(book.entries) if e.firm is buyer}
    old, new = [], []
    for j in book.ids(firm):
        e = book.entries[j]
        k = mine.get((e.kind, e.product))
        if k is not None:
            old.append(j)
            new.append(k)
    if old:
        model.population.reassign(np.array(old), np.array(new))


def exit_firm(model, firm) -> None:
    """Remove ``firm`` and sell its assets (``market.exit.liquidate``): proceeds posted from the buyers, creditors
    paid before equity (what they cannot be paid is written off), the equity's part paid to the cap table
    (owners' part to ``owners``, or to ``parents`` for a parent-funded lab; investors' to ``investors``); owned
    GPUs handed to the GPU market, customers to the buyer or back to the market, wrappers built on it switch
    upstream at once. Events: ``exit`` (amount: proceeds, detail: the waterfall), ``customers_sold`` or
    ``customers_released``, ``weights_sold`` / ``open_weight_release``."""
    capital, cfg, ledger = model.capital, model.config.capital, model.ledger
    gm = model.gpus
    owned = getattr(firm, "owned_gpus", 0.0)
    cloud_rate = objective.monthly_rate(model.config.finance.cost_of_capital_self_funded)
    per_gpu = used_gpu_value_usd(gm.rent, gm.cfg.opex_usd_per_gpu_hour, gm.cfg.life_months, cloud_rate)
    bidders = _bidders(model, firm)
    labs = [b for b in bidders if isinstance(b, FrontierLab)]
    may_publish = isinstance(firm, FrontierLab) and firm.published_quality > 0
    result = liquidate(owned, per_gpu, _customer_values(model, firm, bidders), _weights_values(firm, labs),
                       firm.cash_usd, capital.cap_table(firm), fire_sale_discount=cfg.fire_sale_discount,
                       customer_sale_share=cfg.customer_sale_share, weights_sale_share=cfg.weights_sale_share,
                       may_publish=may_publish)
    if result.gpu_proceeds_usd > 0:
        ledger.post("gpu_buyers", firm, result.gpu_proceeds_usd, "gpu_sale")
    if owned > 0:
        gm.release(owned)
        firm.owned_gpus = firm.gpus = 0.0
    if isinstance(firm, FrontierLab):
        gm.cancel(firm.orders)
        firm.orders.clear()
    firm.alive = False
    dead = model.book.ids(firm)
    if result.customers.buyer is not None:
        buyer = bidders[result.customers.buyer]
        if result.customers.price_usd > 0:
            ledger.post(buyer, firm, result.customers.price_usd, "customer_sale")
        _move_customers(model, firm, buyer)
        model.recorder.event(model, "customers_sold", firm, buyer, result.customers.price_usd)
    if result.weights.buyer is not None:
        buyer = labs[result.weights.buyer]
        if result.weights.price_usd > 0:
            ledger.post(buyer, firm, result.weights.price_usd, "weights_sale")
        buyer.quality = max(buyer.quality, firm.quality)
        model.recorder.event(model, "weights_sold", firm, buyer, result.weights.price_usd, "usd")
    elif result.weights_published:
        model.publish_weights(firm)
    if result.creditors_written_off_usd > 0:
        ledger.post("creditors", firm, result.creditors_written_off_usd, "write_off")
    table = result.cap_table
    for holder, pay in zip(table.holders, result.payouts_usd):
        if pay > 0:
            to = ("parents" if capital.parent(firm) is not None else "owners") if holder == "owners" else "investors"
            ledger.post(firm, to, float(pay), "exit_proceeds")
    books = capital.books[firm.unique_id]
    books.cap_table = table
    books.book_flow(model.round, owners_exit=float(result.payouts_usd[0]),
                    investor_loss=float(sum(max(0.0, -g) for h, g in zip(table.holders, table.gains_usd())
                                            if h != "owners")))
    proceeds = result.gpu_proceeds_usd + result.customers.price_usd + result.weights.price_usd
    model.recorder.event(model, "exit", firm, None, proceeds,
                         detail=f'{{"gpus_sold": {owned:.6g}, "creditors_paid_usd": {result.creditors_paid_usd:.6g}, '
                                f'"creditors_written_off_usd": {result.creditors_written_off_usd:.6g}, '
                                f'"equity_usd": {result.equity_usd:.6g}}}')
    moved = model.population.drop_offers(dead)
    if moved:
        model.recorder.event(model, "customers_released", firm, None, moved * model.weight, "customers")
    if isinstance(firm, WrapperApp):
        return
    for w in model.alive(model.wrappers):
        if w.pending_upstream is not None and w.pending_upstream[0][0] == firm.unique_id:
            w.pending_upstream = None
        if w.upstream_id == firm.unique_id:
            w.upstream = None
            model.review_sourcing(w, forced=True)


# ------------------------------------------------------------------------------------------ owners' value

def owner_paths(agents: pd.DataFrame) -> dict[str, OwnerPath]:
    """Each firm's :class:`market.objective.OwnerPath` from its agents.csv rows (months in order of ``round``):
    flows to the original owners (``owners_flow_usd``), their share (``owners_share``), cash, run rate
    (``cash_flow_usd``), alive, and the market value of the equity (``market_value_usd``)."""
    out = {}
    for name, g in agents.sort_values("round").groupby("name", sort=True):
        out[str(name)] = OwnerPath(g["owners_flow_usd"].to_numpy(float), g["owners_share"].to_numpy(float).clip(0, 1),
                                   g["cash_usd"].to_numpy(float), g["cash_flow_usd"].to_numpy(float),
                                   g["alive"].to_numpy(bool), g["market_value_usd"].to_numpy(float))
    return out


def owners_values_usd(agents: pd.DataFrame, finance_cfg) -> dict[str, float]:
    """outcomes.json ``owners_value_usd``: {firm: $}, each firm's original owners' present value at their cost
    of capital (``market.objective.owners_values``; dilution, parent transfers and exit proceeds included)."""
    if agents.empty:
        return {}
    paths = owner_paths(agents)
    funding = agents.groupby("name")["funding"].first()
    rate = {"self_funded": finance_cfg.cost_of_capital_self_funded, "efficient": finance_cfg.cost_of_capital_efficient}
    rates = {n: objective.monthly_rate(rate.get(funding[n], finance_cfg.cost_of_capital_investor)) for n in paths}
    return {k: float(v) for k, v in objective.owners_values(paths, rates).items()}
