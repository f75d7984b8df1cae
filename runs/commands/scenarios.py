"""``tokenmarket scenarios``: the shipped scenarios, one line each."""

from __future__ import annotations

import argparse

ORDER = 20


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List shipped scenarios, one line each."""
    from market.config import list_scenarios

    scenarios = list_scenarios()
    width = max((len(n) for n in scenarios), default=0)
    for name, line in scenarios.items():
        print(f"{name:<{width}}  {line}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` subcommand to the ``tokenmarket`` parser's subparsers."""
    sc = sub.add_parser("scenarios", help="list shipped scenarios")
    sc.set_defaults(func=cmd_scenarios)
