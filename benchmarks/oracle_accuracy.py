"""How far sellers' best responses move with the demand oracle's sample size and price grid, and what each costs.

For the default scenario at a given month, every priced product's best-response target (the peak of its profit
curve, refined by the parabola; agents/policies.py) is computed on the model's own demand with a stratified
sample of ``per_cell`` customers per segment × vertical and a grid of ``points`` candidate prices, and compared with
the target on a large sample (``--reference-cell``) and a fine grid (41 points). Prints, per setting, the median
and 90th percentile of |log(target / reference target)| over products and sample draws (× 100: ≈ per cent) and
and the profit the seller forgoes by pricing at the target instead of the reference target, as a share of its
best profit on the reference curve (the error that matters to the seller: a flat curve forgives a far-off price),
and the seconds one round's evaluation takes. Asserts nothing (DEVELOPERS.md: speed is measured, not unit-tested);
the defaults of ``pricing.sample_per_cell`` and ``pricing.grid_points`` cite its table.

Usage: python benchmarks/oracle_accuracy.py [--customers 200000] [--months 12,36] [--cells 100,150,200,300,600]
                                           [--points 7,9,13] [--draws 3] [--reference-cell 3000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def targets(model, per_cell: int, points: int, rng: np.random.Generator, stratified: bool = True) -> tuple[dict, float]:
    """Best-response target price per (firm id, offer id), and the seconds the curves took."""
    from agents.policies import BestResponse
    from agents.types import PriceObservation
    from market import pricing
    from market.oracle import DemandSample

    sample = DemandSample.draw(model._cells(), per_cell, rng, *(model._spend_traits() if stratified else ()))
    saved = model.sample
    model.sample = sample
    try:
        t0 = time.process_time()
        oracle = model.oracle_now(model.current_offers)
        firms = model.alive([*model.labs, *model.providers, *model.wrappers])
        views = {f.unique_id: pricing.firm_view(model, f) for f in firms}
        finer = lambda policy: BestResponse(policy.step_factor, points, policy.adjustment)  # noqa: E731
        products, meta = pricing.priced_products(
            model, oracle, firms, views, rule=lambda policy: finer(policy) if isinstance(policy, BestResponse) else policy)
        curves = oracle.curves(views, products)
        seconds = time.process_time() - t0
    finally:
        model.sample = saved
    out = {}
    for (f, product, grid, posted), (_, j, _, _), profits in zip(meta, products, curves):
        obs = PriceObservation(product, posted, 0.0, candidate_prices=grid, candidate_profits_usd=profits)
        policy = f.policy_for(product)
        if isinstance(policy, BestResponse):
            out[(f.unique_id, j)] = (finer(policy).decide(obs).target, grid, profits)
    return out, seconds


def shortfall(ref: tuple, price: float) -> float:
    """The profit a seller forgoes, as a share of its best profit on the reference curve, by pricing at ``price``
    instead of the reference target (the curve interpolated linearly in log price)."""
    target, grid, profits = ref
    best = float(np.interp(np.log(target), np.log(grid), profits))
    at = float(np.interp(np.log(price), np.log(grid), profits))
    return max(0.0, best - at) / abs(best) if best != 0 else 0.0


def main() -> None:
    """Print the table."""
    from market.scenario import config_from
    from market.model import TokenMarket
    from market.threads import one_blas_thread

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--months", default="12,36")
    ap.add_argument("--cells", default="100,150,200,300,600")
    ap.add_argument("--points", default="7,9,13")
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--reference-cell", type=int, default=3000)
    ap.add_argument("--design", choices=("spend", "random"), default="spend",
                    help="the small samples' design: the model's (spend: tails whole, systematic) or simple random")
    a = ap.parse_args()
    months = [int(x) for x in a.months.split(",")]
    cells = [int(x) for x in a.cells.split(",")]
    points = [int(x) for x in a.points.split(",")]
    model = TokenMarket(config_from(None, {"customers.n_customers": a.customers}), rng=0)
    rows = []
    run = one_blas_thread(lambda m, c, p, r, st=True: targets(m, c, p, r, st))
    for month in months:
        while model.round < month:
            model.step()
        ref, _ = run(model, a.reference_cell, 41, np.random.default_rng(123), False)
        for c in cells:
            for p in points:
                errs, lost, secs = [], [], []
                for d in range(a.draws):
                    got, s = run(model, c, p, np.random.default_rng(1000 + d), a.design == "spend")
                    both = [k for k in ref if k in got and ref[k][0] > 0 and got[k][0] > 0]
                    errs += [abs(np.log(got[k][0] / ref[k][0])) for k in both]
                    lost += [shortfall(ref[k], got[k][0]) for k in both]
                    secs.append(s)
                rows.append((month, c, p, 100 * float(np.median(errs)), 100 * float(np.percentile(errs, 90)),
                             100 * float(np.median(lost)), 100 * float(np.percentile(lost, 90)), min(secs), len(ref)))
    print(f"{'month':>5} {'per_cell':>8} {'points':>6} {'price med %':>11} {'p90 %':>6} {'profit lost med %':>17} "
          f"{'p90 %':>6} {'seconds':>8} {'products':>8}")
    for month, c, p, med, p90, lmed, lp90, s, n in rows:
        print(f"{month:>5} {c:>8} {p:>6} {med:>11.2f} {p90:>6.2f} {lmed:>17.3f} {lp90:>6.3f} {s:>8.3f} {n:>8}")


if __name__ == "__main__":
    main()
