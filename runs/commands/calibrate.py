"""``tokenmarket calibrate``: parse, validate, call :mod:`runs.calibration`. See docs/calibration.md.

Registered by :func:`runs.commands.main.build_parser`. Bad input (a targets or parameters file, an option, the output
folder) exits with status 2 and one message naming the file, row, field, value and what is allowed, before any run.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

EPILOG = """examples:
  tokenmarket calibrate --out out/cal                                  # shipped targets and parameters
  tokenmarket calibrate --trials 400 --seeds 4 --customers 20000 --workers 2 --out out/cal
  tokenmarket calibrate --out out/cal --resume --trials 600            # continue, or extend, a calibration
  tokenmarket calibrate --report out/cal                               # out/cal/report.html
  tokenmarket calibrate --apply out/cal                                # its estimates become the calibrated layer
  tokenmarket calibrate --population-check --customers 20000 --out out/popcheck
  tokenmarket calibrate ... --dask-scheduler tcp://10.0.0.5:8786       # trials on a dask.distributed cluster
"""
# Options that shape the plan: with --resume they must be left out (or match the stored plan).
DEFAULT_SCENARIO = "baseline"  # the calibrated market; the help text promises it
PLAN_OPTIONS = ("scenario", "set", "params", "targets", "seeds", "customers", "rounds", "seed", "batch", "sampler",
                "draws", "jacobian_step", "path_draws")


def _int(name: str, lo: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected an integer, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"{name}: {value} out of range (allowed: ≥ {lo})")
        return value

    return parse


def _float(name: str):
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected a number, got {text!r}") from None

    return parse


ORDER = 70


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("calibrate", help="estimate behavioural and demand parameters against dated public paths",
                       description="Estimate the parameters of --params by simulated moments against the targets "
                                   "of --targets (optuna; several seeds with common random numbers on a reduced "
                                   "population), then bootstrap draws, identification diagnostics, a fit table and "
                                   "a calibrated scenario. See docs/calibration.md.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default=None, help="base scenario: shipped name or TOML path (default: baseline)")
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="fixed override of the base scenario (repeatable)")
    p.add_argument("--params", default=None, metavar="FILE",
                   help="estimated parameters (default: runs/calibration/parameters.toml)")
    p.add_argument("--targets", default=None, metavar="FILE",
                   help="targets table (default: runs/calibration/targets.toml)")
    p.add_argument("--trials", type=_int("--trials", 1), default=None, help="parameter vectors to evaluate (default 200)")
    p.add_argument("--seeds", type=_int("--seeds", 1), default=None, help="seeds per trial, shared by all trials (default 4)")
    p.add_argument("--customers", type=_int("--customers", 100), default=None,
                   help="simulated customers per run: the reduced population (default 20000)")
    p.add_argument("--rounds", type=_int("--rounds", 1), default=None,
                   help="months per run (default: the last round a target reads)")
    p.add_argument("--seed", type=_int("--seed", 0), default=None, help="master seed (default 0)")
    p.add_argument("--batch", type=_int("--batch", 1), default=None,
                   help="trials asked per batch (default 4; results depend on it, not on the workers)")
    p.add_argument("--sampler", choices=("tpe", "cmaes", "qmc"), default=None, help="optuna sampler (default tpe)")
    p.add_argument("--draws", type=_int("--draws", 1), default=None, help="bootstrap draws (default 200)")
    p.add_argument("--jacobian-step", type=_float("--jacobian-step"), default=None,
                   help="finite-difference step, share of each prior range (default 0.05)")
    p.add_argument("--path-draws", type=_int("--path-draws", 0), default=None,
                   help="distinct draws whose paths are re-run for the report's bands (default 10)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_int("--workers", 1), default=None,
                       help="local worker processes (default: all cores; 1 runs in this process)")
    where.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                       help="send runs to a running dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--out", default=None, metavar="DIR", help="calibration folder (new or empty; with --resume, "
                                                               "an existing one)")
    p.add_argument("--resume", action="store_true", help="continue the calibration in --out (only --trials may change)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--report", default=None, metavar="DIR", help="write DIR/report.html of a finished calibration")
    mode.add_argument("--apply", default=None, metavar="DIR",
                      help="make a finished calibration's estimates the calibrated layer every scenario stands on "
                           "(rewrites market/data/calibrated.toml, or --layer FILE, and nothing else)")
    mode.add_argument("--population-check", action="store_true",
                      help="print the baseline's moments at --customers and at the full population, and their "
                           "differences (with --out: population_check.csv and the figure population_check.svg)")
    p.add_argument("--layer", default=None, metavar="FILE",
                   help="with --apply: the layer file to rewrite (default: the package's market/data/calibrated.toml)")
    p.add_argument("--full-customers", type=_int("--full-customers", 100), default=None,
                   help="population of --population-check's full run (default: the scenario's n_customers)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_calibrate)


def _sets(items: list[str] | None) -> dict[str, str]:
    from runs.commands.common import UsageError

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set: expected key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _scenario(args: argparse.Namespace) -> str:
    # The argparse default stays None so that a resume can tell a given --scenario from an absent one.
    return args.scenario or DEFAULT_SCENARIO


def _plan(args: argparse.Namespace, calibrated: bool = False):
    from runs.calibration.estimate import make_plan

    defaults = dict(trials=200, seeds=4, customers=20_000, seed=0, batch=4, sampler="tpe", draws=200,
                    jacobian_step=0.05, path_draws=10)
    pick = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in defaults.items()}
    return make_plan(_scenario(args), _sets(args.set), targets=args.targets, params=args.params,
                     customers=pick["customers"], seeds=pick["seeds"], master_seed=pick["seed"], rounds=args.rounds,
                     trials=pick["trials"], batch=pick["batch"], sampler=pick["sampler"], draws=pick["draws"],
                     jacobian_step=pick["jacobian_step"], path_draws=pick["path_draws"], calibrated=calibrated)


def _executor(args: argparse.Namespace):
    from runs.sweeps.executors import make_executor

    return make_executor(args.workers, args.dask_scheduler)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run, resume, report or apply a calibration, or check the reduced population; exit 0 when done, 2 on bad
    input, 128 + signal when stopped."""
    import importlib.util

    from runs.calibration import CalibrationError
    from runs.commands.common import UsageError
    from runs.sweeps.executors import SweepError

    def only_folder(flag: str, also: str = "") -> None:
        given = [o for o in (*PLAN_OPTIONS, "out", "trials") if getattr(args, o.replace("-", "_"), None)]
        if given or args.resume:
            raise UsageError(f"{flag}: takes only the folder{also}; drop "
                             f"--{(given or ['resume'])[0].replace('_', '-')}")

    try:
        if args.apply:  # needs no optuna: it reads a finished calibration's files
            from runs.calibration.apply import apply_calibration

            only_folder("--apply", " (and --layer)")
            print(f"wrote {apply_calibration(Path(args.apply), args.layer)}")
            return 0
        if args.layer:
            raise UsageError("--layer: only with --apply DIR")
        if importlib.util.find_spec("optuna") is None:
            raise UsageError("needs the optional package 'optuna': install it with .venv/bin/pip install -e "
                             "'.[calibrate]' (make test installs every extra)")
        if args.report:
            from runs.calibration.report import write_report

            only_folder("--report")
            print(f"wrote {write_report(Path(args.report))}")
            return 0
        if args.population_check:
            return _population_check(args)
        if not args.out:
            raise UsageError("--out: required (the calibration folder)")
        return _calibrate(args)
    except (CalibrationError, SweepError) as err:
        raise UsageError(str(err)) from None


