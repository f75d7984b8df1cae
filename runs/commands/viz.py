"""``tokenmarket viz``: check the scenario and port, prepare the page's offline assets, serve the page
(:mod:`runs.page.server`) until Ctrl-C."""

from __future__ import annotations

import argparse

from runs.commands.common import SCENARIO, UsageError, require

ORDER = 40
DEFAULT_PORT = 8765  # runs.page.server.DEFAULT_PORT; repeated here so that --help needs no page import


def cmd_viz(args: argparse.Namespace) -> int:
    """Validate the scenario and port, prepare the assets, then run the solara server until Ctrl-C."""
    from market.scenario import config_from

    require("solara", "ipyvuetify")  # before fetching 170 MB of assets for a server that cannot start
    from runs.page.server import PortError, check_port, prepare_assets, serve

    if args.scenario is not None:
        config_from(args.scenario)  # ConfigError (exit 2) before anything starts
    try:
        check_port(args.port)
    except PortError as err:
        raise UsageError(str(err)) from None
    prepare_assets(quiet=args.quiet)
    return serve(args.port, args.scenario, open_browser=not args.no_open)


def register(subparsers) -> None:
    """Add the ``viz`` subcommand to the ``tokenmarket`` parser."""
    p = subparsers.add_parser("viz", help="open the browser view (SolaraViz) on 127.0.0.1")
    p.add_argument("--scenario", type=SCENARIO, default=None, help="scenario the page starts with (default: baseline)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    p.add_argument("--no-open", action="store_true", help="do not open a browser window")
    p.add_argument("--quiet", action="store_true", help="less output while preparing assets")
    p.set_defaults(func=cmd_viz)
