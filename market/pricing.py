"""What a seller observes before it prices, built from the demand oracle (market/oracle.py), and the deviation gain
measured once every seller has priced (docs/design.md, "Prices" and "Deviation gain").

A seller's :class:`~market.oracle.FirmView` says which offers are its own, what one more token costs it on each
(the GPU time of the offer's model size, or a wrapper's token price), its paid pool's capacity, and which wrappers
buy tokens from it or would (with the tier price up to which they stay, from their own sourcing rule).
"""

from __future__ import annotations

import math

import numpy as np

from agents.lab import FrontierLab
from agents.types import PriceObservation, Product
from agents.wrapper import WrapperApp
from market import costs
from market.offers import FREE
from market.oracle import DemandOracle, FirmView, WrapperLink

DEVIATION_FACTORS = (1 / 1.2, 1.2)  # unilateral price changes tried around each posted price


def _marginal_cost(model, firm) -> float:
    """GPU cost ($) of one more reference-model Mtok at full batching, at what a GPU-hour is worth to the seller
    at the margin: a lab's shadow price of a GPU-hour (the value of the training, data or R&D that GPU-hour would
    otherwise buy), a host's rent (``TokenMarket.gpu_value_usd_per_hour``)."""
    return float(costs.marginal_cost_usd_per_mtok(model.tech_of(firm), max(model.gpu_value_usd_per_hour(firm), 1e-9)))


