"""Sweep throughput: runs per second on 1 and 2 local worker processes, and the scaling ratio.

A sweep of one point × ``--runs`` replicates of the default scenario with ``--customers`` customers and
``--rounds`` rounds is run through :func:`runs.sweeps.sweep.run_sweep` (so file writing is included) into a temporary
folder, once per worker count. Worker processes come from a forkserver and are reused across runs; the
forkserver is booted by a small warm-up sweep first, so each timed sweep pays only its pool start (≈ 30 ms),
not the ≈ 1.2 s import of a fresh interpreter per worker. ``--serial`` adds the in-process executor and
``--spawn`` a pool of freshly spawned interpreters (cold start included) for comparison.

Usage: python benchmarks/bench_sweep.py [--runs 8] [--customers 100000] [--rounds 24] [--workers 1,2]
                                        [--serial] [--spawn]
Prints a table: executor, workers, runs, wall time (s), runs/s, speed-up over the first row's workers.
The target on a 2-core machine is a ratio ≥ 1.7 between 2 workers and 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.sweeps.executors import ProcessExecutor, SerialExecutor  # noqa: E402
from runs.sweeps.sweep import make_plan, run_sweep  # noqa: E402


def timed_sweep(folder: Path, plan, executor) -> tuple[float, int]:
    """Wall time (s) and successful runs of one sweep of ``plan`` on ``executor`` into ``folder``."""
    t0 = time.perf_counter()
    report = run_sweep(folder, plan, executor, progress=False)
    return time.perf_counter() - t0, report.ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; returns 0, or 1 if a run failed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--serial", action="store_true", help="add the in-process executor")
    ap.add_argument("--spawn", action="store_true", help="add a spawn-started pool (cold start included)")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    plan = make_plan(None, {"customers.n_customers": args.customers}, rounds=args.rounds, replicates=args.runs,
                     master_seed=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        tmp = Path(tmp)
        warm = make_plan(None, {"customers.n_customers": 2000}, rounds=1, replicates=max(counts))
        run_sweep(tmp / "warm-up", warm, ProcessExecutor(max(counts)), progress=False)
        cases = [("processes (forkserver)", w, lambda w=w: ProcessExecutor(w)) for w in counts]
        if args.serial:
            cases.insert(0, ("serial (in process)", 1, SerialExecutor))
        if args.spawn:
            cases += [("processes (spawn, cold)", w, lambda w=w: ProcessExecutor(w, "spawn")) for w in counts]
        for i, (name, workers, make) in enumerate(cases):
            wall, ok = timed_sweep(tmp / f"case{i}", plan, make())
            rows.append((name, workers, ok, wall))
    print(f"sweep benchmark: {args.runs} runs × {args.customers:,} customers × {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'executor':<26}{'workers':>8}{'runs':>6}{'wall s':>9}{'runs/s':>9}{'speed-up':>10}")
    base = next(r for r in rows if r[1] == counts[0] and r[0].startswith("processes (fork"))
    for name, workers, ok, wall in rows:
        print(f"{name:<26}{workers:>8}{ok:>6}{wall:>9.2f}{ok / wall:>9.3f}{base[3] / wall:>9.2f}×")
    fork = {w: wall for name, w, _, wall in rows if name.startswith("processes (fork")}
    if 1 in fork and 2 in fork:
        print(f"scaling ratio, 2 workers / 1 worker: {fork[1] / fork[2]:.2f}× (target ≥ 1.7×)")
    return 0 if all(ok == args.runs for _, _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
