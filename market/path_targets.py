"""Read access to the dated public paths shipped in ``market/data/path_targets.csv``.

Same columns as the calibration table (``key,value,unit,as_of,source_title,source_url,note``), one row per dated
point of a series the model should reproduce as a path (token volumes, run rates, market shares, users, list
prices, GPU rents, capex). These rows are *targets* of ``tokenmarket calibrate`` (``runs/calibration/``), never
inputs: no default parameter may cite them. Notes carry the quality tags of the source table: ``ESTIMATE``,
``DERIVED``, ``UNVERIFIED`` / ``secondary``. Every value is numeric.
"""

from __future__ import annotations

import csv
import difflib
import math
from functools import cache
from pathlib import Path

from market.calibration import COLUMNS

PATH_TARGETS_PATH = Path(__file__).with_name("data") / "path_targets.csv"
QUALITY_TAGS = ("UNVERIFIED", "secondary", "ESTIMATE", "DERIVED")


@cache
def _table() -> dict[str, dict[str, str]]:
    with PATH_TARGETS_PATH.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{PATH_TARGETS_PATH}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        table: dict[str, dict[str, str]] = {}
        for line_no, rec in enumerate(reader, start=2):
            key = rec["key"].strip()
            if key in table:
                raise ValueError(f"{PATH_TARGETS_PATH}:{line_no}: duplicate key {key!r}")
            table[key] = {col: (rec[col] or "").strip() for col in COLUMNS}
    return table


def keys() -> list[str]:
    """All path-target keys, in file order (list of str)."""
    return list(_table())


def row(key: str) -> dict[str, str]:
    """The full row of a dated figure (a fresh dict of strings: key, value, unit, as_of, source_title,
    source_url, note).

    Raises:
        KeyError: unknown key; the message suggests close matches.
    """
    table = _table()
    try:
        return dict(table[key])
    except KeyError:
        close = difflib.get_close_matches(key, table.keys(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown path-target key {key!r}{hint}") from None


def value(key: str) -> float:
    """The numeric value of a dated figure, in the unit of its ``unit`` column.

    Raises:
        KeyError: unknown key.
        ValueError: the value is not a finite number.
    """
    raw = row(key)["value"]
    try:
        number = float(raw)
    except ValueError:
        raise ValueError(f"path-target key {key!r} has non-numeric value {raw!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"path-target key {key!r} has non-finite value {raw!r}")
    return number


def quality_tags(note: str) -> tuple[str, ...]:
    """The quality tags (:data:`QUALITY_TAGS`) found in a note of this table or of the calibration table, in
    that order; ``secondary`` matches case-insensitively ("Secondary; …", "UNVERIFIED-secondary")."""
    return tuple(tag for tag in QUALITY_TAGS
                 if (tag.lower() in note.lower() if tag == "secondary" else tag in note))


def quality(key: str) -> tuple[str, ...]:
    """The quality tags of a path-target row (see :func:`quality_tags`)."""
    return quality_tags(row(key)["note"])
