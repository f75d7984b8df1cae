"""Write a calibration's estimates into shipped scenario files, keeping each file's own conditions and comments.

The shipped scenarios are pairs that must differ only in their stated conditions (``runs.compare.pairs``), so
the estimated values go into every one of them, not only the baseline: a pair whose two sides stood on different
demand would compare two markets. A scenario file is edited as text, so its comments and layout stay:

- a value of a section (``world.usage_growth_per_year``) replaces the key's line in the section's table, or is
  added under the table's header, or in a new table at the end of the file;
- a segment value (``customers.segments.0.usage_median_mtok``) replaces the line in the file's i-th
  ``[[customers.segments]]`` block; a file that sets no segments gets the default segments written out in full
  with the estimates in place (TOML cannot set one field of one list item).

Each estimated line ends with its source (:func:`runs.calibration.scenario.estimated_source`), the ``estimated``
kind of :mod:`market.provenance`. Run as ``python -m runs.calibration.apply CALIBRATION_DIR SCENARIO.toml ...``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from market.config import build_config, load_scenario
from runs.calibration import CalibrationError
from runs.calibration.scenario import _value


def _segment_block(segment: dict[str, Any], notes: dict[str, str]) -> list[str]:
    lines = ["", "[[customers.segments]]"]
    for k, v in segment.items():
        if v is None:
            continue
        note = notes.get(k)
        lines.append(f"{k} = {_value(v)}" + (f"  # {note}" if note else ""))
    return lines


def _table_span(lines: list[str], header: str) -> tuple[int, int] | None:
    """(first line after ``header``, end of its table) in ``lines``, or None when the file has no such table."""
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return None
    end = next((j for j in range(start + 1, len(lines)) if lines[j].lstrip().startswith("[")), len(lines))
    return start + 1, end


def _set_in(lines: list[str], span: tuple[int, int], key: str, text: str) -> None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(*span):
        if pattern.match(lines[i]):
            lines[i] = text
            return
    lines.insert(span[0], text)


def apply_estimates(text: str, values: dict[str, Any], sources: dict[str, str]) -> str:
    """``text`` (a scenario file) with ``values`` written in, each line ending with ``# sources[path]``.

    Args:
        text: the scenario file's TOML text.
        values: estimated values by dotted config path (``section.key`` or ``customers.segments.i.field``).
        sources: the end-of-line comment of each path.

    Returns:
        The new text; it parses to the old scenario with the estimates applied (checked by the caller).

    Raises:
        CalibrationError: a path deeper than ``section.key`` that is not a segment field.
    """
    lines = text.rstrip("\n").split("\n")
    segment_values: dict[int, dict[str, Any]] = {}
    for path, v in values.items():
        parts = path.split(".")
        if parts[:2] == ["customers", "segments"] and len(parts) == 4:
            segment_values.setdefault(int(parts[2]), {})[parts[3]] = v
            continue
        if len(parts) != 2:
            raise CalibrationError(f"{path}: only section.key and customers.segments.i.field paths can be applied")
        section, key = parts
        line = f"{key} = {_value(v)}  # {sources[path]}"
        span = _table_span(lines, f"[{section}]")
        if span is None:
            lines += ["", f"[{section}]", line]
        else:
            _set_in(lines, span, key, line)
    if segment_values:
        starts = [i for i, line in enumerate(lines) if line.strip() == "[[customers.segments]]"]
        if starts:
            for index, fields in segment_values.items():
                if index >= len(starts):
                    raise CalibrationError(f"customers.segments.{index}: the file sets only {len(starts)} segments")
                begin = starts[index] + 1
                end = next((j for j in range(begin, len(lines)) if lines[j].lstrip().startswith("[")), len(lines))
                for key, v in fields.items():
                    _set_in(lines, (begin, end), key, f"{key} = {_value(v)}  # {sources[f'customers.segments.{index}.{key}']}")
                    end = next((j for j in range(begin, len(lines)) if lines[j].lstrip().startswith("[")), len(lines))
        else:
            segments = build_config({}).model_dump(mode="json")["customers"]["segments"]
            lines += ["", "# The customer segments written out in full (TOML cannot set one field of one segment): every",
                      "# value is the schema default except those marked estimated."]
            for index, segment in enumerate(segments):
                fields = segment_values.get(index, {})
                merged = {**segment, **fields}
                notes = {k: sources[f"customers.segments.{index}.{k}"] for k in fields}
                lines += _segment_block(merged, notes)
    return "\n".join(lines) + "\n"


def apply_calibration(folder: str | Path, scenarios: list[str | Path]) -> list[Path]:
    """Write the estimates of a finished calibration (``folder``/best.json, the sources of calibrated.toml) into
    each scenario file, checking that each file then loads with exactly the estimates changed.

    Raises:
        CalibrationError: the folder holds no finished calibration, or a file would change in more than the
            estimated values.
    """
    from market.provenance import scenario_comments

    folder = Path(folder)
    try:
        best = json.loads((folder / "best.json").read_text())
        calibrated = (folder / "calibrated.toml").read_text()
    except (OSError, ValueError) as err:
        raise CalibrationError(f"{folder}: no finished calibration ({err})") from None
    if not best.get("parameters"):
        raise CalibrationError(f"{folder}/best.json: no completed trial")
    values = dict(best["parameters"])
    comments = scenario_comments(calibrated)
    sources = {}
    for path in values:
        found = comments.get(path)
        if found is None or found[0] != "key":
            raise CalibrationError(f"{folder}/calibrated.toml: no source for {path}")
        sources[path] = found[1].replace("\n", " ")
    written = []
    for scenario in scenarios:
        path = Path(scenario)
        old = path.read_text()
        new = apply_estimates(old, values, sources)
        before = build_config(load_scenario(str(path))).model_dump(mode="json")
        path.write_text(new)
        try:
            after = build_config(load_scenario(str(path))).model_dump(mode="json")
            expected = build_config(before, values).model_dump(mode="json")
            if after != expected:
                raise CalibrationError(f"{path}: the edited file changes more than the estimated values")
        except Exception:
            path.write_text(old)
            raise
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m runs.calibration.apply CALIBRATION_DIR SCENARIO.toml ...", file=sys.stderr)
        return 2
    try:
        for path in apply_calibration(args[0], args[1:]):
            print(f"wrote {path}")
    except CalibrationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
