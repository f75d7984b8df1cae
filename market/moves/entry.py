"""Vertical entry (stay out, build, acquire) and terms for rival wrappers (normal, surcharge, cut off), as
forecast plans (docs/design.md, "Strategic moves").

Entry. ``build`` pays ``vertical_build_cost_usd`` now and opens the lab's app in the vertical after
``vertical_build_months`` (its plans priced at the wrappers' mean there, its quality the lab's model ×
``vertical_app_multiplier``); the launch is news to the vertical's customers. ``acquire`` buys one wrapper now: its
customers become the lab's (no switching), its plans run on the lab's model (quality × the better of the wrapper's
and the app's multiplier), and the lab takes over its cash. Either way the chain counts what the lab's app takes from
wrappers that buy the lab's tokens: the token margin it gives up. The price of a wrapper is set by Nash bargaining
(``market.moves.value.nash_price``): the wrapper's owners keep its standalone value S (a DCF at the investors'
required return) without a deal, the lab gains G (its owners' value with the wrapper, the wrapper's cash included,
less without); they trade when G > S, at S + (1 − β)(G − S) with β = ``moves.bargaining_weight``. No revenue
multiple, no revenue threshold: a lab enters when, and only when, the forecast says it pays.

Terms. In a vertical where the lab has an app, a ``surcharge`` raises the price of its tokens to rival wrappers by
``moves.surcharge_share`` and ``cut_off`` stops selling to them. A wrapper answers by its own rule: it stays while
the price is below the level its sourcing forecast tolerates (``WrapperLink.stay_below``), else it moves to its best
other supplier from its last sourcing review (a cut-off forces that at once). A wrapper passes a change in its token
cost per subscriber on to its plan prices one for one (assumption: with logit demand a small firm's markup barely
moves with its cost), so its customers drift to the lab's app as its prices rise or its model gets worse.
"""

from __future__ import annotations

import numpy as np

from market import demand
from market.config import VERTICALS
from market.moves.context import LabContext, Link
from market.moves.evaluate import Plan
from market.moves.forecast import Phase, Terms
from market.moves.sample import pick_offers, terms_on_sample
from market.offers import VERTICAL


def wrapper_plan_prices(model, vertical: str, lab) -> list[float]:
    """Plan prices ($/month) a lab's new app in ``vertical`` launches at: the mean of the wrappers' there, or the
    wrappers' configured prices when there are none."""
    rivals = [w.plan_prices for w in model.alive(model.wrappers) if w.vertical == vertical]
    defaults = [p.price_usd_per_month for p in lab.vertical_plans]
    return [float(np.mean([r[k] for r in rivals])) if rivals else defaults[k] for k in range(len(defaults))]


def _app_offers(ctx: LabContext, vertical: str) -> demand.Offers:
    """The lab's app in ``vertical`` as offers (one per plan of the wrappers' menu), in the book's terms."""
    lab, offers = ctx.lab, ctx.offers
    v = VERTICALS.index(vertical)
    plans = lab.vertical_plans
    k = len(plans)
    fit = np.zeros((offers.fit.shape[0], k))
    fit[v] = lab.vertical_fit(vertical)
    return demand.Offers(
        fit=fit, quality=np.full(k, lab.quality * lab.cfg.vertical_app_multiplier),
        price_month=np.array(wrapper_plan_prices(ctx.model, vertical, lab)), price_mtok=np.zeros(k),
        cap_mtok=np.array([p.cap_mtok for p in plans]),
        overage_usd_per_mtok=np.array([np.inf if p.overage_usd_per_mtok is None else p.overage_usd_per_mtok
                                       for p in plans]),
        api=np.zeros(k, bool), alive=np.ones(k, bool), pool=np.full(k, -1), owner=np.full(k, lab.unique_id),
        nest=np.full(k, demand.NEST_APPS), size=np.ones(k), brand=np.full(k, lab.brand))


def build_plan(ctx: LabContext, vertical: str) -> Plan:
    """The ``build`` option in ``vertical``: the app's offers appended as new rows, closed until launch."""
    cfg = ctx.lab.cfg
    new = _app_offers(ctx, vertical)
    v0n, xn, payn = terms_on_sample(ctx.base, new)
    j, k = ctx.offers.n, new.n
    ids = np.arange(j, j + k)
    stack = lambda a, b: np.vstack([a, b])  # noqa: E731
    v0_open = stack(ctx.base.v0, v0n)
    x, pay = stack(ctx.base.x, xn), stack(ctx.base.pay, payn)
    v0_closed = stack(ctx.base.v0, np.full_like(v0n, -np.inf))
    own = np.concatenate([ctx.own, ids])
    cost = np.concatenate([ctx.cost, np.full(k, ctx.unit_cost)])
    values = ctx.values(x, pay, ctx.now_links(), own=own, cost=cost)
    launch = 1 + cfg.vertical_build_months
    phases = [Phase(1, Terms(v0_closed if launch > 1 else v0_open, x, pay, values))]
    news = np.zeros((len(ctx.groups) + 1, ctx.base.n), dtype=bool)
    news[:, ctx.base.vertical == VERTICALS.index(vertical)] = True
    if 1 < launch <= ctx.months:
        phases.append(Phase(launch, Terms(v0_open, x, pay, values), news=news))
    one_off = np.zeros(ctx.months)
    one_off[0] = cfg.vertical_build_cost_usd
    groups = (own, ctx.groups[1])
    return Plan(phases, groups=groups, nest=np.concatenate([ctx.nest, new.nest]), one_off=one_off,
                feasible=ctx.lab.cash_usd >= cfg.vertical_build_cost_usd)


