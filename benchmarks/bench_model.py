"""Speed of one run: the default scenario at several population sizes, the reference mode side by side, and the
fitted growth of cost in customers and rounds. Prints tables; asserts nothing (DEVELOPERS.md: speed is measured,
not unit-tested).

Usage: python benchmarks/bench_model.py [--rounds 120] [--sizes 10000,100000,1000000]
                                        [--reference-customers 100000] [--reference-rounds 4] [--profile FILE]

Every measurement runs in a fresh subprocess, so peak memory (max RSS) is that run's own and no run warms
another's caches. The first table also gives the run's CPU time (``time.process_time``, set-up and steps), the figure
to compare on a shared machine; the fastest repeat is the one of least CPU time. The reference mode (one Mesa agent per customer, plain Python) is timed on
``--reference-rounds`` rounds and scaled to ``--rounds``: set-up once plus the measured seconds per round; the
vectorised mode is timed the same way at the same size for the side-by-side ratio. ``--profile FILE`` also writes
a pyinstrument text profile of the largest vectorised run.

Measured on 2026-12-08 (2 cores shared with other sessions: CPU seconds of ``--child 1000000 --rounds 120`` of
this script, one fresh process each, the trees alternated run by run; every run given, least first):

=======================================================  ===================================  ===========
tree                                                     1M × 120, CPU s                      peak RSS MB
=======================================================  ===================================  ===========
31457f1 (before the speed work)                          28.6 29.7 33.0 33.4 33.6 34.9 38.3    355-358
                                                         38.6 40.2
exact speed-ups only (c20606f: the same CSV bytes)       33.0 33.0 36.5                        356
+ quarterly planning reviews (before merging main)       27.6 28.1 30.4 37.8                   358
main be27627 (free-tier forecast with awareness)         42.7 43.3                             358
  merged with this branch                                32.2 32.3                             379
main 53aab1d (with the training and clones branches)     35.9 38.0 38.6 47.2                   356-363
  merged with this branch (the branch's head)            31.3 36.2 37.4 41.3                   361-367
=======================================================  ===================================  ===========

The same code varies by a third from one run to the next on this machine, as much as any change measured here:
at 1M the speed work is not distinguishable from the noise. Per round, where a comparison on one path is possible
(CPU ms, 120 rounds, ``TokenMarket.step`` and its parts timed with ``time.process_time``, runs in sequence):

=============  =====================  ==========  ===================  ==============  ================
customers      tree                   round       firms decide (all)   profit curves   GPU fleets+split
=============  =====================  ==========  ===================  ==============  ================
2,000          31457f1                92.8-127    74.7-102             30.0-42.9       12.4-16.6
2,000          exact (same path)      69.6-86.1   55.3-68.2            19.2-24.2       10.3-12.6
2,000          + planning reviews     83.5-111    66.2-88.2            24.9-34.0       8.0-10.5
100,000        31457f1                205.7       163.2                72.5            23.4
100,000        exact (same path)      173.8       135.1                51.4            22.4
100,000        main 53aab1d           189.7       156.9                54.2            43.2
100,000        head (merged)          207.7       170.8                48.4            49.4
=============  =====================  ==========  ===================  ==============  ================

The exact speed-ups take a fifth to a quarter off the firm-level work on the same path. The planning reviews cut
the GPU fleet step on the path before the training merge, but they move the path, and on the default scenario's
new path there are more products and more wrappers that could switch supplier (75 against 70 priced products and
227 against 146 joiner links a round at 2,000), whose profit curves cost more; after the training merge the
lab's costly forecast (the worth of a quality point against rivals' trend) was already quarterly, so deciding
the rest of the plan quarterly saves little. docs/design.md (Status) says what is left.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


# The population's methods: all the work a customer mode does; the rest of a round (firms, settlement,
# recording) is the same code in both modes.
POPULATION_WORK = ("reconsider", "tally", "counts", "ration", "drop_offers", "reassign", "consumer_surplus")


def one(n: int, rounds: int, mode: str) -> dict:
    """Set-up and step times (s), time inside the customer population's methods during the steps (s), and peak
    RSS (MB) of the default scenario with ``n`` customers."""
    from market.scenario import config_from
    from market.model import TokenMarket

    cfg = config_from(None, {"customers.n_customers": n, "world.rounds": rounds, "customers.mode": mode})
    c0, t0 = time.process_time(), time.perf_counter()
    model = TokenMarket(cfg, rng=0)
    t1 = time.perf_counter()
    spent, depth = [0.0], [0]
    pop = model.population

    def timed(method):
        def call(*args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:  # a method calling another (tally → counts) is counted once
                    spent[0] += time.perf_counter() - start
        return call

    for name in POPULATION_WORK:  # instance attributes shadow the methods
        setattr(pop, name, timed(getattr(pop, name)))
    for _ in range(rounds):
        model.step()
    model.recorder.frames()
    t2 = time.perf_counter()
    cpu = time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"customers": n, "rounds": rounds, "mode": mode, "setup_s": t1 - t0, "steps_s": t2 - t1,
            "population_s": spent[0], "seconds": t2 - t0, "cpu_s": cpu, "peak_rss_mb": rss_mb}


def _child(n: int, rounds: int, mode: str = "vectorised", profile: str | None = None, repeat: int = 1) -> dict:
    """The fastest of ``repeat`` fresh-process runs (timeit's convention: slower ones measure interference)."""
    cmd = [sys.executable, __file__, "--child", str(n), "--rounds", str(rounds), "--mode", mode]
    runs = []
    for _ in range(repeat):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(next(line for line in out.stdout.splitlines()[::-1] if line.startswith("{"))))
    if profile:  # a separate run: the profiler's overhead must not reach the timings
        subprocess.run([sys.executable, "-m", "pyinstrument", "-r", "text", "-o", profile, __file__, *cmd[2:]],
                       capture_output=True, text=True, check=True)
    return min(runs, key=lambda r: r["cpu_s"])  # CPU time: on a shared machine wall time measures the neighbours


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line y = a + b·x: fixed cost plus a cost per unit."""
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--reference-customers", type=int, default=100_000)
    ap.add_argument("--reference-rounds", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is reported")
    ap.add_argument("--profile", default=None, help="write a pyinstrument profile of the largest run here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="vectorised", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.rounds, args.mode)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Default scenario, vectorised customers, {args.rounds} rounds, seed 0 (fresh process each, fastest of "
          f"{args.repeat})")
    print(f"{'customers':>10} {'set-up s':>9} {'steps s':>8} {'total s':>8} {'CPU s':>7} {'cust-rounds/s':>14} "
          f"{'peak RSS MB':>12}")
    rows = []
    for n in sizes:
        r = _child(n, args.rounds, profile=args.profile if n == max(sizes) else None, repeat=args.repeat)
        rows.append(r)
        print(f"{n:>10,} {r['setup_s']:>9.2f} {r['steps_s']:>8.2f} {r['seconds']:>8.2f} {r['cpu_s']:>7.2f} "
              f"{n * args.rounds / r['seconds']:>14,.0f} {r['peak_rss_mb']:>12,.0f}")
    if len(rows) >= 2:
        x, y = np.array(sizes, float), np.array([r["seconds"] for r in rows])
        a, b = _fit(x, y)
        print(f"linear fit in customers: {a:.2f} s + {b * 1e6:.2f} s per million customers; "
              f"residuals {', '.join(f'{d:+.0%}' for d in (a + b * x) / y - 1)}")

    n_mid = args.reference_customers
    print(f"\nRounds at {n_mid:,} customers, vectorised")
    print(f"{'rounds':>7} {'total s':>8}")
    series = [max(1, args.rounds // 4), max(1, args.rounds // 2), args.rounds]
    times = []
    for rounds in series:
        r = _child(n_mid, rounds, repeat=args.repeat)
        times.append(r["seconds"])
        print(f"{rounds:>7} {r['seconds']:>8.2f}")
    x, y = np.array(series, float), np.array(times)
    a, b = _fit(x, y)
    print(f"linear fit in rounds: {a:.2f} s + {b * 1e3:.1f} ms per round; "
          f"residuals {', '.join(f'{d:+.0%}' for d in (a + b * x) / y - 1)}")

    k = args.reference_rounds
    print(f"\nSide by side at {n_mid:,} customers, timed on {k} rounds, scaled to {args.rounds}: "
          f"set-up + {args.rounds} × (seconds per round)")
    print(f"{'mode':>11} {'set-up s':>9} {'s/round':>9} {'customers s/round':>18} {f'{args.rounds} rounds s':>15} "
          f"{'peak RSS MB':>12}")
    est = {}
    for mode in ("vectorised", "agents"):
        r = _child(n_mid, k, mode, repeat=args.repeat if mode == "vectorised" else 1)
        per_round, customers = r["steps_s"] / k, r["population_s"] / k
        est[mode] = (r["setup_s"], per_round, r["setup_s"] + args.rounds * per_round, customers)
        print(f"{mode:>11} {r['setup_s']:>9.2f} {per_round:>9.4f} {customers:>18.4f} {est[mode][2]:>15.1f} "
              f"{r['peak_rss_mb']:>12,.0f}")
    vec, ref = est["vectorised"], est["agents"]
    print(f"vectorised is {ref[2] / vec[2]:,.0f}× faster over a {args.rounds}-round run ({ref[1] / vec[1]:,.0f}× per "
          f"round, {ref[0] / vec[0]:,.0f}× at set-up); the customer population's own work (choice, tallies, "
          f"rationing, consumer surplus) is {ref[3] / vec[3]:,.0f}× faster")
    if args.profile:
        print(f"\nprofile of the {max(sizes):,}-customer run: {args.profile}")


if __name__ == "__main__":
    main()
