"""The ``tokenmarket`` entry point: builds the parser from the command modules, runs one, maps errors to exit codes.

Every input problem (unknown key, bad value, unknown scenario, unusable output folder) is reported with the
field, the value and what is allowed, and exits with status 2 before any simulation work starts.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from importlib import metadata

import runs.commands
from market.config import ConfigError
from runs.commands.common import EXIT_USAGE, EXTRAS, UsageError, install_hint
from runs.io import OutputError

DEFAULT_ORDER = 100
_NOT_COMMANDS = {"common", "main", "__main__"}


def command_modules() -> list:
    """The modules of :mod:`runs.commands` that define ``register``, in ``--help`` order (``ORDER``, then name)."""
    found = []
    for info in pkgutil.iter_modules(runs.commands.__path__):
        if info.name in _NOT_COMMANDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"runs.commands.{info.name}")
        if hasattr(module, "register"):
            found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", DEFAULT_ORDER), m.__name__))


def _version() -> str:
    try:
        return metadata.version("tokenmarket")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of :func:`command_modules`."""
    p = argparse.ArgumentParser(prog="tokenmarket", description="Agent-based simulation of the LLM inference market.")
    p.add_argument("--version", action="version", version=f"tokenmarket {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    for module in command_modules():
        module.register(sub)
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
        print(f"tokenmarket {args.command}: error: {install_hint(err.name)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"tokenmarket {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
