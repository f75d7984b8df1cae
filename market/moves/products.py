"""Free-tier size (off, small, large) and publishing weights (closed, publish) as forecast plans (docs/design.md,
"Strategic moves").

Free tier. Its cap is 0 (off: the offer closes and its users choose again), ``customers.free_tier_cap_mtok``
(small) or ``moves.free_tier_large_cap_mtok`` (large). Its value runs through three channels: the GPU time its tokens
take (at the lab's long-run marginal cost of its smallest model); conversion (a free user moves to the lab's plans
without a switching cost, which the holdings chain counts); and data: free-tier tokens D raise the lab's quality by
``world.data_gain`` · ln(1 + D / ``world.data_ref_mtok``) a month (market/quality.py), and a better model earns what
:func:`market.moves.evaluate.per_quality_point` says a quality point earns. The fleet is assumed to grow with the
free tier's load (the lab orders GPUs for serving plus its training share), so a larger free tier does not take
training compute in the forecast. And awareness: free users count among the users whose word of mouth makes
customers aware of AI and of the lab's apps (Bass diffusion, market/population.py); each size's forecast carries
that diffusion forward from its own users (market/moves/awareness.py), so the customers who become aware because
of free users and then pay are counted.

Publishing. A published model can be served by every host from ``open_weights.release_lag_months`` on: hosts'
quality rises to the lab's. In this model the publisher sells nothing to hosts and earns nothing from the weights
(no licence, no hiring or reputation channel, no complement that open weights make dearer), so publishing can pay
only by what it does to rivals — a rival lab whose customers the hosts take may run out of cash and leave
(market/moves/evaluate.py). Otherwise the hosts take some of the publisher's own customers and ``closed`` wins.
"""

from __future__ import annotations

import numpy as np

from market.moves.awareness import Diffusion
from market.moves.context import LabContext
from market.moves.evaluate import Plan, per_quality_point
from market.moves.forecast import Phase
from market.offers import FREE


def free_caps(model) -> dict[str, float]:
    """Token cap (Mtok/month) of each free-tier size; 0 is off."""
    return {"off": 0.0, "small": model.config.customers.free_tier_cap_mtok,
            "large": model.config.moves.free_tier_large_cap_mtok}


def data_gain(model, free_mtok: np.ndarray) -> np.ndarray:
    """Monthly quality gain (index points) from free-tier tokens (Mtok/month, real) as market/quality.py counts it."""
    w = model.config.world
    if not w.data_flywheel:
        return np.zeros_like(free_mtok)
    return w.data_gain * np.log1p(np.maximum(0.0, free_mtok) / w.data_ref_mtok)


def free_tier_plans(ctx: LabContext, options: tuple[str, ...], free_now: float, diffusion: Diffusion | None = None,
                    per_point: np.ndarray | None = None) -> dict[str, Plan]:
    """A :class:`Plan` per free-tier size; ``free_now`` is the lab's free-tier tokens now (Mtok/month, real), the
    level the data channel is measured from; ``diffusion``: the awareness each plan carries forward (None: held);
    ``per_point``: (2, T) $ a month a quality point earns (default: :func:`per_quality_point` on ``ctx``)."""
    row = ctx.own_rows(FREE)
    caps = free_caps(ctx.model)
    per_point = per_quality_point(ctx) if per_point is None else per_point
    base = data_gain(ctx.model, np.array([free_now]))[0]

    def gained(series: dict[str, np.ndarray]) -> np.ndarray:
        return np.cumsum(data_gain(ctx.model, series["free"]) - base)

    plans = {}
    for option in options:
        if option == "off":
            v0, x, pay = ctx.with_rows(row, alive=np.zeros(row.size, bool))
            forced = np.zeros((len(ctx.groups) + 1, ctx.base.n))
            forced[0] = np.isin(ctx.base.holding, row)
            phase = Phase(1, ctx.terms(v0, x, pay), forced=forced)
        else:
            v0, x, pay = ctx.with_rows(row, cap_mtok=np.full(row.size, caps[option]),
                                       alive=np.ones(row.size, bool))
            phase = Phase(1, ctx.terms(v0, x, pay))
        plans[option] = Plan([phase], quality=gained, per_quality=per_point, diffusion=diffusion)
    return plans


def publish_plans(ctx: LabContext, options: tuple[str, ...]) -> dict[str, Plan]:
    """A :class:`Plan` per publishing option: hosts serve the lab's model after the release lag, or not."""
    hosts = [r for r in ctx.rivals if r.firm.kind == "provider"]
    rows = np.concatenate([r.rows for r in hosts]).astype(np.int64) if hosts else np.empty(0, np.int64)
    plans = {}
    for option in options:
        if option == "closed" or rows.size == 0:
            plans[option] = Plan([Phase(1, ctx.terms())])
            continue
        quality = np.maximum(ctx.offers.quality[rows], ctx.lab.quality)
        v0, x, pay = ctx.with_rows(rows, quality=quality)
        start = 1 + ctx.model.config.open_weights.release_lag_months
        phases = [Phase(1, ctx.terms())] if start > 1 else []
        if start <= ctx.months:
            phases.append(Phase(start, ctx.terms(v0, x, pay)))
        plans[option] = Plan(phases)
    return plans
