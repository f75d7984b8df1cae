"""Game throughput: the game machinery (forced configs, executor, streamed rows, analysis) with a stub payoff.

A two-role game with ``--strategies`` strategies per role (a k × k bimatrix game, 9 profiles by default) is run
over ``--replicates`` seeds with one condition and free runs, through :func:`runs.games.execute.run_game` on local
worker processes, then analysed (payoff table, regret, nashpy equilibria, ``--bootstrap`` resamples). The model
is replaced by a stub that burns ``--work-ms`` of CPU per run and returns pseudo-random owners' values, so the
table measures what the game adds around the simulations: each run's config validation in the worker, pickling,
the runs.csv append, and the analysis. Add the model's own run time (benchmarks/bench_model.py) for a real game.

Usage: python benchmarks/bench_game.py [--replicates 10] [--strategies 3] [--work-ms 50] [--workers 1,2]
                                       [--bootstrap 200]
Prints a table: workers, profiles, runs, wall time of the runs (s), runs/s, speed-up over the first row, and the
analysis time (s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market.config import MOVES  # noqa: E402
from market.simulate import RunResult  # noqa: E402
from runs.sweeps.executors import ProcessExecutor  # noqa: E402
from runs.games.analysis import analyse_game  # noqa: E402
from runs.games.execute import run_game  # noqa: E402
from runs.games.plan import make_game_plan  # noqa: E402


@dataclass(frozen=True)
class BusyStub:
    """A stand-in for the model: ``work_ms`` of CPU, then owners' values that are a fixed pseudo-random function
    of the lab and the forced profile ($1B–$2B) plus $10M noise per seed."""

    labs: tuple[str, ...]
    work_ms: float

    def __call__(self, task) -> RunResult:
        end = time.process_time() + self.work_ms / 1000
        x = 0.0
        while time.process_time() < end:
            x += sum(i * i for i in range(200))
        config = task.config()
        key = repr(sorted((m.firm, m.option) for m in config.forced))
        payoffs = {lab: (1 + zlib.crc32(f"{lab}|{key}".encode()) / 2**32) * 1e9
                   + 1e7 * np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(i,))).normal()
                   for i, lab in enumerate(self.labs)}
        return RunResult(pd.DataFrame({"round": [1]}), pd.DataFrame(), pd.DataFrame(),
                         outcomes={"owners_value_usd": payoffs, "flags": {}})


def game_text(k: int, replicates: int, bootstrap: int) -> str:
    """A game file: two one-lab roles choosing among the first ``k`` options of api_conduct."""
    strategies = list(MOVES["api_conduct"][:k]) if k <= 3 else None
    if strategies is None:
        raise SystemExit("--strategies: at most 3 (the options of api_conduct)")
    roles = "".join(f'[[roles]]\nname = "{r}"\nlabs = ["{lab}"]\nmove = "api_conduct"\nstrategies = {strategies!r}\n'
                    .replace("'", '"') for r, lab in (("a", "lab_investor_a"), ("b", "lab_investor_b")))
    return f'name = "bench"\nreplicates = {replicates}\nbootstrap = {bootstrap}\n{roles}'


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; returns 0, or 1 if a run failed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--strategies", type=int, default=3)
    ap.add_argument("--work-ms", type=float, default=50.0, help="CPU time of the stub per run (ms)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--bootstrap", type=int, default=200)
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_game.") as tmp:
        tmp = Path(tmp)
        path = tmp / "game.toml"
        path.write_text(game_text(args.strategies, args.replicates, args.bootstrap))
        plan = make_game_plan(path)
        stub = BusyStub(tuple(plan.role_labs), args.work_ms)
        warm = make_game_plan(path, replicates=1)
        run_game(tmp / "warm-up", warm, ProcessExecutor(max(counts)), progress=False, simulate_fn=stub)
        for workers in counts:
            out = tmp / f"w{workers}"
            t0 = time.perf_counter()
            report = run_game(out, plan, ProcessExecutor(workers), progress=False, simulate_fn=stub)
            wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            analyse_game(out)
            rows.append((workers, report.n_runs, report.ok, wall, time.perf_counter() - t0))
    n_profiles = len(plan.profiles)
    print(f"game benchmark: {args.strategies}×{args.strategies} two-role game, {n_profiles} profiles + free runs × "
          f"{args.replicates} replicates, stub of {args.work_ms:g} ms CPU per run, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'workers':>8}{'profiles':>10}{'runs':>6}{'wall s':>9}{'runs/s':>9}{'speed-up':>10}{'analysis s':>12}")
    for workers, n, ok, wall, analysis in rows:
        print(f"{workers:>8}{n_profiles:>10}{ok:>6}{wall:>9.2f}{ok / wall:>9.2f}{rows[0][3] / wall:>9.2f}×"
              f"{analysis:>12.2f}")
    floor = (n_profiles + 1) * args.replicates * args.work_ms / 1000
    print(f"stub CPU alone: {floor:.2f} s on one core; the rest of the 1-worker wall time is the game's overhead")
    return 0 if all(ok == n for _, n, ok, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
