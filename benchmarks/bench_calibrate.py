"""How long a calibration takes: one evaluation (seeds × reduced population × rounds) timed, then extrapolated.

An *evaluation* is what one trial costs: the shipped targets' moments of the real model on ``--seeds`` seeds
(common random numbers) at ``--customers`` customers for the rounds the targets need. It is timed through the
same path the calibration uses (:class:`runs.calibration.moments.MomentRun` on a sweep executor), in this process
and on ``--workers`` local processes, fastest of ``--repeat``. The optuna overhead per trial (asking a TPE
sampler with a few hundred trials of history, telling, appending the CSV rows) is timed on a stub model.

The extrapolation: a calibration of P parameters needs ``trials`` evaluations for the search (``--trials-per-
parameter`` × P, 20 by default: TPE needs a few tens of points per dimension to settle), 2P for the Jacobian and
1 + ``path_draws`` for the report's paths. It prints how many trials fit in an hour and whether P = 1…12 fits.

Usage: python benchmarks/bench_calibrate.py [--seeds 4] [--customers 20000] [--workers 2] [--repeat 3]
                                            [--trials-per-parameter 20] [--path-draws 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market.simulate import RunResult  # noqa: E402
from runs.calibration.estimate import evaluate_points, make_plan  # noqa: E402
from runs.calibration.run import calibrate  # noqa: E402
from runs.calibration.moments import MomentRun  # noqa: E402
from runs.sweeps.executors import ProcessExecutor, SerialExecutor  # noqa: E402


def time_evaluation(plan, executor, repeat: int) -> float:
    """Fastest wall time (s) of one evaluation of the plan's base point on ``executor``."""
    fn = MomentRun(plan.targets)
    values = {p.path: p.default for p in plan.parameters.parameters}
    best = float("inf")
    with executor:
        for i in range(repeat):
            t0 = time.perf_counter()
            evaluate_points(executor, plan, [(f"bench{i}", i, values)], fn, lambda *a: None)
            best = min(best, time.perf_counter() - t0)
    return best


def stub(task) -> RunResult:
    """A model that costs nothing: every series column of the stub targets, constant over rounds."""
    rounds = np.arange(1, (task.rounds or 12) + 1)
    a = sum(float(v) for v in task.params.values())
    return RunResult(pd.DataFrame({"round": rounds, "x": a, "y": 2 * a}), pd.DataFrame(), pd.DataFrame())


STUB_TARGETS = """
[[series]]
name = "x"
table = "model"
column = "x"
[[series]]
name = "y"
table = "model"
column = "y"
[[target]]
name = "x"
series = "x"
figure = "openai_arr_2024_friar"
date = "2024-12"
tolerance = 1.5
weight = 1.0
reason = "benchmark"
[[target]]
name = "y"
series = "y"
figure = "openai_arr_2025_06"
date = "2025-06"
tolerance = 1.5
weight = 1.0
reason = "benchmark"
"""


def time_overhead(trials: int) -> float:
    """Seconds per trial of the search's own work (ask, tell, CSV rows) on the shipped 12 parameters and a stub."""
    with tempfile.TemporaryDirectory(prefix="bench_calibrate.") as tmp:
        tmp = Path(tmp)
        (tmp / "targets.toml").write_text(STUB_TARGETS)
        plan = make_plan(None, {}, targets=tmp / "targets.toml", customers=1000, seeds=1, trials=trials, draws=10,
                         path_draws=0)
        t0 = time.perf_counter()
        calibrate(tmp / "out", plan, progress=False, simulate=stub)
        return (time.perf_counter() - t0) / trials


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trials-per-parameter", type=int, default=20)
    ap.add_argument("--path-draws", type=int, default=10)
    ap.add_argument("--overhead-trials", type=int, default=300)
    args = ap.parse_args(argv)
    plan = make_plan(None, {}, customers=args.customers, seeds=args.seeds)
    serial = time_evaluation(plan, SerialExecutor(), args.repeat)
    pooled = time_evaluation(plan, ProcessExecutor(args.workers), args.repeat)
    overhead = time_overhead(args.overhead_trials)
    per_trial = pooled + overhead
    print(f"calibration benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"one evaluation = {args.seeds} seeds × {args.customers:,} customers × {plan.rounds} rounds "
          f"({len(plan.targets.targets)} targets)")
    print(f"{'executor':<28}{'wall s':>9}")
    print(f"{'serial (in process)':<28}{serial:>9.2f}")
    print(f"{f'{args.workers} local processes':<28}{pooled:>9.2f}")
    print(f"{'search overhead per trial':<28}{overhead:>9.3f}   (TPE with {args.overhead_trials} trials of history)")
    print(f"\ntrials in one hour on {args.workers} processes: {int(3600 / per_trial):,}")
    print(f"{'parameters':>10}{'trials':>8}{'jacobian':>10}{'paths':>7}{'minutes':>9}  fits in an hour")
    for p in (1, 2, 4, 6, 8, 10, 12):
        trials = args.trials_per_parameter * p
        evals = trials + 2 * p + 1 + args.path_draws
        minutes = (trials * per_trial + (evals - trials) * pooled) / 60
        print(f"{p:>10}{trials:>8}{2 * p:>10}{1 + args.path_draws:>7}{minutes:>9.1f}  {'yes' if minutes <= 60 else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
