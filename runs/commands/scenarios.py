"""``tokenmarket scenarios``: the shipped scenarios (rounds each runs and what it sets), then the shipped pairs a
``tokenmarket compare`` answers a question with, and the horizon each pair needs; within 100 columns."""

from __future__ import annotations

import argparse
import textwrap

ORDER = 20
WIDTH = 100


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List shipped scenarios and scenario pairs."""
    from market.config import list_scenarios
    from market.scenario import config_from
    from runs.compare.pairs import SHIPPED_PAIRS
    from runs.reports.horizon import built_horizon

    scenarios = list_scenarios()
    configs = {name: config_from(name) for name in scenarios}
    width = max((len(n) for n in scenarios), default=0)
    print(f"scenarios (mo: months a run lasts unless --rounds says otherwise; built for {built_horizon()})")
    for name, line in scenarios.items():
        head = f"{name:<{width}}  {configs[name].world.rounds:>4} mo  "
        print(textwrap.fill(line, WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                            break_on_hyphens=False))
    print("\npairs (tokenmarket compare A B: same decision rules, different conditions; docs/scenarios.md)")
    for pair in SHIPPED_PAIRS:
        known = [configs[s] for s in (pair.a, pair.b) if s in configs]
        window = max((c.outcomes.dumb_pipe_window_months for c in known), default=0)
        rounds = max((c.world.rounds for c in known), default=0)
        head = f"{pair.question:<3} {pair.a} vs {pair.b}"
        print(head)
        print(textwrap.fill(f"{pair.differs}. Horizon: {rounds} months (the dumb pipe is judged on the last "
                            f"{window}: a run needs at least {window} rounds)", WIDTH,
                            initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` subcommand to the ``tokenmarket`` parser's subparsers."""
    sc = sub.add_parser("scenarios", help="list shipped scenarios and scenario pairs")
    sc.set_defaults(func=cmd_scenarios)
