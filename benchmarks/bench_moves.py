"""What strategic reviews cost: CPU time of a run and of the labs' reviews inside it (market/moves/).

Usage: python benchmarks/bench_moves.py [--customers 1000000] [--rounds 120] [--scenario baseline] [--seed 0]

Prints the run's CPU seconds (set-up and steps), the reviews' share of them, the number of reviews, CPU
milliseconds per review and per round, and the same per move. CPU time, not wall time, because the machine is
shared. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import market.moves.review as review_module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from market.scenario import config_from
    from market.model import TokenMarket

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def timed(name, fn):
        def call(*a, **k):
            start = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.process_time() - start
                calls[name] += 1
        return call

    for name in ("_api_conduct", "_vertical", "_rival_terms", "_free_tier", "_publish", "lab_context"):
        setattr(review_module, name, timed(name, getattr(review_module, name)))
    import market.model as model_module
    model_module.review = timed("review", review_module.review)

    cfg = config_from(args.scenario, {"customers.n_customers": args.customers, "world.rounds": args.rounds})
    t0 = time.process_time()
    model = TokenMarket(cfg, rng=args.seed)
    t1 = time.process_time()
    for _ in range(args.rounds):
        model.step()
    t2 = time.process_time()
    total = t2 - t0
    n = calls["review"]
    print(f"{args.scenario}, {args.customers:,} customers × {args.rounds} rounds, seed {args.seed}: "
          f"{total:.2f} s CPU ({t1 - t0:.2f} set-up, {t2 - t1:.2f} steps)")
    print(f"reviews: {n}, {spent['review']:.2f} s CPU = {spent['review'] / total:.1%} of the run; "
          f"{1e3 * spent['review'] / max(n, 1):.1f} ms per review, {1e3 * spent['review'] / args.rounds:.1f} ms "
          f"per round")
    print(f"{'part':<14} {'calls':>6} {'ms per call':>12} {'ms per round':>13}")
    for name in ("lab_context", "_api_conduct", "_vertical", "_rival_terms", "_free_tier", "_publish"):
        c = calls[name]
        print(f"{name.strip('_'):<14} {c:>6} {1e3 * spent[name] / max(c, 1):>12.1f} "
              f"{1e3 * spent[name] / args.rounds:>13.2f}")


if __name__ == "__main__":
    main()
