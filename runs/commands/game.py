"""``tokenmarket game``: parse, validate, call :mod:`runs.games`. Found by :func:`runs.commands.main.build_parser`.

Bad input (file, fields, options, output folder) exits with status 2 and one message naming the field, the
value and what is allowed, before any run starts; so does a model whose outcomes lack the payoff (at the
first run). Exit 1 when some runs failed (the analysis of what finished is still written), 128 + signal when
stopped (finished runs are kept; continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from runs.commands.common import UsageError, int_arg, parse_sets, require

ORDER = 60

EPILOG = """examples:
  tokenmarket game runs/games/examples/api_conduct.toml --replicates 10 --out out/api_conduct
  tokenmarket game runs/games/examples/api_conduct.toml --set customers.n_customers=20000 --rounds 24 \\
      --replicates 3 --workers 2 --out out/api_small
  tokenmarket game --out out/api_conduct --resume          # continue a stopped game, then analyse it
  tokenmarket game GAME.toml --dask-scheduler tcp://10.0.0.5:8786 --out out/g   # on a dask.distributed cluster
See docs/games.md for the file format and what the outputs mean.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``game`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("game", help="solve a strategy game: payoff table, equilibria, regret (docs/games.md)",
                       description="Run every strategy profile of a game file over replicate seeds (moves forced), "
                                   "then write the payoff table with standard errors, each profile's regret, the "
                                   "pure and mixed equilibria with their bootstrap robustness, and what the labs "
                                   "chose by themselves.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", nargs="?", default=None, metavar="GAME.toml",
                   help="game file (optional with --resume: the stored game is used)")
    p.add_argument("--replicates", type=int_arg("--replicates", 1), default=None,
                   help="seeds per profile (default: the file's, else 10)")
    p.add_argument("--rounds", type=int_arg("--rounds", 1), default=None, help="months per run (default: the file's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for every run of every condition (repeatable)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int_arg("--workers", 1), default=None,
                       help="local worker processes (default: all cores; 1 runs in this process)")
    where.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                       help="send runs to a running dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--out", default=None, help="game folder (default: output/games/<name>)")
    p.add_argument("--resume", action="store_true", help="keep finished runs, rerun failed and missing ones")
    p.add_argument("--no-report", action="store_true", help="write the CSVs and summary only (no report.html)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_game)


def cmd_game(args: argparse.Namespace) -> int:
    """Run (or resume) a game and analyse it; see the module docstring for exit codes."""
    require("nashpy")
    from runs.sweeps.executors import SweepError, SweepInterrupted, make_executor
    from runs.games.analysis import analyse_game, summary_text
    from runs.games.execute import run_game
    from runs.games.plan import make_game_plan
    from runs.games.report import write_game_outputs
    from runs.games.spec import GameError

    try:
        if args.game is None and not args.resume:
            raise UsageError("GAME.toml: a game file is required (or --out DIR --resume to continue a game)")
        if args.resume and args.out is None:
            raise UsageError("--resume: needs --out, the folder of the game to continue")
        if args.game is None and (args.set or args.rounds is not None or args.replicates is not None):
            raise UsageError("--set/--rounds/--replicates: need GAME.toml (they change the game; a resumed game "
                             "keeps its own)")
        plan = make_game_plan(args.game, sets=parse_sets(args.set), rounds=args.rounds, replicates=args.replicates) \
            if args.game is not None else None
        out = Path(args.out) if args.out else Path("output") / "games" / plan.name
        for note in plan.notes if plan else ():
            print(f"note: {note}", file=sys.stderr)
    except GameError as err:
        raise UsageError(str(err)) from None

    def _on_term(signum: int, frame: object) -> None:
        raise SweepInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, _on_term)
    except ValueError:  # not the main thread
        previous = None
    try:
        report = run_game(out, plan, make_executor(args.workers, args.dask_scheduler), resume=args.resume,
                          progress=not args.quiet)
    except (GameError, SweepError) as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"tokenmarket game: stopped by {signal.Signals(signum).name}; finished runs are saved in {out}; "
              f"continue with: tokenmarket game --out {out} --resume", file=sys.stderr)
        return 128 + int(signum)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    done = (f"game: {report.n_runs} runs ({report.done_before} done before), {report.ok} ok, {report.failed} "
            f"failed in {report.elapsed_s:.1f} s → {out}/")
    try:
        analysis = analyse_game(out)
    except GameError as err:  # failed runs left a profile without any finished replicate
        print(f"{done}\n  cannot analyse: {err}", file=sys.stderr)
        return 1
    written = write_game_outputs(out, analysis, html_report=not args.no_report)
    print(summary_text(analysis))
    print(f"\n{done} ({', '.join(p.name for p in written)})")
    if report.failed:
        print(f"  {report.failed} run(s) failed: see {out}/errors.csv; rerun them with --resume")
    return 1 if report.failed else 0
