"""``tokenmarket discover``: parse, validate, call :mod:`runs.discovery`. Found by :func:`runs.commands.main.build_parser`.

Bad arguments (no such folder, not a sweep, unknown outcome, no swept parameter, an outcome that never or always
appears, options out of range) exit with status 2 and one message naming the argument, before any work.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from runs.commands.common import UsageError, float_arg, int_arg, require

ORDER = 65

EPILOG = """examples:
  tokenmarket sweep --scenario commodity_pipe --set customers.n_customers=20000 --sample lhs --n 200 \\
      --range open_weights.distill_lag_months=1:24 --range capital.growth_multiple=0:8 --out out/q3
  tokenmarket discover out/q3 --outcome dumb_pipe
  tokenmarket discover out/q3 --outcome last_lerner_api --below 0.2 --threshold 0.7 --out out/q3-low-margin
See docs/games.md ("Scenario discovery").
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``discover`` subcommand to the ``tokenmarket`` parser's subparsers."""
    p = sub.add_parser("discover", help="scenario discovery: PRIM boxes of a sweep's parameters where an outcome "
                                        "appears", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Find boxes of the swept parameters where an outcome appears (PRIM, EMA "
                                   "Workbench), with coverage, density and the peeling trajectory.")
    p.add_argument("dir", metavar="SWEEP_DIR", help="a sweep folder (runs.csv, design.csv, manifest.json)")
    p.add_argument("--outcome", required=True,
                   help="an outcome flag (dumb_pipe, loss_leading, …) or a numeric runs.csv column with --above/--below")
    p.add_argument("--above", type=float_arg("--above"), default=None, help="outcome: the column is above this value")
    p.add_argument("--below", type=float_arg("--below"), default=None, help="outcome: the column is below this value")
    p.add_argument("--threshold", type=float_arg("--threshold"), default=0.8,
                   help="least density of a reported box, in (0, 1] (default 0.8)")
    p.add_argument("--max-boxes", type=int_arg("--max-boxes", 1), default=3, help="boxes to find at most (default 3)")
    p.add_argument("--peel-alpha", type=float_arg("--peel-alpha"), default=0.05,
                   help="share of the runs peeled per step (default 0.05)")
    p.add_argument("--paste-alpha", type=float_arg("--paste-alpha"), default=0.05, help="pasting step (default 0.05)")
    p.add_argument("--mass-min", type=float_arg("--mass-min"), default=0.05,
                   help="smallest share of all runs a box may hold (default 0.05)")
    p.add_argument("--out", default=None, help="output folder (default: SWEEP_DIR/discovery/<outcome>)")
    p.add_argument("--no-report", action="store_true", help="CSVs and summary only (no report.html)")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args: argparse.Namespace) -> int:
    """Find the boxes, write them, print the summary."""
    require("ema_workbench")
    from runs.discovery.prim import DiscoveryError, check_options, find_boxes, load_discovery_data
    from runs.discovery.report import summary_text, write_discovery

    try:
        check_options(args.threshold, args.max_boxes, args.peel_alpha, args.paste_alpha, args.mass_min)
        data = load_discovery_data(args.dir, args.outcome, args.above, args.below)
        boxes, notes = find_boxes(data, args.threshold, args.max_boxes, args.peel_alpha, args.paste_alpha,
                                  args.mass_min)
    except DiscoveryError as err:
        raise UsageError(str(err)) from None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.rule.replace(" is true", "").replace(">", "above")
                  .replace("<", "below")).strip("_")
    out = Path(args.out) if args.out else Path(args.dir) / "discovery" / slug
    written = write_discovery(out, data, boxes, notes, args.threshold, html_report=not args.no_report)
    print(summary_text(data, boxes, notes, args.threshold))
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0
