"""Speed for many runs (issue 16): where a run's time goes, sweep throughput on 1 and 2 workers, Dask against local
processes, and the projected time of a 1,000-run sweep and of a 3 × 3 two-role game.

Every figure is CPU time (``time.process_time``) where the machine is shared: wall time under other people's load
says more about the load than about the code. Wall times are printed too, with the load average, for an idle
machine's reading.

1. **Anatomy of one run** (in this process, after a warm-up run, so no import is counted): CPU of the config
   check, the model's set-up, the rounds, the detectors and outputs (``run_once`` minus the above), the sweep row
   (``evaluate``'s summary) and pickling the outcome a worker sends back. The rounds are timed at ``--customers``
   and at ``--small`` customers: the per-round CPU at the small population is the part of a round that does not
   grow with the population (firm-level Python: pricing, moves, settlement, recording).
2. **Sweeps** of ``--runs`` replicates through :func:`runs.sweeps.sweep.run_sweep` (rows and rounds written, as
   for a user) on the local process pool with 1 and 2 workers, and on a Dask ``LocalCluster`` of 2 one-thread
   worker processes (``--dask``). Each run records its own worker CPU, so the table gives CPU per run in the
   workers and in the main process (recording, pickling) besides wall time.
3. **Projections**: a 1,000-run sweep at ``--customers`` × ``--rounds`` and a 3 × 3 two-role game (9 profiles + free
   runs) × ``--game-seeds`` seeds at ``--customers`` × ``--game-rounds`` months, on 2 idle cores:
   runs × CPU per run / 2 (the scaling measured in 2. says how close to /2 it comes).

Usage: python benchmarks/bench_many_runs.py [--customers 100000] [--rounds 120] [--runs 4] [--small 2000]
                                            [--game-rounds 72] [--game-seeds 10] [--dask] [--skip-sweeps]
Prints tables; asserts nothing (speed is measured, never unit-tested).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from market.scenario import config_from  # noqa: E402
from market.model import TokenMarket  # noqa: E402
from market.simulate import RunResult, run_once  # noqa: E402
from runs.sweeps.executors import DaskExecutor, ProcessExecutor, RunTask, evaluate, simulate  # noqa: E402
from runs.sweeps.sweep import make_plan, run_sweep  # noqa: E402

GAME_PROFILES = 9 + 1  # a 3 × 3 two-role game: 9 forced profiles and the free runs


@dataclass(frozen=True)
class TimedSimulate:
    """The default run function, adding the worker's CPU time of the run (s) as a model column ``worker_cpu_s``,
    so that runs.csv carries it as ``last_worker_cpu_s`` whichever process ran it."""

    def __call__(self, task: RunTask) -> RunResult:
        t0 = time.process_time()
        result = simulate(task)
        result.model["worker_cpu_s"] = time.process_time() - t0
        return result


def cpu(fn, *args, **kwargs):
    """(result, CPU seconds) of ``fn(*args, **kwargs)`` in this process."""
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t0


def anatomy(customers: int, rounds: int, small: int, marks: tuple[int, ...] = (), seed: int = 3) -> dict[str, float]:
    """CPU seconds of each part of one run at ``customers`` × ``rounds`` (one run: the rounds are timed from
    ``run_once``'s per-round callback, the set-up on a model built apart), the CPU up to the end of each round in
    ``marks`` (s after the set-up), and the per-round CPU at ``small`` customers."""
    def plan_of(n: int, k: int):
        return make_plan(None, {"customers.n_customers": n}, rounds=k, replicates=1, master_seed=seed)

    warm = plan_of(1000, 2)
    evaluate(warm.tasks(warm.design.table())[0])  # warm-up: imports and first-call caches are not a run's cost
    plan = plan_of(customers, rounds)
    task = plan.tasks(plan.design.table())[0]
    out: dict[str, float] = {}
    cfg, out["config check"] = cpu(task.config)
    _, out["model set-up"] = cpu(TokenMarket, cfg, rng=task.seed)
    stamps: dict[int, float] = {}

    def fn(t: RunTask) -> RunResult:
        stamps[0] = time.process_time()
        result = run_once(cfg, t.seed, rounds=t.rounds, run_id=t.run_id,
                          on_round=lambda r: stamps.__setitem__(r, time.process_time()))
        stamps[-1] = time.process_time()
        return result

    t0 = time.process_time()
    outcome = evaluate(task, fn)
    t_end = time.process_time()
    last = max(r for r in stamps if r > 0)
    out["rounds_done"] = last
    out["rounds"] = stamps[last] - stamps[0] - out["model set-up"]
    out["detectors + outputs"] = stamps[-1] - stamps[last]
    out["sweep row (summary)"] = (t_end - t0) - (stamps[-1] - stamps[0])
    for m in marks:
        out[f"rounds_to_{m}"] = stamps[min(m, last)] - stamps[0] - out["model set-up"]
    blob, out["pickle outcome"] = cpu(pickle.dumps, outcome)
    out["outcome_bytes"] = len(blob)
    model = TokenMarket(config_from(None, {"customers.n_customers": small, "world.rounds": rounds}), rng=task.seed)
    t0 = time.process_time()
    while model.running and model.round < rounds:
        model.step()
    out["small_round"] = (time.process_time() - t0) / max(1, model.round)
    return out


PARTS = ("config check", "model set-up", "rounds", "detectors + outputs", "sweep row (summary)", "pickle outcome")


def sweep_case(folder: Path, plan, executor) -> dict[str, float]:
    """Wall and main-process CPU of one sweep, and its runs' worker CPU (from runs.csv)."""
    w0, c0 = time.perf_counter(), time.process_time()
    report = run_sweep(folder, plan, executor, progress=False, fn=TimedSimulate())
    wall, main_cpu = time.perf_counter() - w0, time.process_time() - c0
    runs = pd.read_csv(folder / "runs.csv")
    ok = runs[runs["status"] == "ok"]
    return {"ok": report.ok, "wall": wall, "main_cpu": main_cpu, "load": os.getloadavg()[0],
            "worker_cpu_mean": float(ok["last_worker_cpu_s"].mean()) if len(ok) else float("nan"),
            "worker_cpu_min": float(ok["last_worker_cpu_s"].min()) if len(ok) else float("nan")}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; returns 0, or 1 if a run failed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--runs", type=int, default=4, help="runs per sweep case")
    ap.add_argument("--small", type=int, default=2000, help="population of the per-round floor")
    ap.add_argument("--game-rounds", type=int, default=72)
    ap.add_argument("--game-seeds", type=int, default=10)
    ap.add_argument("--dask", action="store_true", help="add a Dask LocalCluster of 2 worker processes")
    ap.add_argument("--skip-sweeps", action="store_true", help="the anatomy and projections only")
    args = ap.parse_args(argv)

    a = anatomy(args.customers, args.rounds, args.small, marks=(args.game_rounds,))
    per_run = sum(a[p] for p in PARTS)
    print(f"one run: {args.customers:,} customers × {int(a['rounds_done'])} rounds, CPU seconds "
          f"(load average {os.getloadavg()[0]:.2f})")
    print(f"{'part':<26}{'CPU s':>9}{'share':>8}")
    for part in PARTS:
        print(f"{part:<26}{a[part]:>9.3f}{a[part] / per_run:>8.1%}")
    print(f"{'total':<26}{per_run:>9.3f}")
    per_round = a["rounds"] / a["rounds_done"]
    print(f"per round: {per_round * 1000:.1f} ms at {args.customers:,} customers, {a['small_round'] * 1000:.1f} ms at "
          f"{args.small:,} (the part that does not grow with the population: "
          f"{a['small_round'] / per_round:.0%} of a round); outcome pickled: {a['outcome_bytes'] / 1024:.0f} KiB")

    rows = []
    if not args.skip_sweeps:
        plan = make_plan(None, {"customers.n_customers": args.customers}, rounds=args.rounds,
                         replicates=args.runs, master_seed=1)
        with tempfile.TemporaryDirectory(prefix="bench_many_runs.") as tmp:
            tmp = Path(tmp)
            warm = make_plan(None, {"customers.n_customers": 2000}, rounds=1, replicates=2)
            run_sweep(tmp / "warm-up", warm, ProcessExecutor(2), progress=False)
            for workers in (1, 2):
                rows.append((f"processes ×{workers}", workers,
                             sweep_case(tmp / f"p{workers}", plan, ProcessExecutor(workers))))
            if args.dask:
                from distributed import LocalCluster

                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
                    with DaskExecutor(lc.scheduler_address) as ex:  # warm-up: imports once per worker
                        list(ex.outcomes(warm.tasks(warm.design.table())))
                    rows.append(("dask LocalCluster ×2", 2,
                                 sweep_case(tmp / "dask", plan, DaskExecutor(lc.scheduler_address))))
        print(f"\nsweeps: {args.runs} runs × {args.customers:,} customers × {args.rounds} rounds "
              f"({os.cpu_count()} CPUs)")
        print(f"{'executor':<22}{'runs':>5}{'wall s':>9}{'runs/s':>9}{'load':>6}{'worker CPU/run':>16}"
              f"{'main CPU/run':>14}{'idle-core runs/s':>18}")
        for name, workers, r in rows:
            idle = workers / (r["worker_cpu_mean"] + r["main_cpu"] / max(1, r["ok"]))
            print(f"{name:<22}{r['ok']:>5}{r['wall']:>9.1f}{r['ok'] / r['wall']:>9.3f}{r['load']:>6.1f}"
                  f"{r['worker_cpu_mean']:>16.2f}{r['main_cpu'] / max(1, r['ok']):>14.3f}{idle:>18.3f}")
        by = {name: r for name, _, r in rows}
        one, two = by["processes ×1"], by["processes ×2"]
        print(f"2 workers / 1 worker: wall {one['wall'] / two['wall']:.2f}× (under load {two['load']:.1f}); "
              f"CPU-based {2 * one['worker_cpu_mean'] / two['worker_cpu_mean']:.2f}× "
              f"(2 × worker CPU per run at 1 worker / at 2 workers; target ≥ 1.8×)")
        if "dask LocalCluster ×2" in by:
            d = by["dask LocalCluster ×2"]
            print(f"Dask / local processes (2 workers): wall {d['wall'] / two['wall']:.2f}×, worker CPU per run "
                  f"{d['worker_cpu_mean'] / two['worker_cpu_mean']:.2f}×, main CPU per run "
                  f"{d['main_cpu'] / max(1e-9, two['main_cpu']):.2f}× (target: within 15 %)")

    main_per_run = (rows[1][2]["main_cpu"] / max(1, rows[1][2]["ok"])) if rows else 0.0
    sweep_s = 1000 * (per_run + main_per_run) / 2
    # a game run of game_rounds months: the same run stopped earlier (set-up and outputs as measured)
    game_run = per_run - a["rounds"] + a[f"rounds_to_{args.game_rounds}"]
    game_s = GAME_PROFILES * args.game_seeds * (game_run + main_per_run) / 2
    print(f"\nprojections on 2 idle cores (runs × CPU per run / 2):")
    print(f"1,000-run sweep at {args.customers:,} × {args.rounds}: {sweep_s / 60:.1f} min (target 3 min: "
          f"{sweep_s / 180:.1f}× over; needs {180 / 1000 * 2 * 1000:.0f} ms CPU per run, "
          f"{360 / args.rounds:.1f} ms per round)")
    print(f"3 × 3 two-role game, {GAME_PROFILES * args.game_seeds} runs at {args.customers:,} × {args.game_rounds}: "
          f"{game_s / 60:.1f} min (target 10 min), {game_run:.1f} s CPU per run")
    return 0 if all(r["ok"] == args.runs for _, _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
