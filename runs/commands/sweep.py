"""``tokenmarket sweep`` and ``tokenmarket analyze``: parse, validate, call :mod:`runs.sweeps.sweep` / :mod:`runs.sweeps.analyze`.

Registered by :func:`runs.commands.main.build_parser`. Bad input exits with status 2 and a message naming the field, the
value and what is allowed, before any run starts.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from runs.commands.common import FOLDER, SCENARIO, UsageError, float_arg, int_arg, parse_sets, text_arg
from runs.sweeps.analyze import MAX_RESAMPLES
from runs.sweeps.designs import SAMPLED

ORDER = 50

EPILOG = """examples:
  tokenmarket sweep --set customers.n_customers=20000 --rounds 12 \\
      --grid world.gpu_rent_usd_per_hour=2,3,4 --grid providers.n=2,6 --replicates 3 --seed 1 --out out/grid
  tokenmarket sweep --set customers.n_customers=20000 --sample sobol --n 16 \\
      --range world.efficiency_gain_per_year=0.1:0.6 --range labs.0.skill=0.8:2 --rounds 24 --seed 7 --out out/sobol
  tokenmarket sweep --out out/sobol --resume               # continue a killed or partly failed sweep
  tokenmarket sweep ... --dask-scheduler tcp://10.0.0.5:8786   # run on a dask.distributed cluster
  tokenmarket analyze out/sobol --metric last_lerner_api   # writes out/sobol/sensitivity.csv
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` and ``analyze`` subcommands to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("sweep", help="run a parameter grid or sample × replicate seeds, resumably",
                       description="Run a scenario over a grid or a sample of parameter values, each with "
                                   "several seeds, on local processes or a Dask cluster. See docs/sweeps.md.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", type=SCENARIO, default=None,
                   help="shipped scenario name or TOML path (default: baseline)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed override for every run, e.g. customers.n_customers=20000 (repeatable)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="vary KEY over listed values; several --grid form their Cartesian product")
    p.add_argument("--sample", choices=SAMPLED, default=None, help="sample the --range keys with this method")
    p.add_argument("--n", type=int_arg("--n", 1), default=None,
                   help="sample size: points (lhs, random), base samples (sobol: n×(D+2) points, power of 2), "
                        "trajectories (morris: n×(D+1) points)")
    p.add_argument("--range", action="append", default=[], metavar="KEY=LO:HI", help="sampling range (repeatable)")
    p.add_argument("--replicates", type=int_arg("--replicates", 1), default=None, help="seeds per point (default 1)")
    p.add_argument("--seed", type=int_arg("--seed", 0), default=None, help="master seed (default 0)")
    p.add_argument("--common-random-numbers", action="store_true",
                   help="replicate r uses the same seed at every point (less noise between points)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int_arg("--workers", 1), default=None,
                       help="local worker processes (default: all cores; 1 runs in this process)")
    where.add_argument("--dask-scheduler", type=text_arg("--dask-scheduler", "a scheduler address such as "
                                                         "tcp://127.0.0.1:8786"), default=None, metavar="ADDRESS",
                       help="send runs to a running dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--rounds", type=int_arg("--rounds", 1), default=None, help="months per run (default: config's)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--parquet", action="store_true", help="write rounds as rounds.parquet/ (needs pyarrow)")
    fmt.add_argument("--no-rounds", action="store_true", help="keep only runs.csv (no per-round table)")
    p.add_argument("--out", type=FOLDER, required=True, help="sweep folder (new or empty; with --resume, an existing sweep)")
    p.add_argument("--resume", action="store_true", help="skip finished runs, rerun failed and missing ones")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    a = sub.add_parser("analyze", help="Sobol or Morris sensitivity indices of a sweep → sensitivity.csv",
                       description="Compute SALib Sobol (sobol sweeps) or Morris (morris sweeps) indices of "
                                   "outcome metrics and write DIR/sensitivity.csv.")
    a.add_argument("dir", type=text_arg("DIR", "a sweep folder"), help="a sweep folder")
    a.add_argument("--metric", action="append", default=[],
                   help="runs.csv column to analyse (repeatable; default: every last_* metric)")
    a.add_argument("--resamples", type=int_arg("--resamples", 10, MAX_RESAMPLES), default=1000,
                   help=f"bootstrap resamples (10 to {MAX_RESAMPLES:,}; default 1000)")
    a.add_argument("--conf-level", type=float_arg("--conf-level"), default=0.95, help="confidence level (0..1)")
    a.set_defaults(func=cmd_analyze)


def _plan(args: argparse.Namespace):
    from market.config import ConfigError
    from runs.sweeps.designs import parse_grid, parse_ranges
    from runs.sweeps.sweep import make_plan

    given = (args.scenario, args.set, args.grid, args.sample, args.n, args.range, args.replicates, args.seed,
             args.common_random_numbers or None, args.rounds, args.parquet or None, args.no_rounds or None)
    if args.resume and all(v in (None, []) for v in given):
        return None
    sets = parse_sets(args.set)
    twice = [k for k in sets if k.replace("__", ".") == "world.rounds"]
    if args.rounds is not None and twice:
        raise UsageError(f"--rounds {args.rounds} and --set {twice[0]}={sets[twice[0]]} both set world.rounds; "
                         f"give one of them")
    try:
        return make_plan(args.scenario, sets, rounds=args.rounds,
                         rounds_format="parquet" if args.parquet else "none" if args.no_rounds else "csv",
                         grid=parse_grid(args.grid), method=args.sample, n=args.n, ranges=parse_ranges(args.range),
                         replicates=1 if args.replicates is None else args.replicates,
                         master_seed=0 if args.seed is None else args.seed,
                         common_random_numbers=args.common_random_numbers)
    except ConfigError:
        raise
    except ValueError as err:
        raise UsageError(str(err)) from None


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sweep; exit 0 when every run succeeded, 1 when some failed, 128+signal if stopped."""
    from runs.sweeps.sweep import SweepError, SweepInterrupted, make_executor, run_sweep

    plan = _plan(args)

    def on_term(signum: int, frame: object) -> None:
        raise SweepInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        report = run_sweep(Path(args.out), plan, make_executor(args.workers, args.dask_scheduler),
                           resume=args.resume, progress=not args.quiet)
    except SweepError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"tokenmarket sweep: stopped by {signal.Signals(signum).name}; finished runs are saved in "
              f"{args.out}; continue with: tokenmarket sweep --out {args.out} --resume", file=sys.stderr)
        return 128 + int(signum)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(f"sweep: {report.n_runs} runs ({report.done_before} done before), {report.ok} ok, {report.failed} failed "
          f"in {report.elapsed_s:.1f} s → {report.out}/")
    if report.failed:
        print(f"  {report.failed} run(s) failed: see {report.out}/errors.csv; rerun them with --resume")
    return 1 if report.failed else 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Compute sensitivity indices of a sweep folder and write sensitivity.csv next to runs.csv."""
    from runs.sweeps.analyze import sensitivity, write_sensitivity
    from runs.sweeps.sweep import SweepError

    try:
        table, notes = sensitivity(args.dir, args.metric or None, args.resamples, args.conf_level)
    except SweepError as err:
        raise UsageError(str(err)) from None
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    path = write_sensitivity(args.dir, table)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"\nwrote {path}")
    return 0
