"""Make a finished calibration's estimates the calibrated layer every scenario stands on.

The layer is one file, ``market/data/calibrated.toml`` (read by :mod:`market.calibrated`): a ``[calibration]``
record of the calibration (targets file, J, trial, fit, population, date, code commit) and one ``[[estimate]]``
per value with its path, value, the default it replaces, its bootstrap band and prior. Applying a calibration
rewrites that file and nothing else: the scenario files state only their conditions, and every one of them
(the shipped pairs, a user's own file) resolves on the new estimates at its next load.

Inputs, all in the calibration folder: ``best.json`` (the best trial's values, J, fit, draws' percentiles,
defaults), ``calibrated.toml`` (each estimate's prior, in its source comment) and ``manifest.json`` (the finish
date and the code commit; a folder without one needs ``--date`` and ``--commit``). The new file is validated as
the loader validates it before it replaces the old one, and it replaces it atomically (a temporary file renamed
over it), so a failed or interrupted apply leaves the previous layer whole.

Run as ``tokenmarket calibrate --apply DIR`` or ``python -m runs.calibration.apply DIR [--layer FILE]
[--date YYYY-MM-DD] [--commit SHA]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from market.calibrated import LAYER_NAME, parse_layer
from market.config import ConfigError, build_config
from runs import io
from runs.calibration import CalibrationError
from runs.calibration.scenario import _value

_PRIOR = re.compile(r"prior (\S+) to (\S+), (linear|log)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shipped_layer() -> Path:
    """The package's layer file (``market/data/calibrated.toml`` of this checkout or installation)."""
    return Path(str(resources.files("market") / "data" / "calibrated.toml"))


def _read(folder: Path) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    try:
        best = json.loads((folder / "best.json").read_text(encoding="utf-8"))
        scenario = (folder / "calibrated.toml").read_text(encoding="utf-8")
    except (OSError, ValueError) as err:
        raise CalibrationError(f"{folder}: no finished calibration ({err})") from None
    if not isinstance(best, dict) or not best.get("parameters"):
        raise CalibrationError(f"{folder}/best.json: no completed trial")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        manifest = None
    except (OSError, ValueError) as err:
        raise CalibrationError(f"{folder}/manifest.json: unreadable ({err})") from None
    return best, scenario, manifest


def _when(manifest: dict[str, Any] | None, date: str | None, commit: str | None, folder: Path) -> tuple[str, str]:
    attempts = (manifest or {}).get("attempts") or []
    last = attempts[-1] if attempts else {}
    date = date or str(last.get("finished_utc") or "")[:10] or None
    commit = commit or last.get("git_commit")
    if commit == "unknown":
        commit = None
    how = f"python -m runs.calibration.apply {folder} --date YYYY-MM-DD --commit SHA"
    if not date or not _DATE.match(date):
        raise CalibrationError(f"{folder}: date: {date!r}; allowed: YYYY-MM-DD, the day the calibration finished "
                               f"(its manifest.json gives none: {how})")
    if not commit:
        raise CalibrationError(f"{folder}: commit: its manifest.json gives no git commit of the code the "
                               f"calibration ran on ({how})")
    return date, commit


def _item(path: str, manifest: dict[str, Any] | None) -> str | None:
    """The name of the list element a ``section.list.i.field`` path points into, from the calibration's base
    config when the folder has one (the schema's default list otherwise)."""
    parts = path.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    base = ((manifest or {}).get("plan") or {}).get("base_config") or build_config({}).model_dump(mode="json")
    try:
        return str(base[parts[0]][parts[1]][int(parts[2])]["name"])
    except (KeyError, IndexError, TypeError):
        return None


