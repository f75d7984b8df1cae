"""What every ``tokenmarket`` command shares: the usage error, the exit status it maps to, optional-package
checks and the parsers of repeated flags. Command modules import from here, never from :mod:`runs.commands.main`
(the entry point imports them), so the command modules and the entry point form no import cycle.
"""

from __future__ import annotations

import argparse
import importlib.util
import math

EXIT_USAGE = 2
# Optional packages a subcommand may need → the extra that installs them (pyproject.toml).
EXTRAS = {"solara": "viz", "ipyvuetify": "viz", "ipyvue": "viz", "matplotlib": "viz", "vl_convert": "viz",
          "dask": "sweep", "distributed": "sweep", "SALib": "sweep", "pyarrow": "sweep",
          "nashpy": "games", "ema_workbench": "games", "pygambit": "gambit"}


class UsageError(Exception):
    """Bad input found by a subcommand; printed on one line and turned into exit status 2."""


def install_hint(module: str) -> str:
    """The sentence telling a user how to install the extra that provides ``module`` (a top-level import name)."""
    return (f"needs the optional package {module!r}: install it with "
            f".venv/bin/pip install -e '.[{EXTRAS.get(module, 'test')}]' (make test installs every extra)")


def require(*modules: str) -> None:
    """Fail with exit status 2 and the pip command to run when an optional package is not installed.

    Raises:
        UsageError: one of ``modules`` (top-level import names, keys of ``EXTRAS``) cannot be imported.
    """
    for name in modules:
        if importlib.util.find_spec(name) is None:
            raise UsageError(install_hint(name))


def parse_sets(items: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` items → {key: value text} (values are parsed against the schema later).

    Raises:
        UsageError: an item without ``=`` or with an empty key.
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set: expected key=value with a non-empty key, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def int_arg(flag: str, lo: int, hi: int | None = None):
    """An argparse ``type`` accepting integers in ``[lo, hi]``; the error names the flag, the value and the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            allowed = f"≥ {lo}" if hi is None else f"{lo} ≤ {flag.lstrip('-')} ≤ {hi:,}"
            raise argparse.ArgumentTypeError(f"{flag}: {value} out of range (allowed: {allowed})")
        return value

    return parse


def float_arg(flag: str):
    """An argparse ``type`` accepting a finite number; the error names the flag and the value."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{flag}: expected a finite number, got {text!r}")
        return value

    return parse


def text_arg(flag: str, allowed: str):
    """An argparse ``type`` refusing empty (or blank) text, which would otherwise read as "use the default"."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{flag}: empty value; allowed: {allowed}")
        return text

    return parse


SCENARIO = text_arg("--scenario", "a shipped scenario name (tokenmarket scenarios) or a path to a TOML file")
FOLDER = text_arg("--out", "a folder path")
