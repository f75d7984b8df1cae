"""Outcome frequencies per scenario over seeds: the table behind the strategy issue's claims.

Usage: python benchmarks/outcome_frequencies.py [--seeds 10] [--customers 20000] [--rounds 72] [--workers 2]
       [--scenarios baseline,commodity_pipe,...]
Prints, per scenario, in how many seeds each outcome detector fired.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from market.config import config_from, list_scenarios
from market.simulate import run_once

OUTCOMES = ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover")


def flags(job: tuple[str, int, int, int]) -> tuple[str, dict[str, bool]]:
    """Run one (scenario, seed, customers, rounds) and return the scenario name and its outcome flags."""
    scenario, seed, customers, rounds = job
    cfg = config_from(scenario, {"customers.n_customers": customers, "world.rounds": rounds})
    return scenario, run_once(cfg, seed).flags()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=72)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenarios", default=",".join(list_scenarios()))
    args = ap.parse_args()
    names = args.scenarios.split(",")
    jobs = [(s, seed, args.customers, args.rounds) for s in names for seed in range(args.seeds)]
    counts = {s: dict.fromkeys(OUTCOMES, 0) for s in names}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        for scenario, f in pool.map(flags, jobs):
            for k in OUTCOMES:
                counts[scenario][k] += bool(f.get(k))
    print(f"seeds={args.seeds} customers={args.customers:,} rounds={args.rounds} "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"{'scenario':<32}" + "".join(f"{k:>24}" for k in OUTCOMES))
    for s in names:
        print(f"{s:<32}" + "".join(f"{counts[s][k]:>21}/{args.seeds}" for k in OUTCOMES))


if __name__ == "__main__":
    main()
