"""``tokenmarket params``: every parameter with value, unit, allowed range and source; regenerates the
parameter table of docs/ODD.md. Registered by :func:`runs.commands.main.build_parser`.

Bad input (unknown scenario, bad ``--set``, unknown format, an ODD file without its markers) exits with status 2
and a message naming the value and what is allowed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runs.commands.common import SCENARIO, UsageError, parse_sets

ORDER = 30

FORMATS = ("table", "csv", "markdown")

EPILOG = """examples:
  tokenmarket params                                  # baseline, one row per value (labs.0.skill, …)
  tokenmarket params --scenario commodity_pipe --format csv > params.csv
  tokenmarket params --collapse --format markdown     # one row per schema field (labs[].skill)
  tokenmarket params --grep gpu                       # rows whose path, unit or description mention "gpu"
  tokenmarket params --odd docs/ODD.md                # regenerate the ODD parameter table
  tokenmarket params --odd docs/ODD.md --check        # exit 1 if that table is stale
"""


def _format(text: str) -> str:
    if text not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format {text!r}; allowed: {', '.join(FORMATS)}")
    return text


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter rows, or write/check the ODD table; returns the exit status (1: ODD table stale)."""
    from runs.reports.params import format_csv, format_markdown, format_table, grep_rows, parameter_rows

    overrides = parse_sets(args.set)
    if args.odd is not None:
        return _odd(Path(args.odd), args, overrides)
    if args.check:
        raise UsageError("--check: only with --odd FILE")
    # The baseline as runs see it (the calibrated layer under it); the ODD table above documents the bare schema.
    rows = parameter_rows(args.scenario or "baseline", overrides, collapse=args.collapse)
    if args.grep is not None:
        rows = grep_rows(rows, args.grep)
        if not rows:
            print(f"no parameter matches {args.grep!r} (searched: path, unit, description, source)")
            return 1
    print({"table": format_table, "csv": format_csv, "markdown": format_markdown}[args.format](rows), end="")
    return 0


def _odd(path: Path, args: argparse.Namespace, overrides: dict) -> int:
    from runs.io import atomic_write_text
    from runs.reports.params import odd_block, splice_odd

    if args.scenario or overrides:
        raise UsageError("--odd: the ODD table documents the schema's hand-set defaults (the baseline without the "
                         "calibrated layer); drop --scenario and --set")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"--odd: cannot read {str(path)!r}: {err.strerror or err}") from None
    try:
        new = splice_odd(text, odd_block())
    except ValueError as err:
        raise UsageError(f"--odd: {path}: {err}") from None
    if args.check:
        if new != text:
            print(f"{path}: parameter table is stale; run tokenmarket params --odd {path}")
            return 1
        print(f"{path}: parameter table is up to date")
        return 0
    if new != text:
        atomic_write_text(path, new)
    print(f"{path}: parameter table {'rewritten' if new != text else 'already up to date'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``params`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("params", help="every parameter: value, unit, allowed range, source",
                       description="Print every parameter of a scenario with its value, unit, allowed range and "
                                   "source (calibration row with title and date, or the reason it is assumed), "
                                   "and who set it (schema, the default lists, the calibrated layer, the scenario file, --set).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", type=SCENARIO, default=None, help="shipped scenario name or TOML path (default: baseline)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, as for tokenmarket run (repeatable)")
    p.add_argument("--format", type=_format, default="table", metavar="|".join(FORMATS),
                   help="aligned table (long cells cut; default), csv (everything) or markdown")
    p.add_argument("--collapse", action="store_true",
                   help="one row per schema field (labs[].skill, values of all labs) instead of one per value")
    p.add_argument("--grep", default=None, metavar="TEXT",
                   help="only rows whose path, unit, description or source contain TEXT (case-insensitive; "
                        "exit 1 when none)")
    p.add_argument("--odd", default=None, metavar="FILE",
                   help="rewrite the generated parameter table of FILE (e.g. docs/ODD.md) for the baseline")
    p.add_argument("--check", action="store_true", help="with --odd: exit 1 if the table is stale, write nothing")
    p.set_defaults(func=cmd_params)
