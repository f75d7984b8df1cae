"""The ``tokenmarket`` command: parses, validates, calls. Thin on purpose.

Every input problem (unknown key, bad value, unknown scenario, unusable output folder) is reported with the
field, the value and what is allowed, and exits with status 2 before any simulation work starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from market.config import ConfigError, config_from, list_scenarios, parse_override_value
from runs.io import OutputError

EXIT_USAGE = 2
# Optional packages a subcommand may need → the extra that installs them (pyproject.toml).
EXTRAS = {"solara": "viz", "ipyvuetify": "viz", "ipyvue": "viz", "matplotlib": "viz", "vl_convert": "viz",
          "dask": "sweep", "distributed": "sweep", "SALib": "sweep", "pyarrow": "sweep"}


class UsageError(Exception):
    """Bad input found by a subcommand; printed and turned into exit status 2."""


def require(*modules: str) -> None:
    """Fail with exit status 2 and the pip command to run when an optional package is not installed.

    Raises:
        UsageError: one of ``modules`` (top-level import names, keys of ``EXTRAS``) cannot be imported.
    """
    import importlib.util

    for name in modules:
        if importlib.util.find_spec(name) is None:
            extra = EXTRAS.get(name, "test")
            raise UsageError(f"needs the optional package {name!r}: install it with "
                             f".venv/bin/pip install -e '.[{extra}]' (make test installs every extra)")


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set: expected key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _positive_int(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected an integer, got {text!r}") from None
        if value < 0 or (name == "--rounds" and value < 1):
            raise argparse.ArgumentTypeError(f"{name}: {value} out of range (allowed: ≥ {1 if name == '--rounds' else 0})")
        return value

    return parse


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and write a run folder (model.csv, agents.csv, events.csv, manifest.json)."""
    from tqdm import tqdm

    from market.simulate import run_once
    from runs.io import check_out_dir, git_commit, versions, write_run_folder
    from runs.summary import summary_table

    overrides = _parse_sets(args.set)
    if args.rounds is not None:
        overrides["world.rounds"] = args.rounds
    config = config_from(args.scenario or "baseline", overrides)  # the shipped file: its description, its name
    run_id = f"{config.name}-seed{args.seed}"
    started = dt.datetime.now(dt.timezone.utc)
    out = Path(args.out) if args.out else Path("output") / f"{run_id}-{started:%Y%m%d-%H%M%S}"
    check_out_dir(out, args.force)
    rounds = config.world.rounds
    with tqdm(total=rounds, desc=run_id, unit="round", disable=args.quiet, file=sys.stderr) as bar:
        result = run_once(config, args.seed, run_id=run_id, on_round=lambda r: bar.update(1), customers=args.customers)
    tables = {"model.csv": result.model, "agents.csv": result.agents, "events.csv": result.events}
    if result.customers is not None:
        tables["customers.csv"] = result.customers
    if args.customers > config.customers.n_customers:
        print(f"note: --customers {args.customers} is more than the {config.customers.n_customers} simulated "
              f"customers; customers.csv holds all of them", file=sys.stderr)
    manifest = dict(run_id=run_id, seed=args.seed, rounds=rounds, scenario=args.scenario or "baseline",
                    customers_rows=len(result.customers) if result.customers is not None else 0,
                    overrides={k: parse_override_value(v) if isinstance(v, str) else v for k, v in overrides.items()},
                    config=config.model_dump(mode="json"), versions=versions(),
                    git_commit=git_commit(), started_utc=started.isoformat(),
                    finished_utc=dt.datetime.now(dt.timezone.utc).isoformat(),
                    files=[*tables, "outcomes.json", "manifest.json"])
    write_run_folder(out, {**tables, "outcomes.json": result.outcomes, "manifest.json": manifest}, force=args.force)
    print(summary_table(result))
    print(f"\nwrote {out}/ ({', '.join(manifest['files'])})")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List shipped scenarios, one line each."""
    scenarios = list_scenarios()
    width = max((len(n) for n in scenarios), default=0)
    for name, line in scenarios.items():
        print(f"{name:<{width}}  {line}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="tokenmarket", description="Agent-based simulation of the LLM inference market.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and write CSVs")
    run.add_argument("--scenario", default=None, help="shipped scenario name or path to a TOML file (default: baseline)")
    run.add_argument("--rounds", type=_positive_int("--rounds"), default=None, help="months to simulate")
    run.add_argument("--seed", type=_positive_int("--seed"), default=0, help="random seed (int ≥ 0)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config field, e.g. world.gpu_rent_usd_per_hour=3 (repeatable)")
    run.add_argument("--out", default=None, help="output folder (default: output/<run_id>-<time>)")
    run.add_argument("--force", action="store_true", help="replace an earlier output folder (one holding manifest.json)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--customers", type=_positive_int("--customers"), default=0, metavar="N",
                     help="also write customers.csv: N simulated customers' traits and final choice (default 0)")
    run.set_defaults(func=cmd_run)

    sc = sub.add_parser("scenarios", help="list shipped scenarios")
    sc.set_defaults(func=cmd_scenarios)

    for module in ("runs.viz_cli", "runs.report_cli", "runs.sweep_cli", "runs.params_cli", "runs.calibration.cli"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tokenmarket`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UsageError, OutputError) as err:
        print(f"tokenmarket {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as err:
        if err.name not in EXTRAS:
            raise
        print(f"tokenmarket {args.command}: error: needs the optional package {err.name!r}: install it with "
              f".venv/bin/pip install -e '.[{EXTRAS[err.name]}]' (make test installs every extra)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"tokenmarket {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: subcommand modules raise runs.cli.UsageError,
    # which a second copy of this module would not catch.
    from runs.cli import main as _main

    sys.exit(_main())