def layer_text(folder: str | Path, date: str | None = None, commit: str | None = None) -> str:
    """The layer file a finished calibration gives (validated as :func:`market.calibrated.parse_layer` does).

    Args:
        folder: the calibration folder (``--out`` of ``tokenmarket calibrate``).
        date, commit: the finish day and the code commit, when the folder's manifest.json does not give them.

    Raises:
        CalibrationError: no finished calibration, no date or commit, or content the loader would refuse (the
            message names the estimate, the value and the allowed range).
    """
    folder = Path(folder)
    best, scenario, manifest = _read(folder)
    date, commit = _when(manifest, date, commit, folder)
    priors: dict[str, tuple[str, str, str]] = {}
    from market.provenance import scenario_comments

    for path, (level, text) in scenario_comments(scenario).items():
        if level == "key" and (m := _PRIOR.search(text)):
            priors[path] = m.groups()
    record = {"folder": str(folder), "targets": best.get("targets_file"), "parameters": best.get("parameters_file"),
              "objective": best.get("objective"), "trial": best.get("trial"), "trials": best.get("trials"),
              "within": best.get("within"), "n_targets": best.get("targets"), "seeds": best.get("seeds"),
              "customers": best.get("customers"), "rounds": best.get("rounds"), "date": date, "commit": commit}
    lines = ["# The calibrated layer: the estimates every scenario stands on (schema defaults → this file → the",
             "# scenario file's own values → --set). Written by `tokenmarket calibrate --apply DIR`",
             "# (runs/calibration/apply.py); not edited by hand. A scenario file opts out with `calibrated = false`.",
             "# Each value's source is built from [calibration] (market/calibrated.py) and shown by `tokenmarket params`.",
             "", "[calibration]"]
    lines += [f"{k} = {_value(v)}" for k, v in record.items() if v is not None]
    draws = best.get("draws") or {}
    defaults = best.get("defaults") or {}
    for path, value in best["parameters"].items():
        lines += ["", "[[estimate]]", f"path = {_value(path)}"]
        if (item := _item(path, manifest)) is not None:
            lines.append(f"item = {_value(item)}")
        lines.append(f"value = {_value(float(value))}")
        if path in defaults:
            lines.append(f"default = {_value(float(defaults[path]))}")
        band = draws.get(path) or {}
        for q in ("p05", "p95"):
            if isinstance(band.get(q), (int, float)):
                lines.append(f"{q} = {_value(float(band[q]))}")
        if path in priors:
            lo, hi, scale = priors[path]
            lines += [f"prior = [{_value(float(lo))}, {_value(float(hi))}]", f"scale = {_value(scale)}"]
    text = "\n".join(lines) + "\n"
    try:
        parse_layer(text, f"{folder} (as a layer)")
    except ConfigError as err:
        raise CalibrationError(str(err)) from None
    return text


def apply_calibration(folder: str | Path, layer: str | Path | None = None, date: str | None = None,
                      commit: str | None = None) -> Path:
    """Rewrite the layer file (default: the package's) with a finished calibration's estimates; nothing else
    is written. Returns the layer's path.

    Raises:
        CalibrationError: see :func:`layer_text`; nothing is written then.
        OSError: the layer file cannot be replaced (the old one stays whole).
    """
    target = Path(layer) if layer is not None else shipped_layer()
    text = layer_text(folder, date, commit)
    io.atomic_write_text(target, text)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m runs.calibration.apply DIR [--layer FILE] [--date D] [--commit SHA]``; exit 2 on bad input."""
    p = argparse.ArgumentParser(prog="python -m runs.calibration.apply",
                                description="Make a finished calibration's estimates the calibrated layer "
                                            f"({LAYER_NAME}) every scenario stands on.")
    p.add_argument("folder", help="the calibration folder")
    p.add_argument("--layer", default=None, help=f"the layer file to rewrite (default: the package's {LAYER_NAME})")
    p.add_argument("--date", default=None, help="finish day YYYY-MM-DD, when the folder has no manifest.json")
    p.add_argument("--commit", default=None, help="code commit, when the folder has no manifest.json")
    try:
        args = p.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as err:
        return int(err.code or 0)
    try:
        print(f"wrote {apply_calibration(args.folder, args.layer, args.date, args.commit)}")
    except CalibrationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
