"""``tokenmarket run``: one scenario → one run folder (model.csv, agents.csv, events.csv, outcomes.json,
manifest.json), and a summary printed."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from runs.commands.common import int_arg, parse_sets

ORDER = 10


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and write a run folder (model.csv, agents.csv, events.csv, manifest.json)."""
    from tqdm import tqdm

    from market.config import config_from, parse_override_value
    from market.simulate import run_once
    from runs.io import check_out_dir, git_commit, versions, write_run_folder
    from runs.reports.summary import summary_table

    overrides = parse_sets(args.set)
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand to the ``tokenmarket`` parser's subparsers."""
    run = sub.add_parser("run", help="run one scenario and write CSVs")
    run.add_argument("--scenario", default=None, help="shipped scenario name or path to a TOML file (default: baseline)")
    run.add_argument("--rounds", type=int_arg("--rounds", 1), default=None, help="months to simulate")
    run.add_argument("--seed", type=int_arg("--seed", 0), default=0, help="random seed (int ≥ 0)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config field, e.g. gpu_market.reference_rent_usd_per_hour=3 (repeatable)")
    run.add_argument("--out", default=None, help="output folder (default: output/<run_id>-<time>)")
    run.add_argument("--force", action="store_true", help="replace an earlier output folder (one holding manifest.json)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--customers", type=int_arg("--customers", 0), default=0, metavar="N",
                     help="also write customers.csv: N simulated customers' traits and final choice (default 0)")
    run.set_defaults(func=cmd_run)