def _population_check(args: argparse.Namespace) -> int:
    from market.scenario import config_from
    from runs import io
    from runs.calibration import CalibrationError
    from runs.calibration.population import CHECK, FIGURE, population_chart, population_check

    plan = _plan(args, calibrated=True)  # the market as runs see it: the calibrated layer under the scenario
    full = args.full_customers or config_from(_scenario(args), _sets(args.set)).customers.n_customers
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise CalibrationError(f"--out: {args.out!r} is a file, not a folder")
    with _executor(args) as executor:
        table = population_check(plan, full, executor)
    print(f"moments of the base config at {plan.customers:,} and {full:,} customers "
          f"({len(plan.seeds)} seeds, {plan.rounds} rounds)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    worst = table["dz"].abs().max()
    print(f"\nlargest |Δz| (difference in tolerance units): {worst:.3g}")
    if args.out:
        io.write_csv(Path(args.out) / CHECK, table)
        print(f"wrote {Path(args.out) / CHECK}")
        import vl_convert

        svg = vl_convert.vegalite_to_svg(population_chart(table, plan.customers, full).to_dict())
        io.atomic_write_text(Path(args.out) / FIGURE, svg)
        print(f"wrote {Path(args.out) / FIGURE}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from runs.calibration.run import calibrate

    given = [o for o in PLAN_OPTIONS if getattr(args, o) not in (None, [])]
    plan = _plan(args) if (not args.resume or given) else None

    def on_term(signum: int, frame: object) -> None:
        from runs.sweeps.executors import SweepInterrupted

        raise SweepInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        previous = None
    try:
        report = calibrate(Path(args.out), plan, _executor(args), resume=args.resume, trials=args.trials,
                           progress=not args.quiet)
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"tokenmarket calibrate: stopped by {signal.Signals(signum).name}; finished trials are saved in "
              f"{args.out}; continue with: tokenmarket calibrate --out {args.out} --resume", file=sys.stderr)
        return 128 + int(signum)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if report.best_trial is None:
        print(f"calibrate: {report.trials} trials, none completed: see {report.out}/trials.csv")
        return 1
    print(f"calibrate: {report.trials} trials ({report.done_before} done before) in {report.elapsed_s:.1f} s; "
          f"best trial {report.best_trial}: J = {report.best_objective:.4g}, {report.within} of {report.n_targets} "
          f"targets within tolerance → {report.out}/ (fit.csv, draws.csv, identification.csv, calibrated.toml); "
          f"report: tokenmarket calibrate --report {report.out}")
    return 0
