"""``tokenmarket run``: one scenario (or a manifest) → one run folder (model.csv, agents.csv, events.csv,
outcomes.json, manifest.json), and a summary printed.

Order of work: every input is checked (config, flags, output folder), then the output folder is claimed
(:func:`runs.io.claim`: no other run or sweep can write there until this one ends), then the run, then the
folder is published whole. Bad input exits 2 before the claim, an unusable folder before the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from runs.commands.common import FOLDER, SCENARIO, UsageError, int_arg, parse_sets, text_arg

ORDER = 10


def _from_manifest(args: argparse.Namespace):
    from runs.manifest import read_run_manifest

    given = [flag for flag, value in (("--scenario", args.scenario), ("--set", args.set), ("--rounds", args.rounds),
                                      ("--seed", args.seed), ("--customers", args.customers),
                                      ("--excel", args.excel or None)) if value not in (None, [])]
    if given:
        raise UsageError(f"--from-manifest: {', '.join(given)} cannot be combined with it: the manifest fixes the "
                         f"whole run (scenario, overrides, rounds, seed, customers.csv, CSV mode)")
    return read_run_manifest(args.from_manifest)


def _planned(args: argparse.Namespace):
    """The run to do, as a manifest without results (config validated, overrides parsed)."""
    from market.config import parse_overrides, split_key
    from market.scenario import config_from, layer_record
    from runs.manifest import RunManifest

    if args.from_manifest is not None:
        return _from_manifest(args)
    overrides = parse_sets(args.set)
    if args.rounds is not None:
        twice = [k for k in overrides if k.strip().replace("__", ".") == "world.rounds"]
        if twice:
            raise UsageError(f"--rounds {args.rounds} and --set {twice[0]}={overrides[twice[0]]} both set "
                             f"world.rounds; give one of them")
        overrides["world.rounds"] = args.rounds
    for key in overrides:
        split_key(key)
    scenario = args.scenario or "baseline"
    config = config_from(scenario, overrides)  # the shipped file: its description, its name
    seed = 0 if args.seed is None else args.seed
    return RunManifest(run_id=f"{config.name}-seed{seed}", seed=seed, config=config, scenario=scenario,
                       overrides=parse_overrides(overrides), customers=args.customers or 0,
                       csv="excel" if args.excel else "plain", calibrated=layer_record(scenario))


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario (or reproduce a manifest's run) and write a run folder."""
    from dataclasses import replace

    from tqdm import tqdm

    from market.simulate import run_once
    from runs import io
    from runs.reports.horizon import horizon_warning
    from runs.reports.summary import next_hint, summary_table

    plan = _planned(args)
    beyond = horizon_warning(plan.config.world.rounds)
    if beyond:
        print(f"tokenmarket run: {beyond}", file=sys.stderr)
    started = dt.datetime.now(dt.timezone.utc)
    out = Path(args.out) if args.out is not None else Path("output") / f"{plan.run_id}-{started:%Y%m%d-%H%M%S}"
    with io.claim(out) as target:
        io.check_out_dir(target, args.force)
        config, rounds = plan.config, plan.config.world.rounds
        with tqdm(total=rounds, desc=plan.run_id, unit="round", disable=args.quiet, file=sys.stderr) as bar:
            result = run_once(config, plan.seed, run_id=plan.run_id, on_round=lambda r: bar.update(1),
                              customers=plan.customers)
        tables = {"model.csv": result.model, "agents.csv": result.agents, "events.csv": result.events}
        if result.customers is not None:
            tables["customers.csv"] = result.customers
        if plan.customers > config.customers.n_customers:
            print(f"note: --customers {plan.customers} is more than the {config.customers.n_customers} simulated "
                  f"customers; customers.csv holds all of them", file=sys.stderr)
        manifest = replace(plan, customers_rows=len(result.customers) if result.customers is not None else 0,
                           from_manifest=str(Path(args.from_manifest).resolve()) if args.from_manifest else None,
                           versions=io.versions(), git_commit=io.git_commit(), started_utc=started.isoformat(),
                           finished_utc=dt.datetime.now(dt.timezone.utc).isoformat(),
                           files=(*tables, "outcomes.json", "manifest.json"))
        io.write_run_folder(target, {**tables, "outcomes.json": result.outcomes, "manifest.json": manifest.to_dict()},
                            force=args.force, csv_mode=plan.csv)
    print(summary_table(result))
    print(f"\nwrote {out}/ ({', '.join(manifest.files)})")
    print(next_hint(str(out)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand to the ``tokenmarket`` parser's subparsers."""
    run = sub.add_parser("run", help="run one scenario and write CSVs")
    run.add_argument("--scenario", type=SCENARIO, default=None,
                     help="shipped scenario name or path to a TOML file (default: baseline)")
    run.add_argument("--rounds", type=int_arg("--rounds", 1), default=None, help="months to simulate")
    run.add_argument("--seed", type=int_arg("--seed", 0), default=None, help="random seed (int ≥ 0; default 0)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config field, e.g. gpu_market.reference_rent_usd_per_hour=3 (repeatable)")
    run.add_argument("--from-manifest", type=text_arg("--from-manifest", "the manifest.json of a run folder"),
                     default=None, metavar="PATH",
                     help="reproduce the run a manifest.json describes (same config, seed and run id: the same "
                          "CSVs byte for byte); takes no --scenario, --set, --rounds, --seed, --customers, --excel")
    run.add_argument("--out", type=FOLDER, default=None, help="output folder (default: output/<run_id>-<time>)")
    run.add_argument("--force", action="store_true",
                     help="replace an earlier run folder (one holding a run's manifest.json and only its files); "
                          "never a sweep folder or a folder another process is writing")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--customers", type=int_arg("--customers", 0), default=None, metavar="N",
                     help="also write customers.csv: N simulated customers' traits and final choice (default 0)")
    run.add_argument("--excel", action="store_true",
                     help="CSVs for spreadsheets: UTF-8 byte-order mark, text cells starting with = + - @ "
                          "prefixed with ' so they are not run as formulas (default: plain CSV)")
    run.set_defaults(func=cmd_run)
