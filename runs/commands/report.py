"""``tokenmarket report RUN_DIR``: write report.html and PNGs for a run folder or a sweep folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from runs.commands.common import UsageError, text_arg

ORDER = 45


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; a missing or unusable folder is a usage error (exit status 2)."""
    from runs.compare.study import StudyError, is_study, load_study
    from runs.reports.report import ReportError, write_report

    try:
        if is_study(Path(args.run_dir)):  # a tokenmarket compare or outcomes folder
            from runs.compare.report import write_study_report

            paths = write_study_report(load_study(args.run_dir), png=not args.no_png)
        else:
            paths = write_report(Path(args.run_dir), png=not args.no_png, x=args.x, y=args.y)
    except (ReportError, StudyError) as err:
        raise UsageError(str(err)) from None
    figures = [Path(f) for f in paths[1:]]
    kinds = " and ".join(f"{n} {ext.upper()}" for ext in ("png", "svg")
                         if (n := sum(f.suffix.lower() == f".{ext}" for f in figures)))
    print(f"wrote {paths[0]}" + (f" and {kinds} figures in {paths[0].parent / 'figures'}/" if kinds else ""))
    return 0


def register(subparsers) -> None:
    """Add the ``report`` subcommand to the ``tokenmarket`` parser."""
    p = subparsers.add_parser("report", help="write report.html (self-contained) and PNGs for a run, sweep, "
                                             "compare or outcomes folder")
    p.add_argument("run_dir", metavar="RUN_DIR", type=text_arg("RUN_DIR", "a run, sweep, compare or outcomes folder"),
                   help="a run folder (model.csv …), a sweep folder (runs.csv) or a compare/outcomes folder")
    p.add_argument("--no-png", action="store_true", help="skip the PNGs (faster)")
    p.add_argument("--x", default=None, help="sweep: parameter on the heatmaps' x axis (default: most values)")
    p.add_argument("--y", default=None, help="sweep: parameter on the heatmaps' y axis")
    p.set_defaults(func=cmd_report)
