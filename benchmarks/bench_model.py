"""Time the default scenario at several population sizes; prints a table.

Usage: python benchmarks/bench_model.py [--rounds 120] [--sizes 10000,100000,1000000]
Each size runs in a fresh subprocess so that peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(n: int, rounds: int) -> dict:
    from market.config import config_from
    from market.simulate import run_once

    cfg = config_from(None, {"customers.n_customers": n, "world.rounds": rounds})
    t0 = time.perf_counter()
    run_once(cfg, seed=0)
    secs = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"customers": n, "rounds": rounds, "seconds": secs, "customer_rounds_per_s": n * rounds / secs,
            "peak_rss_mb": rss_mb}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.rounds)))
        return
    print(f"{'customers':>10} {'rounds':>7} {'seconds':>9} {'cust-rounds/s':>15} {'peak RSS MB':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--rounds", str(args.rounds)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['customers']:>10,} {r['rounds']:>7} {r['seconds']:>9.1f} {r['customer_rounds_per_s']:>15,.0f} "
              f"{r['peak_rss_mb']:>12,.0f}")


if __name__ == "__main__":
    main()
