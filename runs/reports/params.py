"""Every parameter of a configuration with its value, unit, allowed range and source: the rows behind
``tokenmarket params`` and the generated parameter table of docs/ODD.md. Pure functions, no I/O.

Paths are the dotted paths ``--set`` takes (``labs.0.skill``). With ``collapse=True`` there is one row per
schema field instead (``labs[].skill``), its value being the list of the elements' values — the form of the
ODD table, which must name every field of the schema exactly once whatever the number of labs. A collapsed row
gives the elements' own sources and origins, as their rows would, listed by element where they differ.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from market import calibration
from market.calibrated import apply_layer, fill_required, read_layer
from market.config import MarketConfig, build_config, field_meta, leaf_values, scenario_source, schema_fields
from market.scenario import read_scenario
from market.provenance import (ESTIMATED_PREFIX, VALUE_SOURCES, Source, cited_keys, comment_for, resolve_source,
                               scenario_comments)

ODD_BEGIN, ODD_END = "<!-- params:begin -->", "<!-- params:end -->"
# Who set a value, in the order they override one another ("calibrated": the layer of market/calibrated.py).
ORIGINS = ("schema", "defaults", "calibrated", "scenario", "--set")


@dataclass(frozen=True)
class ParamRow:
    """One parameter.

    Attributes:
        path: ``labs.0.skill``, or ``labs[].skill`` for a collapsed row.
        value: the value (a list of the elements' values for a collapsed row of a list section).
        unit, range, description: from the schema (``range`` in words: bounds, choices, validators' rules).
        kind: the source's kind (see ``market.provenance``); ``unsourced`` when a value has no source. A collapsed
            row whose elements' sources differ in kind has their kinds, ", "-joined.
        keys: calibration keys cited; ``titles`` and ``dates`` their ``source_title`` and ``as_of`` (one per
            key, " | "-joined).
        source: the source text (a scenario's comment when the scenario set the value). A collapsed row whose
            elements have different sources lists each with the elements it covers: ``[0, 1] 5e9: …; [2] 2e10: …``.
        origin: who set the value: ``schema`` (the field's default), ``defaults`` (the schema's default lists),
            ``calibrated`` (the calibrated layer, market/data/calibrated.toml), ``scenario`` (the scenario file)
            or ``--set`` (an override). A collapsed row whose elements were set
            by different hands lists each with its elements: ``schema [0, 1]; defaults [2, 3]``.
    """

    path: str
    value: Any
    unit: str
    range: str
    kind: str
    keys: tuple[str, ...]
    titles: str
    dates: str
    source: str
    origin: str
    description: str


# ------------------------------------------------------------------------------------------------ formatting

def fmt(value: Any) -> str:
    """A value as text: numbers to 6 significant digits (``1e10``, not ``1e+10``), booleans as TOML writes
    them, dicts as ``key value`` pairs, tuples in brackets."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.6g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        return text
    if isinstance(value, dict):
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    return str(value).replace("\n", " ")


def range_text(model: type[BaseModel], name: str) -> str:
    """Allowed values of a field in words: an interval from its bounds, its choices, or its validator's rule."""
    meta, info = field_meta(model, name), model.model_fields[name]
    parts = []
    lo = ("[", meta["ge"]) if "ge" in meta else ("(", meta["gt"]) if "gt" in meta else None
    hi = ("]", meta["le"]) if "le" in meta else (")", meta["lt"]) if "lt" in meta else None
    if lo and hi:
        parts.append(f"{lo[0]}{fmt(lo[1])}, {fmt(hi[1])}{hi[0]}")
    elif lo:
        parts.append(f"{'≥' if lo[0] == '[' else '>'} {fmt(lo[1])}")
    elif hi:
        parts.append(f"{'≤' if hi[0] == ']' else '<'} {fmt(hi[1])}")
    if typing.get_origin(info.annotation) is typing.Literal:
        parts.append("{" + ", ".join(str(a) for a in typing.get_args(info.annotation)) + "}")
    elif info.annotation is bool:
        parts.append("{true, false}")
    if meta.get("allowed"):
        parts.append(meta["allowed"])
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------ sources

def _baseline_values() -> dict[str, Any]:
    return {path: value for path, _, value in leaf_values(MarketConfig())}


def _value_source(path: str, field: str, value: Any, default: Any, base: dict[str, Any],
                  scenario: tuple[set, dict] | None, overrides: dict[str, Any],
                  layered: dict[str, str] | None = None) -> tuple[str, str]:
    """(origin, source text) of one value; source text "" when nothing accounts for the value.

    ``default`` is the field's default, or None for a required field (whose defaults are the default lists');
    ``layered`` the source of each path the calibrated layer set.
    """
    if path in overrides:
        return "--set", f"--set {path}={overrides[path]}"
    baseline = base.get(path, default)
    if scenario is not None:
        explicit, comments = scenario
        if path in explicit:
            found = comment_for(path, comments)
            if found is not None and (found[0] == "key" or value != baseline):
                return "scenario", found[1]
            if value != baseline:
                return "scenario", ""
    if layered and path in layered:
        return "calibrated", layered[path]
    table = VALUE_SOURCES.get(field, {})
    key = (tuple(sorted(value.items())) if isinstance(value, dict) else tuple(value) if isinstance(value, list)
           else value)
    if key in table and (value == baseline or _from_factory(path, value)):
        return "defaults", table[key]
    if value == (baseline if default is None else default):
        return "schema", ""
    return "defaults", ""


def _from_factory(path: str, value: Any) -> bool:
    """Whether ``value`` at ``path`` is what a list element's own factory default gives (a lab in a scenario that
    keeps the default model line gets the default tiers, whatever the baseline's lab at that index has)."""
    from market.config import _default_plans, _default_tiers

    parts = path.split(".")
    for name, factory in (("tiers", _default_tiers), ("plans", _default_plans)):
        if name in parts:
            i = parts.index(name)
            if i + 2 < len(parts) and parts[i + 1].isdigit():
                items = factory()
                k = int(parts[i + 1])
                return k < len(items) and getattr(items[k], parts[i + 2], None) == value
    return False


def _explicit_paths(data: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every value a scenario file sets (inline tables walked into)."""
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            out |= _explicit_paths(v, f"{prefix}{k}.")
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, v in enumerate(data):
            out |= _explicit_paths(v, f"{prefix}{i}.")
    else:
        out.add(prefix[:-1])
    return out


def parameter_rows(scenario: str | Path | None = None, overrides: dict[str, Any] | None = None,
                   collapse: bool = False) -> list[ParamRow]:
    """Every parameter of a scenario (default: the bare schema defaults) with overrides applied.

    Args:
        scenario: shipped scenario name or TOML path (the calibrated layer under it, unless the file opts out);
            None for the bare schema defaults (no layer).
        overrides: dotted-path overrides as ``--set`` takes them (``{"labs.0.skill": "2"}``).
        collapse: one row per schema field (``labs[].skill``) instead of one per value (``labs.0.skill``).

    Returns:
        Rows in schema order. A value set by the scenario file carries the file's comment as its source; a
        value of the calibrated layer its estimate's source (kind ``estimated``, origin ``calibrated``);
        a value of the schema's default lists carries its entry of ``market.provenance.VALUE_SOURCES``;
        otherwise the field's own source. A value nothing accounts for gets kind ``unsourced``.

    Raises:
        market.config.ConfigError: unknown scenario, bad TOML or bad overrides.
        market.provenance.SourceError: a source that does not resolve (a calibration key not in the table).
    """
    overrides = {k.replace("__", "."): v for k, v in (overrides or {}).items()}
    data: dict[str, Any] = {}
    scen, layered = None, {}
    if scenario:
        raw, wanted = read_scenario(scenario)
        data = raw
        if wanted:
            layer = read_layer()
            data, applied = apply_layer(raw, layer)
            layered = {path: layer.source(estimate) for path, estimate in applied.items()}
        data = fill_required(data)
        text, _ = scenario_source(scenario)
        scen = (_explicit_paths(raw), scenario_comments(text))
    config = build_config(data, overrides)
    base = _baseline_values()
    meta = {f.path: (f.model, f.name) for f in schema_fields()}
    by_field: dict[str, list[tuple[str, Any, str, str]]] = {field: [] for field in meta}
    for path, field, value in leaf_values(config):
        model, name = meta[field]
        info = model.model_fields[name]
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        origin, text = _value_source(path, field, value, default, base, scen, overrides, layered)
        by_field[field].append((path, value, origin, text))
    rows = []
    for field, (model, name) in meta.items():
        m = field_meta(model, name)
        common = dict(unit=m["unit"] or "", range=range_text(model, name), description=m["description"] or "")
        own = resolve_source(m["source"])
        if collapse:
            rows.append(_collapsed(field, by_field[field], own, common))
            continue
        for path, value, origin, text in by_field[field]:
            src = _source_of(origin, text, own)
            rows.append(ParamRow(path=path, value=value, kind=src.kind, keys=src.keys, titles=src.titles(),
                                 dates=src.dates(), source=src.text, origin=origin, **common))
    return rows


def _source_of(origin: str, text: str, own: Source) -> Source:
    """The source of a value from its origin and the text ``_value_source`` found (``own``: the field's)."""
    if origin == "--set":
        return Source("override", text)
    if own.kind == "label":  # a name needs no reason
        return own
    if origin == "scenario":
        if not text:
            return Source("unsourced", "set by the scenario file without a comment giving the reason")
        if text.startswith(ESTIMATED_PREFIX):  # a calibrated scenario's values keep that kind
            return resolve_source(text)
        return Source("scenario", text, cited_keys(text))
    if text:
        return resolve_source(text)
    if origin == "defaults":
        return Source("unsourced", "set by the schema's default lists without an entry in VALUE_SOURCES")
    return own


def _collapsed(field: str, values: list[tuple[str, Any, str, str]], own: Source, common: dict) -> ParamRow:
    """One row for a schema field from its elements' (path, value, origin, source text).

    Each element's source is worked out as for its own row (:func:`_source_of`). When all elements share one
    source, the row carries it as it is; otherwise the sources are listed by the elements they cover, in list
    order: ``[0, 1] 5e9: <source>; [2] 2e10: <source>`` (the value is written when the elements it covers share
    one). The origin is likewise the elements' common origin, or each origin with its elements
    (``defaults [0, 1, 2]; schema [3]``); the kind is the elements' kinds, ", "-joined when they differ.
    """
    if not values:  # an empty list section: nothing but the field's own source
        return ParamRow(path=field, value=[], kind=own.kind, keys=own.keys, titles=own.titles(), dates=own.dates(),
                        source=own.text, origin="schema", **common)
    groups: dict[tuple[str, str], list[tuple[str, Any, Source]]] = {}
    origins: dict[str, list[str]] = {}
    for path, value, origin, text in values:
        src = _source_of(origin, text, own)
        index = ".".join(p for p in path.split(".") if p.isdigit())
        groups.setdefault((src.kind, src.text), []).append((index, value, src))
        origins.setdefault(origin, []).append(index)
    sources = [members[0][2] for members in groups.values()]
    if len(groups) == 1:
        source = sources[0].text
    else:
        parts = []
        for members in groups.values():
            shown = {fmt(v) for _, v, _ in members}
            value_note = f" {shown.pop()}" if len(shown) == 1 else ""
            parts.append(f"[{', '.join(i for i, _, _ in members)}]{value_note}: {members[0][2].text}")
        source = "; ".join(parts)
    if len(origins) == 1:
        origin = next(iter(origins))
    else:
        origin = "; ".join(f"{o} [{', '.join(idx)}]" for o, idx in origins.items())
    kinds = list(dict.fromkeys(s.kind for s in sources))
    keys: list[str] = []
    for s in sources:
        keys += [k for k in s.keys if k not in keys]
    value = [v for _, v, _, _ in values] if "[]" in field else values[0][1]
    titles = " | ".join(calibration.row(k)["source_title"] for k in keys)
    dates = " | ".join(calibration.row(k)["as_of"] for k in keys)
    return ParamRow(path=field, value=value, kind=", ".join(kinds), keys=tuple(keys), titles=titles, dates=dates,
                    source=source, origin=origin, **common)


# ------------------------------------------------------------------------------------------------ output

COLUMNS = ("path", "value", "unit", "range", "kind", "keys", "titles", "dates", "source", "origin", "description")


def grep_rows(rows: list[ParamRow], text: str) -> list[ParamRow]:
    """The rows whose path, unit, description or source contain ``text`` (case-insensitive), in order."""
    needle = text.lower()
    return [r for r in rows if any(needle in str(getattr(r, f) or "").lower()
                                   for f in ("path", "unit", "description", "source"))]


def value_text(row: ParamRow) -> str:
    """The row's value as text; a collapsed list field's element values are joined by "; " (or, all equal,
    written once with their number)."""
    if "[]" in row.path and isinstance(row.value, list):
        texts = [fmt(v) for v in row.value]
        if len(texts) > 1 and len(set(texts)) == 1:
            return f"{texts[0]} (all {len(texts)})"
        return "; ".join(texts)
    return fmt(row.value)


def format_csv(rows: list[ParamRow]) -> str:
    """CSV with a header of :data:`COLUMNS` (keys, titles and dates " | "-joined); every field is text."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.path, value_text(r), r.unit, r.range, r.kind, " | ".join(r.keys), r.titles, r.dates,
                         r.source, r.origin, r.description])
    return buf.getvalue()


def _short_source(r: ParamRow) -> str:
    if not r.keys:
        return r.source
    row = calibration.row(r.keys[0])
    more = f" (+{len(r.keys) - 1} more)" if len(r.keys) > 1 else ""
    return f"{r.source} [{row['source_title']}, {row['as_of']}{more}]"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def format_table(rows: list[ParamRow], widths: tuple[int, int, int] = (32, 24, 28)) -> str:
    """Aligned plain-text columns: parameter, value, unit, range (cut at ``widths`` characters; the CSV has
    them whole), set by, and the source with the first cited key's title and date."""
    head = ("parameter", "value", "unit", "range", "set by", "source")
    body = [(r.path, _cut(value_text(r), widths[0]), _cut(r.unit, widths[1]), _cut(r.range, widths[2]), r.origin,
             _short_source(r)) for r in rows]
    cols = [max(len(x[i]) for x in (head, *body)) for i in range(len(head) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(x, cols)) + "  " + x[-1] for x in (head, *body)]
    lines.insert(1, "  ".join("-" * w for w in cols) + "  " + "-" * len(head[-1]))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(text: str, keys: tuple[str, ...] = ()) -> str:
    for k in keys:
        text = re.sub(rf"(?<![\w`]){re.escape(k)}(?![\w`])", f"`{k}`", text)
    return text.replace("\n", " ").replace("|", "\\|")


def format_markdown(rows: list[ParamRow]) -> str:
    """A Markdown table (parameter, value, unit, allowed, [set by,] source, meaning) and the list of the
    calibration rows it cites, each with its title, date and address. ``set by`` is left out when every row
    has the same origin."""
    origins = {r.origin for r in rows}
    cols = ["parameter", "value", "unit", "allowed", *(["set by"] if len(origins) > 1 else []), "source", "meaning"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    cited: list[str] = []
    for r in rows:
        cells = [f"`{r.path}`", _cell(value_text(r)), _cell(r.unit), _cell(r.range),
                 *([r.origin] if len(origins) > 1 else []), _cell(r.source, r.keys), _cell(r.description)]
        out.append("| " + " | ".join(cells) + " |")
        cited += [k for k in r.keys if k not in cited]
    if cited:
        out += ["", "Calibration rows cited (`market/data/calibration.csv`):", ""]
        for k in cited:
            row = calibration.row(k)
            out.append(f"- `{k}` = {row['value']} {row['unit']} — {_cell(row['source_title'])}, {row['as_of']}, "
                       f"<{row['source_url']}>")
    return "\n".join(out) + "\n"


def odd_block(rows: list[ParamRow] | None = None) -> str:
    """The generated parameter section of docs/ODD.md, markers included: the collapsed baseline table."""
    rows = parameter_rows(collapse=True) if rows is None else rows
    note = ("<!-- Generated from market/config.py by `tokenmarket params --odd docs/ODD.md`; edit the schema, "
            "not this table. -->")
    return f"{ODD_BEGIN}\n{note}\n\n{format_markdown(rows)}\n{ODD_END}"


def splice_odd(text: str, block: str) -> str:
    """``text`` with the part between :data:`ODD_BEGIN` and :data:`ODD_END` (markers included) replaced.

    Raises:
        ValueError: the markers are missing, repeated or out of order.
    """
    start, end = text.find(ODD_BEGIN), text.find(ODD_END)
    if text.count(ODD_BEGIN) != 1 or text.count(ODD_END) != 1 or end < start:
        raise ValueError(f"expected one {ODD_BEGIN} followed by one {ODD_END}")
    return text[:start] + block + text[end + len(ODD_END):]


def odd_table_paths(text: str) -> list[str]:
    """Parameter paths listed in the generated section of an ODD text (first cell of each table row)."""
    start, end = text.find(ODD_BEGIN), text.find(ODD_END)
    if start < 0 or end < start:
        raise ValueError(f"expected {ODD_BEGIN} … {ODD_END}")
    return re.findall(r"^\| `([^`]+)` \|", text[start:end], flags=re.MULTILINE)
