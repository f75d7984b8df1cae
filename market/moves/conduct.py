"""API conduct: best response, penetration or premium (docs/design.md, "Strategic moves").

Under ``penetration`` the lab prices every API tier at ``moves.penetration_factor`` × its static best response for
``moves.campaign_months``, under ``premium`` at ``moves.premium_factor`` ×, and under ``best_response`` at the
best response; after a campaign prices return to the best response. The static best response is the target of the
lab's last pricing decision (the price its curve on the demand oracle puts the profit at its peak); rivals' prices
are held (the forecast does not model their answer; the simulation does).

What a campaign buys, in the forecast:
* share locked in by switching costs — the holdings chain (market/moves/chain.py): customers won at a low price
  stay after prices rise until they reconsider, and a price rise is news that makes holders look around sooner;
  a premium harvests holders who do not reconsider this month;
* wrappers' tokens — a wrapper buying the tier leaves when the price passes the level its own sourcing rule
  stands (``WrapperLink.stay_below``), one elsewhere joins when the price falls below the level that makes the lab
  its best option, each after half a review interval and its switching delay; a wrapper that joined leaves again
  only when the price passes its joining level by twice its switching threshold per token;
* funding terms — the owners' value of the path (market/moves/value.py), so revenue growth raises the price of
  the rounds and the valuation at the horizon when investors pay for revenue;
* a rival's exit — a rival whose cash runs out on the path leaves (market/moves/evaluate.py).
API tokens are not the data that trains the lab's model here (market/quality.py counts free-tier tokens), so a
campaign buys no quality in this model.
"""

from __future__ import annotations

import math

import numpy as np

from agents.types import Product
from market.moves.context import LabContext, Link
from market.moves.evaluate import Plan
from market.moves.forecast import Phase
from market.offers import API


def best_response_prices(ctx: LabContext, rows: np.ndarray) -> np.ndarray:
    """(R,) static best-response price of each API offer of the lab ($/Mtok): its last pricing decision's target,
    or the posted price when it has none yet."""
    lab, book = ctx.lab, ctx.model.book
    out = []
    for j in rows:
        product = book.entries[j].product
        decision = lab.decisions.get(product)
        out.append(decision.target if decision is not None and math.isfinite(decision.target) else lab.price(product))
    return np.array(out, dtype=float)


def wrapper_lag(model) -> int:
    """Months before a wrapper acts on a price: half its review interval plus its switching delay (≥ 1)."""
    w = model.config.wrappers
    return max(1, int(round(w.review_months / 2 + w.switch_delay_months)))


def _active(link: Link, joiner: bool, t: int, decisions: list[tuple[int, float]]) -> bool:
    """Whether ``link`` pays the lab in month ``t``, given its reviews (month it acts, tier list price it saw)."""
    active, joined = not joiner, False
    for month, price in decisions:
        if month > t:
            break
        if active:
            if price > link.stay_below + (link.band if joined else 0.0):
                active = False
        elif joiner and not joined and price <= link.stay_below:
            active = joined = True
    return active


def conduct_plans(ctx: LabContext, options: tuple[str, ...]) -> dict[str, Plan]:
    """A :class:`Plan` per conduct option (module docstring)."""
    cfg = ctx.model.config
    rows = ctx.own_rows(API)
    tiers = [ctx.model.book.entries[j].product.tier for j in rows]
    best = best_response_prices(ctx, rows)
    posted = np.array([ctx.lab.tier_price(t) for t in tiers])
    factors = {"best_response": 1.0, "penetration": cfg.moves.penetration_factor,
               "premium": cfg.moves.premium_factor}
    lag, threshold = wrapper_lag(ctx.model), cfg.customers.news_price_change
    api_capable = np.array([ctx.base.oracle.segments[s].api_capable
                            for s in ctx.base.oracle.sample.segment[ctx.base.positions]])
    cache: dict[bytes, tuple] = {}
    col = {t: i for i, t in enumerate(tiers)}
    groups = [(link, joiner) for links, joiner in ((ctx.links, False), (ctx.joiners, True)) for link in links
              if link.tier in col]
    plans = {}
    for option in options:
        k = factors[option]
        campaign = 0 if option == "best_response" else cfg.moves.campaign_months
        low, high = best * k, best  # during the campaign, after it
        reviews = [(1 + lag, 1), (campaign + 1 + lag, campaign + 1)]
        starts = sorted({1, *(m for m, _ in reviews), campaign + 1} & set(range(1, ctx.months + 1)))
        # What each wrapper saw at its reviews does not depend on the phase: one list per link.
        seen = {id(link): [(m, float((low if p <= campaign else high)[col[link.tier]])) for m, p in reviews]
                for link, _ in groups}
        phases, previous = [], posted
        for s in starts:
            prices = low if s <= campaign else high
            key = prices.tobytes()
            if key not in cache:
                cache[key] = ctx.with_rows(rows, price_mtok=prices)
            v0, x, pay = cache[key]
            links = [(link, float(prices[col[link.tier]]), link.markup) for link, joiner in groups
                     if _active(link, joiner, s, seen[id(link)])]
            news = None
            if prices.size and np.any(prices > previous * (1.0 + threshold)):
                news = np.zeros((len(ctx.groups) + 1, ctx.base.n), dtype=bool)
                news[0] = api_capable  # the lab's holders on its API see the rise
            phases.append(Phase(s, ctx.terms(v0, x, pay, links), news=news))
            previous = prices
        plans[option] = Plan(phases)
    return plans


def api_product(tier: int) -> Product:
    """The product of API tier ``tier``."""
    return Product("api", tier=tier)