def _thresholds(model, wrapper: WrapperApp) -> tuple[float, dict[tuple[int, int], float]]:
    key = (model.round, id(wrapper.sourcing), wrapper.upstream)
    cached = model.threshold_cache.get(wrapper.unique_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    out = _compute_thresholds(wrapper)
    model.threshold_cache[wrapper.unique_id] = (key, out)
    return out


def _compute_thresholds(wrapper: WrapperApp) -> tuple[float, dict[tuple[int, int], float]]:
    """From the wrapper's last sourcing review: the list price of its current tier up to which it stays
    ($/Mtok; inf without a review), and per other option the price below which it would move there.

    Envelope theorem: a price change of Δp on the tier it buys moves its monthly profit by −tokens × (1 + s) × Δp,
    its purchases held; it switches when another option beats the current one by more than its switching
    threshold (agents/wrapper.py)."""
    obs = wrapper.sourcing
    if obs is None or obs.current is None or len(obs.options) < 2:
        return math.inf, {}
    tokens = wrapper.last.tokens_mtok
    if tokens <= 0 and obs.tokens_mtok is not None:  # not yet billed: the review's forecast
        tokens = float(obs.tokens_mtok[obs.current])
    if tokens <= 0:
        return math.inf, {}
    thr = wrapper.switch_threshold_usd()
    profit = obs.profit_usd
    c = obs.current
    cur = obs.options[c]
    alt = max(profit[k] for k in range(len(obs.options)) if k != c)
    stay = cur.price_usd_per_mtok + (profit[c] - alt + thr) / tokens
    joins = {}
    for k, o in enumerate(obs.options):
        if k == c:
            continue
        rival = max([profit[c] + thr] + [profit[i] for i in range(len(obs.options)) if i not in (k, c)])
        joins[o.key] = o.price_usd_per_mtok + (profit[k] - rival) / tokens
    return stay, joins


def wrapper_terms(model) -> list[tuple]:
    """Per alive wrapper with offers on the current book: (wrapper, its offer ids (R,), the tier price up to which
    it stays $/Mtok, {(seller id, tier): price below which it would move there}) — what every seller's
    :func:`firm_view` reads of it, computed once for all sellers."""
    book, offers = model.book, model.current_offers
    out = []
    for w in model.alive(model.wrappers):
        w_rows = np.array([j for j in book.ids(w) if j < offers.n], dtype=np.int64)
        if w_rows.size:
            out.append((w, w_rows, *_thresholds(model, w)))
    return out


def firm_view(model, firm, terms: list[tuple] | None = None) -> FirmView:
    """The seller's side of the demand oracle this round (see module docstring). ``terms``: the
    :func:`wrapper_terms` of the current book when the caller has them (computed here when None)."""
    book = model.book
    offers = model.current_offers
    rows = np.array([j for j in book.ids(firm) if j < offers.n and offers.alive[j]], dtype=np.int64)
    if isinstance(firm, WrapperApp):
        price = book.wrapper_token_price(firm)
        return FirmView(firm.unique_id, rows, np.full(rows.size, price), np.zeros(rows.size), math.inf, 0.0, {}, {})
    mc = _marginal_cost(model, firm)
    kinds = [book.entries[j].kind for j in rows]
    size = offers.size[rows]
    cost = np.where(np.array([k == FREE for k in kinds], dtype=bool), 0.0, mc * size)
    load = np.where(np.array([k == FREE for k in kinds], dtype=bool), 0.0, size)
    gpus = firm.paid_gpus if isinstance(firm, FrontierLab) else firm.gpus  # a host's GPUs: what it rented this month
    capacity = float(costs.capacity_mtok_per_month(gpus, model.tech_of(firm))) if gpus > 0 else 0.0
    wrappers: dict[int, list[WrapperLink]] = {}
    joiners: dict[int, list[WrapperLink]] = {}
    for w, w_rows, stay, joins in (wrapper_terms(model) if terms is None else terms):
        factor = 1.0 + getattr(firm, "surcharge", {}).get(w.vertical, 0.0)
        if w.upstream is not None and w.upstream[0] == firm.unique_id:
            t = w.upstream[1]
            wrappers.setdefault(t, []).append(WrapperLink(w.unique_id, w_rows, firm.tier_price(t), factor,
                                                          _tier_size(firm, t), stay / factor))
        for (seller, t), below in joins.items():
            if seller == firm.unique_id:
                joiners.setdefault(t, []).append(WrapperLink(w.unique_id, w_rows, firm.tier_price(t), factor,
                                                             _tier_size(firm, t), below / factor))
    return FirmView(firm.unique_id, rows, cost, load, capacity, mc,
                    {t: tuple(v) for t, v in wrappers.items()}, {t: tuple(v) for t, v in joiners.items()})


def _tier_size(firm, tier: int) -> float:
    return firm.tier_size(tier) if isinstance(firm, FrontierLab) else 1.0


def evaluate_prices(model, record: bool = True, oracle=None) -> None:
    """Once every seller has posted its prices: build the round's demand oracle and evaluate, for every priced
    product, the seller's profit at the candidate prices its pricing rule asks for (around the posted price).

    The curves serve twice: they are what each seller prices from next month (``firm.curves``: product →
    (candidate prices, profits $/month)), and they measure this round's deviation gain — the profit ($/month) a
    seller could gain by a unilateral change of one of its prices to a candidate, at the posted prices of everyone
    (``deviation_gain_usd``; relative to its profit at posted prices, the profit-gain index,
    ``deviation_gain_share``). A lab also keeps, per product, its revenue less non-GPU cost and its paid pool's
    load at each candidate price before any capacity limit (``capacity_curves``): its capacity shadow price. The
    gain is a lower bound on the full one (a finite set of deviations) and zero at a best response on that set. ``record=False`` (set-up) leaves the deviation gains unset. ``oracle``: the demand
    oracle already built on the current offers (built here when None).
    """
    model.oracle = oracle = model.oracle_now(model.current_offers) if oracle is None else oracle
    offers = model.current_offers
    firms = model.alive([*model.labs, *model.providers, *model.wrappers])
    terms = wrapper_terms(model)
    views = {f.unique_id: firm_view(model, f, terms) for f in firms}
    for f in firms:
        f.curves = {}
    products, meta = priced_products(model, oracle, firms, views)
    loads: list = []
    curves = oracle.curves(views, products, loads)
    gains: dict[int, tuple[float, float]] = {}
    for f in firms:
        if isinstance(f, FrontierLab):
            f.capacity_curves = {}
    for (f, product, grid, posted), profits, (unscaled, load) in zip(meta, curves, loads):
        f.curves[product] = (grid, profits)
        if isinstance(f, FrontierLab):  # its capacity shadow price is read from these (market/compute_split.py)
            f.capacity_curves[product] = (unscaled + views[f.unique_id].marginal_cost * load, load)
        at_posted = float(profits[int(np.searchsorted(grid, posted))])
        gain = float(np.max(profits)) - at_posted
        best, base = gains.get(f.unique_id, (0.0, at_posted))
        gains[f.unique_id] = (max(best, gain), base)
    if not record:
        return
    for f in firms:
        gain, base = gains.get(f.unique_id, (math.nan, math.nan))
        f.deviation_gain_usd = gain
        f.deviation_gain_share = gain / abs(base) if math.isfinite(base) and base != 0 else math.nan


def priced_products(model, oracle: DemandOracle, firms: list, views: dict[int, FirmView], rule=None
                    ) -> tuple[list[tuple], list[tuple]]:
    """The products to evaluate on ``oracle``: (firm id, offer id, API tier or None, candidate prices (G,)) for
    :meth:`DemandOracle.curves`, and (firm, product, candidate prices, posted price) for each — every product on
    sale whose pricing rule asks for candidates. ``rule(policy)`` may stand in a different rule (benchmarks)."""
    offers = model.current_offers
    products, meta = [], []
    for f in firms:
        view = views[f.unique_id]
        for product in f.products():
            j = model.book.offer_of(f, product)
            if j >= offers.n or not offers.alive[j] or j not in view.rows:
                continue
            policy = f.policy_for(product) if rule is None else rule(f.policy_for(product))
            if not hasattr(policy, "candidates"):
                continue
            k = int(np.flatnonzero(view.rows == j)[0])
            unit = 1.0 if product.kind == "api" else oracle.mean_units(j)
            posted = f.price(product)
            # A campaign posts a multiple of the best response: the grid is centred where the best response is.
            centre = posted / f.price_factor(product)
            grid = _with_price(policy.candidates(centre, float(view.cost_per_mtok[k]) * unit), posted)
            products.append((f.unique_id, j, product.tier if product.kind == "api" else None, grid))
            meta.append((f, product, grid, posted))
    return products, meta


def _with_price(candidates: np.ndarray, price: float) -> np.ndarray:
    """Sorted distinct ``candidates`` ($ per unit) with ``price`` among them: ``np.unique`` of both, by one
    insertion when the candidates are already sorted and distinct (every shipped rule's are)."""
    c = np.asarray(candidates, dtype=float)
    if c.size < 2 or not (np.all(c[1:] > c[:-1]) and np.isfinite(price)):
        return np.unique(np.append(c, price))
    i = int(np.searchsorted(c, price))
    return c if i < c.size and c[i] == price else np.insert(c, i, price)


def price_observation(model, firm, product: Product) -> PriceObservation:
    """What ``firm`` observes before pricing ``product``: its price, last round's unit cost and volume, and its
    profit at candidate prices evaluated on the demand oracle when everyone last posted (:func:`evaluate_prices`;
    none for a product that was not on sale then)."""
    last = firm.last
    if product.kind == "api":
        unit = getattr(last, "unit_cost_usd_per_mtok", math.nan)
        volume = getattr(last, "api_tokens_mtok", 0.0)
        mc = _marginal_cost(model, firm) * (firm.tier_size(product.tier) if isinstance(firm, FrontierLab) else 1.0)
    else:
        unit = getattr(last, "unit_cost_usd_per_subscriber", math.nan)
        volume = getattr(last, "subscribers", 0.0)
        mc = unit if math.isfinite(unit) else 0.0  # a subscriber's token cost is what it costs to serve one more
    grid, profits = firm.curves.get(product, (None, None))
    rival_prices, rival_qualities, quality = _rivals(model, firm, model.book.offer_of(firm, product))
    return PriceObservation(product=product, own_price=firm.price(product), marginal_cost=mc, unit_cost=unit,
                            quality=quality, rival_prices=rival_prices, rival_qualities=rival_qualities,
                            volume=volume, last_profit_usd=last.gross_profit_usd, candidate_prices=grid,
                            candidate_profits_usd=profits, target_factor=firm.price_factor(product))


def _rivals(model, firm, j: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(prices, qualities) of other firms' live offers in offer ``j``'s nest and verticals, and j's quality: what the
    rule-based pricing rules (cost-plus, undercutting, bandit) look at."""
    o = model.current_offers
    if j >= o.n:
        return np.empty(0), np.empty(0), 0.0
    mask = o.alive & (o.owner != firm.unique_id) & (o.nest == o.nest[j]) & ((o.fit[:, j:j + 1] > 0) & (o.fit > 0)).any(axis=0)
    prices = np.where(o.price_mtok > 0, o.price_mtok, o.price_month)
    return prices[mask], o.quality[mask], float(o.quality[j])
