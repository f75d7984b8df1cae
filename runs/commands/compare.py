"""``tokenmarket compare A B``: a scenario and its counterfactual over common random numbers → a study folder with
series, differences and outcome frequencies (CSVs) and report.html. See docs/outcomes.md.

Bad input exits with status 2 and a message naming the flag, before any run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from pathlib import Path

from runs.commands.common import UsageError, int_arg, parse_sets

ORDER = 55

EPILOG = """examples:
  tokenmarket compare commodity_pipe differentiated --replicates 10 --rounds 72 \\
      --set customers.n_customers=100000 --out out/q3
  tokenmarket compare api_war_growth_money api_war_disciplined_money --replicates 20 --workers 2 --out out/q4
  tokenmarket compare baseline baseline --set-b world.open_weight_lag_months=0 --replicates 10 --out out/lag
  tokenmarket compare --out out/q3 --resume              # continue a killed comparison
  tokenmarket compare ... --dask-scheduler tcp://10.0.0.5:8786
"""


def add_study_options(p: argparse.ArgumentParser, min_replicates: int) -> None:
    """Options shared by ``compare`` and ``outcomes``: replicates, rounds, seed, --set, executors, output."""
    p.add_argument("--replicates", type=int_arg("--replicates", min_replicates), default=None,
                   help=f"seeds per scenario, shared by the scenarios (common random numbers; ≥ {min_replicates})")
    p.add_argument("--rounds", type=int_arg("--rounds", 1), default=None,
                   help="months per run: the horizon the outcomes are judged at (default: the config's)")
    p.add_argument("--seed", type=int_arg("--seed", 0), default=None, help="master seed (default 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override for every scenario, e.g. customers.n_customers=100000 (repeatable)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int_arg("--workers", 1), default=None,
                       help="local worker processes (default: all cores; 1 runs in this process)")
    where.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                       help="send runs to a running dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--out", default=None, metavar="DIR", help="study folder (new or empty; with --resume, an "
                                                               "existing one)")
    p.add_argument("--resume", action="store_true", help="continue the study in --out (give no scenario or option "
                                                         "that changes its runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("compare", help="a scenario vs its counterfactual over common random numbers",
                       description="Run scenarios A and B with the same replicate seeds (common random numbers), "
                                   "then write series.csv (median, 50 %% and 90 %% bands per round), "
                                   "differences.csv (A − B with 95 %% confidence intervals), frequencies.csv "
                                   "(outcome frequencies with Wilson intervals), frequency_differences.csv and "
                                   "report.html. See docs/outcomes.md.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="A and B: shipped names or TOML paths")
    p.add_argument("--set-a", action="append", default=[], metavar="KEY=VALUE", help="override for A only")
    p.add_argument("--set-b", action="append", default=[], metavar="KEY=VALUE", help="override for B only")
    add_study_options(p, 2)
    p.add_argument("--no-png", action="store_true", help="report.html without the PNG figures")
    p.set_defaults(func=cmd_compare)


def _default_out(name: str) -> Path:
    return Path("output") / f"{name}-{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S}"


def run_and_report(args: argparse.Namespace, kind: str, plan) -> int:
    """Run (or resume) the study of ``plan`` in ``args.out`` on the chosen executor, write its summaries and
    print them; exit status 0 when every run succeeded, 1 when some failed, 128 + signal when stopped."""
    from runs.compare.study import StudyError, load_study, run_study
    from runs.compare.summaries import frequency_text, frequencies, write_summaries
    from runs.sweeps.executors import SweepInterrupted, make_executor

    def on_term(signum: int, frame: object) -> None:
        raise SweepInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        previous = None
    try:
        report = run_study(Path(args.out), plan, make_executor(args.workers, args.dask_scheduler), kind=kind,
                           resume=args.resume, progress=not args.quiet)
    except StudyError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"tokenmarket {kind}: stopped by {signal.Signals(signum).name}; finished runs are saved in {args.out}; "
              f"continue with: tokenmarket {kind} --out {args.out} --resume", file=sys.stderr)
        return 128 + int(signum)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    study = load_study(report.out, kind)
    written = write_summaries(study)
    print(f"{kind}: {report.n_runs} runs ({report.done_before} done before), {report.ok} ok, {report.failed} failed "
          f"in {report.elapsed_s:.1f} s → {report.out}/")
    print(frequency_text(frequencies(study)))
    from runs.compare.report import write_study_report

    written += write_study_report(study, png=kind == "compare" and not args.no_png)
    print("wrote " + ", ".join(p.name for p in written))
    if report.failed:
        print(f"  {report.failed} run(s) failed: see {report.out}/errors.csv; rerun them with --resume")
    return 1 if report.failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Validate, then run (or resume) the comparison and write its tables and report."""
    from runs.compare.study import StudyError, make_plan

    plan = None
    given = args.scenarios or args.set or args.set_a or args.set_b or args.replicates or args.rounds or args.seed
    if not args.resume or given:
        if len(args.scenarios) != 2:
            raise UsageError(f"SCENARIO: compare takes exactly two scenarios (A and B), got {len(args.scenarios)}"
                             + ("; with --resume give none" if args.resume else ""))
        if args.replicates is None:
            raise UsageError("--replicates: required (seeds per scenario, ≥ 2)")
        common = parse_sets(args.set)
        a, b = args.scenarios
        try:
            sets_a, sets_b = parse_sets(args.set_a), parse_sets(args.set_b)
        except UsageError as err:
            raise UsageError(str(err).replace("--set:", "--set-a/--set-b:")) from None
        labels = ("a", "b")
        try:
            plan = make_plan("compare", [(labels[0], a, {**common, **sets_a}), (labels[1], b, {**common, **sets_b})],
                             args.replicates, master_seed=args.seed or 0, rounds=args.rounds)
        except StudyError as err:
            raise UsageError(str(err)) from None
    if args.out is None:
        if args.resume:
            raise UsageError("--out: required with --resume (the comparison folder)")
        args.out = str(_default_out(f"compare-{Path(args.scenarios[0]).stem}-vs-{Path(args.scenarios[1]).stem}"))
    return run_and_report(args, "compare", plan)
