"""``tokenmarket outcomes SCENARIO...``: how often each outcome emerges, per scenario, over replicate seeds (and,
with ``--draws``, over a calibration's parameter draws), with Wilson intervals, at a stated horizon.

Bad input exits with status 2 and a message naming the flag, before any run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runs.commands.common import UsageError, parse_sets
from runs.commands.compare import _default_out, add_study_options, run_and_report

ORDER = 56

EPILOG = """examples:
  tokenmarket outcomes --replicates 10 --rounds 72 --set customers.n_customers=100000 --out out/freq   # every shipped scenario
  tokenmarket outcomes commodity_pipe differentiated --replicates 20 --workers 2 --out out/q3
  tokenmarket outcomes baseline --replicates 40 --draws out/cal/draws.csv --out out/baseline-uncertain
  tokenmarket outcomes --out out/freq --resume
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``outcomes`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("outcomes", help="outcome frequencies with Wilson intervals per scenario, over seeds (and draws)",
                       description="Run each scenario with the same replicate seeds and report, per outcome "
                                   "(dumb pipe, loss leading, recouped, vertical takeover), in how many runs it "
                                   "was detected at the horizon, with a 95 %% Wilson interval; frequencies.csv, "
                                   "runs.csv, rounds.csv in --out. With --draws, replicate r runs under "
                                   "calibration draw r mod D in every scenario, so the frequencies carry "
                                   "parameter uncertainty as well as seed noise. See docs/outcomes.md.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="shipped names or TOML paths (default: every shipped scenario)")
    p.add_argument("--draws", default=None, metavar="FILE",
                   help="draws.csv of tokenmarket calibrate (or its folder): run over its parameter draws")
    add_study_options(p, 1)
    p.set_defaults(func=cmd_outcomes)


def cmd_outcomes(args: argparse.Namespace) -> int:
    """Validate, then run (or resume) the frequencies study and print its table."""
    from market.config import list_scenarios
    from runs.compare.study import StudyError, arms_from_scenarios, make_plan

    plan = None
    given = args.scenarios or args.set or args.replicates or args.rounds or args.seed or args.draws
    if not args.resume or given:
        if args.replicates is None:
            raise UsageError("--replicates: required (seeds per scenario, ≥ 1)")
        if args.draws is not None and not Path(args.draws).exists():
            raise UsageError(f"--draws: {args.draws!r} does not exist (a draws.csv of tokenmarket calibrate)")
        scenarios = args.scenarios or list(list_scenarios())
        try:
            plan = make_plan("outcomes", arms_from_scenarios(scenarios, parse_sets(args.set)), args.replicates,
                             master_seed=args.seed or 0, rounds=args.rounds, draws_file=args.draws)
        except StudyError as err:
            raise UsageError(str(err)) from None
    if args.out is None:
        if args.resume:
            raise UsageError("--out: required with --resume (the outcomes folder)")
        args.out = str(_default_out("outcomes"))
    return run_and_report(args, "outcomes", plan)
