"""Read access to the sourced calibration table shipped in ``market/data/calibration.csv``.

The table has one row per public figure with columns ``key,value,unit,as_of,source_title,source_url,note``
(see ``/work/shared/calibration/README.md``). Every default parameter of the model points at a key here or
says "assumption: <reason>". The file is parsed once per process (``functools.cache``); the rows are plain
strings so that non-numeric figures (GPU model names, dates, time windows) survive untouched.
"""

from __future__ import annotations

import csv
import difflib
import math
from functools import cache
from pathlib import Path

CALIBRATION_PATH = Path(__file__).with_name("data") / "calibration.csv"
COLUMNS = ("key", "value", "unit", "as_of", "source_title", "source_url", "note")


@cache
def _table() -> dict[str, dict[str, str]]:
    with CALIBRATION_PATH.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{CALIBRATION_PATH}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        table: dict[str, dict[str, str]] = {}
        for line_no, rec in enumerate(reader, start=2):
            key = rec["key"].strip()
            # A duplicated key would make value() silently depend on row order.
            if key in table:
                raise ValueError(f"{CALIBRATION_PATH}:{line_no}: duplicate key {key!r}")
            table[key] = {col: (rec[col] or "").strip() for col in COLUMNS}
    return table


def keys() -> list[str]:
    """All calibration keys, in file order.

    Returns:
        list of str (one per row of ``calibration.csv``).
    """
    return list(_table())


def row(key: str) -> dict[str, str]:
    """The full row of a calibration figure.

    Args:
        key: a key of ``calibration.csv``, e.g. ``"deepseek_daily_cost_usd"``.

    Returns:
        A fresh dict with string fields ``key, value, unit, as_of, source_title, source_url, note``
        (editing it does not change the cached table).

    Raises:
        KeyError: unknown key; the message names it and suggests close matches (difflib).
    """
    table = _table()
    try:
        return dict(table[key])
    except KeyError:
        close = difflib.get_close_matches(key, table.keys(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown calibration key {key!r}{hint}") from None


def value(key: str) -> float:
    """The numeric value of a calibration figure, in the unit of its ``unit`` column.

    Args:
        key: a key of ``calibration.csv``.

    Returns:
        float (finite).

    Raises:
        KeyError: unknown key (message suggests close matches).
        ValueError: the figure is not a finite number (e.g. ``deepseek_gpu_type`` = "H800", a date).
    """
    raw = row(key)["value"]
    try:
        number = float(raw)
    except ValueError:
        raise ValueError(f"calibration key {key!r} has non-numeric value {raw!r}; use row() for it") from None
    if not math.isfinite(number):
        raise ValueError(f"calibration key {key!r} has non-finite value {raw!r}")
    return number