def acquire_plan(ctx: LabContext, wrapper, price_usd: float) -> Plan:
    """The lab buys ``wrapper`` now at ``price_usd`` (its cash comes with it): its plans become the lab's."""
    lab = ctx.lab
    rows = np.array([j for j in ctx.model.book.ids(wrapper) if j < ctx.offers.n], dtype=np.int64)
    v = VERTICALS.index(wrapper.vertical)
    fit = ctx.offers.fit[:, rows].copy()
    fit[v] = lab.vertical_fit(wrapper.vertical)
    quality = lab.quality * max(wrapper.product_multiplier, lab.cfg.vertical_app_multiplier)
    v0, x, pay = ctx.with_rows(rows, fit=fit, quality=np.full(rows.size, quality),
                               owner=np.full(rows.size, lab.unique_id), brand=np.full(rows.size, lab.brand))
    own = np.concatenate([ctx.own, rows])
    cost = np.concatenate([ctx.cost, np.full(rows.size, ctx.unit_cost)])
    links = [(lk, lab.tier_price(lk.tier), lk.markup) for lk in ctx.links if lk.wrapper is not wrapper]
    w_rows = np.concatenate([lk.rows for lk, _, _ in links]).astype(np.int64) if links else np.empty(0, np.int64)
    one_off = np.zeros(ctx.months)
    one_off[0] = price_usd - wrapper.cash_usd
    return Plan([Phase(1, Terms(v0, x, pay, ctx.values(x, pay, links, own=own, cost=cost)))],
                groups=(own, w_rows), one_off=one_off, feasible=price_usd <= lab.cash_usd)


def _alternative(wrapper, lab) -> tuple[float, float] | None:
    """(price $/Mtok, quality) of the wrapper's best supplier other than ``lab`` at its last review, or None."""
    obs = wrapper.sourcing
    if obs is None:
        return None
    others = [k for k, o in enumerate(obs.options) if o.seller_id != lab.unique_id]
    if not others:
        return None
    k = max(others, key=lambda i: (obs.profit_usd[i], -obs.options[i].seller_id))
    return obs.options[k].price_usd_per_mtok, obs.options[k].quality


def terms_plans(ctx: LabContext, vertical: str, options: tuple[str, ...], lag: int) -> dict[str, Plan]:
    """A :class:`Plan` per terms option for the wrappers of ``vertical`` that buy the lab's tokens."""
    lab = ctx.lab
    share = ctx.model.config.moves.surcharge_share
    markup = {"normal": 1.0, "surcharge": 1.0 + share}
    mine = [lk for lk in ctx.links if lk.wrapper.vertical == vertical]
    plans = {}
    for option in options:
        stays, moves = [], []
        for lk in mine:
            price = lab.tier_price(lk.tier)
            if option != "cut_off" and price * markup[option] <= lk.stay_below * lk.markup:
                stays.append(lk)
            else:
                moves.append(lk)
        rows, prices, quality = [], [], []
        for lk in stays + moves:
            old = lab.tier_price(lk.tier) * lk.markup
            if lk in stays:
                new, q = lab.tier_price(lk.tier) * markup[option], None
            else:
                alt = _alternative(lk.wrapper, lab)
                new, q = alt if alt is not None else (old, 0.0)
            for j in lk.rows:
                rows.append(j)
                prices.append(ctx.offers.price_month[j] + (new - old) * ctx.base.oracle.mean_units(int(j)))
                quality.append(ctx.offers.quality[j] if q is None else q * lk.wrapper.product_multiplier)
        start = 1 if option == "cut_off" else 1 + lag
        rows = np.array(rows, dtype=np.int64)
        v0, x, pay = ctx.with_rows(rows, price_month=np.maximum(0.0, prices), quality=np.array(quality, dtype=float))
        paying = [(lk, lab.tier_price(lk.tier), markup.get(option, 1.0)) for lk in stays]
        paying += [(lk, lab.tier_price(lk.tier), lk.markup) for lk in ctx.links if lk.wrapper.vertical != vertical]
        phases = [Phase(1, ctx.terms(links=None if start > 1 else paying, v0=None if start > 1 else v0,
                                     x=None if start > 1 else x, pay=None if start > 1 else pay))]
        if start > 1 and start <= ctx.months:
            phases.append(Phase(start, ctx.terms(v0, x, pay, paying)))
        plans[option] = Plan(phases)
    return plans


def entered(lab, vertical: str) -> bool:
    """Whether the lab has an app in ``vertical`` or is building one."""
    return vertical in lab.vertical_plan_prices or vertical in lab.building


def app_rows(ctx: LabContext, vertical: str) -> np.ndarray:
    """The lab's app offers in ``vertical``."""
    return ctx.own_rows(VERTICAL, vertical)
