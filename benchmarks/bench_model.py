"""Speed of one run: the default scenario at several population sizes, the reference mode side by side, and the
fitted growth of cost in customers and rounds. Prints tables; asserts nothing (DEVELOPERS.md: speed is measured,
not unit-tested).

Usage: python benchmarks/bench_model.py [--rounds 120] [--sizes 10000,100000,1000000]
                                        [--reference-customers 100000] [--reference-rounds 4] [--profile FILE]

Every measurement runs in a fresh subprocess, so peak memory (max RSS) is that run's own and no run warms
another's caches. The reference mode (one Mesa agent per customer, plain Python) is timed on
``--reference-rounds`` rounds and scaled to ``--rounds``: set-up once plus the measured seconds per round; the
vectorised mode is timed the same way at the same size for the side-by-side ratio. ``--profile FILE`` also writes
a pyinstrument text profile of the largest vectorised run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def one(n: int, rounds: int, mode: str) -> dict:
    """Set-up and step times (s) and peak RSS (MB) of the default scenario with ``n`` customers."""
    from market.config import config_from
    from market.model import TokenMarket

    cfg = config_from(None, {"customers.n_customers": n, "world.rounds": rounds, "customers.mode": mode})
    t0 = time.perf_counter()
    model = TokenMarket(cfg, rng=0)
    t1 = time.perf_counter()
    for _ in range(rounds):
        model.step()
    model.recorder.frames()
    t2 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"customers": n, "rounds": rounds, "mode": mode, "setup_s": t1 - t0, "steps_s": t2 - t1,
            "seconds": t2 - t0, "peak_rss_mb": rss_mb}


def _child(n: int, rounds: int, mode: str = "vectorised", profile: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(n), "--rounds", str(rounds), "--mode", mode]
    if profile:
        cmd = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", profile, __file__, *cmd[2:]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(next(line for line in out.stdout.splitlines()[::-1] if line.startswith("{")))


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(intercept s, slope s per unit, log-log exponent) of y against x."""
    slope, intercept = np.polyfit(x, y, 1)
    exponent = np.polyfit(np.log(x), np.log(y), 1)[0]
    return float(intercept), float(slope), float(exponent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--reference-customers", type=int, default=100_000)
    ap.add_argument("--reference-rounds", type=int, default=4)
    ap.add_argument("--profile", default=None, help="write a pyinstrument profile of the largest run here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="vectorised", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.rounds, args.mode)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Default scenario, vectorised customers, {args.rounds} rounds, seed 0 (fresh process each)")
    print(f"{'customers':>10} {'set-up s':>9} {'steps s':>8} {'total s':>8} {'cust-rounds/s':>14} {'peak RSS MB':>12}")
    rows = []
    for n in sizes:
        r = _child(n, args.rounds, profile=args.profile if n == max(sizes) else None)
        rows.append(r)
        print(f"{n:>10,} {r['setup_s']:>9.2f} {r['steps_s']:>8.2f} {r['seconds']:>8.2f} "
              f"{n * args.rounds / r['seconds']:>14,.0f} {r['peak_rss_mb']:>12,.0f}")
    if len(rows) >= 2:
        a, b, e = _fit(np.array(sizes, float), np.array([r["seconds"] for r in rows]))
        print(f"fit in customers: {a:.2f} s + {b * 1e6:.2f} s per million customers (log-log exponent {e:.2f}; "
              f"1.00 = linear)")

    n_mid = args.reference_customers
    print(f"\nRounds at {n_mid:,} customers, vectorised")
    print(f"{'rounds':>7} {'total s':>8}")
    series = [max(1, args.rounds // 4), max(1, args.rounds // 2), args.rounds]
    times = []
    for rounds in series:
        r = _child(n_mid, rounds)
        times.append(r["seconds"])
        print(f"{rounds:>7} {r['seconds']:>8.2f}")
    a, b, e = _fit(np.array(series, float), np.array(times))
    print(f"fit in rounds: {a:.2f} s + {b * 1e3:.1f} ms per round (log-log exponent {e:.2f})")

    k = args.reference_rounds
    print(f"\nSide by side at {n_mid:,} customers, timed on {k} rounds, scaled to {args.rounds}: "
          f"set-up + {args.rounds} × (seconds per round)")
    print(f"{'mode':>11} {'set-up s':>9} {'s/round':>9} {f'{args.rounds} rounds s':>15} {'peak RSS MB':>12}")
    est = {}
    for mode in ("vectorised", "agents"):
        r = _child(n_mid, k, mode)
        per_round = r["steps_s"] / k
        est[mode] = (r["setup_s"], per_round, r["setup_s"] + args.rounds * per_round)
        print(f"{mode:>11} {r['setup_s']:>9.2f} {per_round:>9.3f} {est[mode][2]:>15.1f} {r['peak_rss_mb']:>12,.0f}")
    print(f"vectorised is {est['agents'][2] / est['vectorised'][2]:,.0f}× faster over a {args.rounds}-round run "
          f"({est['agents'][1] / est['vectorised'][1]:,.0f}× per round, {est['agents'][0] / est['vectorised'][0]:,.0f}× "
          f"at set-up)")
    if args.profile:
        print(f"\nprofile of the {max(sizes):,}-customer run: {args.profile}")


if __name__ == "__main__":
    main()
