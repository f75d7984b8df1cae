"""The targets table: each public figure used for calibration, the model output it is compared with, when, how,
and how much it weighs. Loaded from TOML (the shipped table is ``runs/calibration/targets.toml``) and validated
before any run: a bad table raises :class:`~runs.calibration.CalibrationError` naming the row and the field.

A table has three kinds of rows:

``[[series]]`` — a model output as a path over rounds, in the unit of the figures it is compared with:
    ``table`` (``model`` or ``agents``), ``column`` (an expression over that table's columns, see
    :class:`Expression`), for agents a ``firms`` filter (``{type = [...], name = [...], funding = [...],
    vertical = [...]}``, every listed field must match one of its values) and an ``aggregate`` over the selected
    firms (sum, mean, min, max), optionally ``share_of`` (a second firm filter: the value becomes the aggregate
    over ``firms`` divided by the aggregate over ``share_of``), ``convert`` (:data:`CONVERT`), ``unit``
    (:data:`UNITS`) and ``compare``: ``log`` (levels that span orders of magnitude: the error is ln(model/figure))
    or ``diff`` (shares: model − figure, in the series unit). ``analogue`` says which real firm or market the
    model output stands for.
``[[target]]`` — one comparison: ``series``, ``figure`` (a key of ``market/data/path_targets.csv`` or of
    ``market/data/calibration.csv``, or arithmetic on such keys and numbers), ``date`` (one date: the path is
    interpolated linearly between rounds) or ``window = "YYYY-MM..YYYY-MM"`` (the mean over those rounds),
    ``bound`` (point, lower: the model should be at least the figure, upper), ``tolerance`` (log: a factor > 1;
    diff: a difference in the series unit), ``weight`` in (0, 1] and the ``reason`` for both. A row tagged
    UNVERIFIED, secondary or ESTIMATE must weigh less than 1. When the date differs from the cited rows' ``as_of``
    by more than :data:`DATE_SLACK_MONTHS`, ``date_note`` must say why; when a tag in a note concerns another
    figure than the one used, ``quality_note`` must say so.
``[[unused]]`` — a dated figure deliberately left out, with the ``reason`` and what would let it in (``needs``).

Dates become rounds through :func:`market.calendar.round_of` only.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from market import calibration, path_targets
from market.calendar import DateError, round_of
from runs.calibration import CalibrationError

SHIPPED = Path(__file__).with_name("targets.toml")
TABLES = ("model", "agents")
AGGREGATES = ("sum", "mean", "min", "max")
COMPARE = ("log", "diff")
BOUNDS = ("point", "lower", "upper")
FIRM_FIELDS = ("type", "name", "funding", "vertical")
MINUTES_PER_MONTH = 30 * 24 * 60  # 30-day month: the arithmetic of the DERIVED rows of path_targets.csv
# Model quantity per month → the figure's quantity (before the unit divisor).
CONVERT: dict[str, float] = {
    "none": 1.0,
    "run_rate": 12.0,                          # $/month → $/year annualised (the press's "ARR")
    "tokens": 1e6,                             # Mtok → tokens
    "per_minute": 1e6 / MINUTES_PER_MONTH,     # Mtok/month → tokens/minute
    "per_day": 1e6 / 30.0,                     # Mtok/month → tokens/day
    "per_week": 1e6 * 7.0 / 30.0,              # Mtok/month → tokens/week
}
UNITS: dict[str, float] = {"one": 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
                           "percent": 0.01}
SOFT_TAGS = ("UNVERIFIED", "secondary", "ESTIMATE")
DATE_SLACK_MONTHS = 1.5
_SERIES_FIELDS = {"name", "label", "table", "column", "firms", "aggregate", "share_of", "convert", "unit",
                  "compare", "analogue"}
_TARGET_FIELDS = {"name", "series", "figure", "date", "window", "bound", "tolerance", "weight", "reason",
                  "date_note", "quality_note"}
_UNUSED_FIELDS = {"key", "reason", "needs"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OPS = ("+", "*", "/")
_TOKEN = re.compile(r"[a-z][a-z0-9_]*_\*|[a-z][a-z0-9_]*|[+*/]|\S")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


# ------------------------------------------------------------------------------------------ expressions

@dataclass(frozen=True)
class Expression:
    """A column expression: a sum of products of columns, optionally divided by another such sum.

    Grammar: ``expr := sum ['/' sum]``, ``sum := product ('+' product)*``, ``product := atom ('*' atom)*``,
    ``atom := column | prefix_*`` (``prefix_*`` is the sum of every column starting with ``prefix_``, e.g.
    ``customers_*``: customers over all verticals). For agents series the numerator and the denominator are each
    aggregated over the selected firms, then divided (a ratio of sums for ``sum``).

    Attributes:
        text: the expression as written.
        numerator, denominator: tuples of products, each a tuple of atoms; ``denominator`` empty when no ``/``.
    """

    text: str
    numerator: tuple[tuple[str, ...], ...]
    denominator: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Expression":
        """Parse ``text``. Raises ValueError naming what is wrong."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("expected an expression over columns, e.g. 'revenue_usd' or 'price * api_tokens_mtok'")
        tokens = _TOKEN.findall(text)
        bad = [t for t in tokens if t not in _OPS and not _NAME.match(t.removesuffix("_*"))]
        if bad:
            raise ValueError(f"{text!r}: {bad[0]!r} is not allowed; use column names (lower-case snake_case, or "
                             f"prefix_* for a sum of columns) and the operators + * /")
        if not tokens or tokens[0] in _OPS or tokens[-1] in _OPS:
            raise ValueError(f"{text!r}: must start and end with a column name")
        sums: list[tuple[tuple[str, ...], ...]] = []
        products: list[tuple[str, ...]] = []
        atoms: list[str] = []
        for prev, tok in zip([None, *tokens], tokens):
            if (tok in _OPS) == (prev in _OPS or prev is None):
                raise ValueError(f"{text!r}: expected {'a column name' if tok in _OPS else '+ * or /'} "
                                 f"before {tok!r}")
            if tok not in _OPS:
                atoms.append(tok)
            elif tok in ("+", "/"):
                products.append(tuple(atoms))
                atoms = []
                if tok == "/":
                    sums.append(tuple(products))
                    products = []
        products.append(tuple(atoms))
        sums.append(tuple(products))
        if len(sums) > 2:
            raise ValueError(f"{text!r}: at most one '/'")
        return cls(text.strip(), sums[0], sums[1] if len(sums) == 2 else ())

    def atoms(self) -> set[str]:
        """Every column name or ``prefix_*`` glob the expression uses."""
        return {a for s in (self.numerator, self.denominator) for p in s for a in p}

    def missing(self, columns: set[str] | list[str]) -> list[str]:
        """Atoms that match no column of ``columns`` (a glob must match at least one), sorted."""
        cols = set(columns)
        out = []
        for atom in self.atoms():
            if atom.endswith("_*"):
                if not any(c.startswith(atom[:-1]) for c in cols):
                    out.append(atom)
            elif atom not in cols:
                out.append(atom)
        return sorted(out)


# ------------------------------------------------------------------------------------------ rows

@dataclass(frozen=True)
class FirmFilter:
    """Rows of agents.csv whose listed fields each take one of the listed values (empty: every row)."""

    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def text(self) -> str:
        """Compact form for tables and charts, e.g. ``type=lab,provider; name=lab_investor_a``."""
        return "; ".join(f"{k}={','.join(v)}" for k, v in self.fields) or "all firms"


@dataclass(frozen=True)
class Series:
    """A model output as a path over rounds, in the unit of the figures compared with it (module docstring)."""

    name: str
    label: str
    table: str
    column: Expression
    firms: FirmFilter = FirmFilter()
    aggregate: str = "sum"
    share_of: FirmFilter | None = None
    convert: str = "none"
    unit: str = "one"
    compare: str = "log"
    analogue: str = ""

    @property
    def factor(self) -> float:
        """Multiplier from the model's per-month quantity to the figure's unit (convert ÷ unit)."""
        return CONVERT[self.convert] / UNITS[self.unit]


@dataclass(frozen=True)
class Target:
    """One comparison of a public figure with a model series (module docstring).

    Attributes:
        value: the figure in the series unit (the ``figure`` arithmetic evaluated).
        keys: the table keys the figure cites, in order.
        start, end: rounds (months since July 2024): equal for a dated target (may be fractional), the first
            and last round of a window.
        tags: quality tags of the cited rows (UNVERIFIED, secondary, ESTIMATE, DERIVED).
    """

    name: str
    series: str
    figure: str
    value: float
    keys: tuple[str, ...]
    when: str
    start: float
    end: float
    bound: str
    tolerance: float
    weight: float
    reason: str
    date_note: str = ""
    quality_note: str = ""
    tags: tuple[str, ...] = ()

    @property
    def is_window(self) -> bool:
        """True when the target is a mean over a window of rounds."""
        return ".." in self.when

    def scale(self, compare: str) -> float:
        """The tolerance in comparison units: ln(factor) for log comparisons, the difference itself for diff."""
        return math.log(self.tolerance) if compare == "log" else self.tolerance


@dataclass(frozen=True)
class Unused:
    """A dated figure left out of the fit: its key, why, and what would let it in."""

    key: str
    reason: str
    needs: str = ""


@dataclass(frozen=True)
class TargetTable:
    """A validated targets table: its file, text, series by name, targets and unused rows (file order)."""

    path: str
    text: str = field(repr=False)
    series: dict[str, Series]
    targets: tuple[Target, ...]
    unused: tuple[Unused, ...] = ()

    def rounds_needed(self) -> int:
        """The last round any target reads (a run must have at least this many rounds)."""
        return max(math.ceil(t.end) for t in self.targets)

    def names(self) -> list[str]:
        """Target names in file order."""
        return [t.name for t in self.targets]

    def weights(self) -> list[float]:
        """Target weights in file order."""
        return [t.weight for t in self.targets]

    def scales(self) -> list[float]:
        """Target tolerances in comparison units (file order)."""
        return [t.scale(self.series[t.series].compare) for t in self.targets]


# ------------------------------------------------------------------------------------------ figures

def lookup(key: str) -> tuple[float, dict[str, str]]:
    """(value, row) of a key of the dated paths or, failing that, of the calibration table.

    Raises:
        KeyError: the key is in neither table (message suggests close keys of the paths table).
        ValueError: the row's value is not a finite number.
    """
    if key in set(path_targets.keys()):
        return path_targets.value(key), path_targets.row(key)
    if key in set(calibration.keys()):
        return calibration.value(key), calibration.row(key)
    try:
        path_targets.row(key)
    except KeyError as err:
        raise KeyError(f"{err.args[0]} (nor a calibration key)") from None
    raise AssertionError("unreachable")


def evaluate_figure(text: str) -> tuple[float, tuple[str, ...]]:
    """Evaluate a figure: a table key, or arithmetic (``+ - * /``, parentheses, numbers) on keys.

    Returns:
        (value, cited keys in order of first mention).

    Raises:
        ValueError: a syntax error, another operator or function call, an unknown key, a non-finite result.
    """
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError:
        raise ValueError(f"{text!r}: not a key or arithmetic on keys") from None
    keys: list[str] = []

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            try:
                value, _ = lookup(node.id)
            except (KeyError, ValueError) as err:
                raise ValueError(str(err.args[0])) from None
            if node.id not in keys:
                keys.append(node.id)
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Div) and b == 0:
                raise ValueError(f"{text!r}: division by zero")
            return _ARITHMETIC[type(node.op)](a, b)
        raise ValueError(f"{text!r}: only keys, numbers, + - * / and parentheses are allowed")

    value = ev(tree)
    if not math.isfinite(value):
        raise ValueError(f"{text!r}: evaluates to {value}")
    if not keys:
        raise ValueError(f"{text!r}: cites no key of path_targets.csv or calibration.csv")
    return value, tuple(keys)


# ------------------------------------------------------------------------------------------ loading

def _where(path: str, kind: str, index: int, name: str | None) -> str:
    return f"{path}: {kind} {index + 1}" + (f" ({name})" if name else "")


def _check_fields(item: Any, allowed: set[str], required: set[str], where: str) -> None:
    if not isinstance(item, dict):
        raise CalibrationError(f"{where}: expected a table, got {item!r}")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise CalibrationError(f"{where}: {unknown[0]}: unknown field; allowed: {', '.join(sorted(allowed))}")
    for name in sorted(required):
        if name not in item:
            raise CalibrationError(f"{where}: {name}: missing (required)")


def _choice(item: dict, name: str, allowed: tuple[str, ...] | list[str], default: str, where: str) -> str:
    value = item.get(name, default)
    if value not in allowed:
        raise CalibrationError(f"{where}: {name}: {value!r} not allowed; allowed: {', '.join(allowed)}")
    return value


def _text(item: dict, name: str, where: str, required: bool = True) -> str:
    value = item.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CalibrationError(f"{where}: {name}: expected non-empty text, got {value!r}")
    return value.strip()


def _firm_filter(value: Any, name: str, where: str) -> FirmFilter:
    if not isinstance(value, dict) or not value:
        raise CalibrationError(f"{where}: {name}: expected a table such as {{type = [\"lab\"], name = [\"…\"]}}, "
                               f"got {value!r}")
    fields = []
    for k, v in value.items():
        if k not in FIRM_FIELDS:
            raise CalibrationError(f"{where}: {name}.{k}: unknown firm field; allowed: {', '.join(FIRM_FIELDS)}")
        vals = [v] if isinstance(v, str) else v
        if not isinstance(vals, list) or not vals or not all(isinstance(x, str) and x for x in vals):
            raise CalibrationError(f"{where}: {name}.{k}: expected a non-empty list of names, got {v!r}")
        fields.append((k, tuple(vals)))
    return FirmFilter(tuple(fields))


def _series(item: Any, index: int, path: str) -> Series:
    name = item.get("name") if isinstance(item, dict) else None
    where = _where(path, "series", index, name if isinstance(name, str) else None)
    _check_fields(item, _SERIES_FIELDS, {"name", "table", "column"}, where)
    if not isinstance(name, str) or not _NAME.match(name):
        raise CalibrationError(f"{where}: name: {name!r} must be lower-case snake_case")
    table = _choice(item, "table", TABLES, "model", where)
    try:
        column = Expression.parse(item["column"])
    except ValueError as err:
        raise CalibrationError(f"{where}: column: {err}") from None
    firms, share_of = FirmFilter(), None
    if table == "agents":
        if "firms" in item:
            firms = _firm_filter(item["firms"], "firms", where)
        if "share_of" in item:
            share_of = _firm_filter(item["share_of"], "share_of", where)
            if column.denominator:
                raise CalibrationError(f"{where}: share_of: not allowed with a '/' in column (one division only)")
    else:
        for bad in ("firms", "share_of"):
            if bad in item:
                raise CalibrationError(f"{where}: {bad}: only agents series select firms (table is 'model')")
    aggregate = _choice(item, "aggregate", AGGREGATES, "sum", where)
    if table == "model" and "aggregate" in item:
        raise CalibrationError(f"{where}: aggregate: model series have one row per round (nothing to aggregate)")
    return Series(name=name, label=_text(item, "label", where, required=False) or name, table=table, column=column,
                  firms=firms, aggregate=aggregate, share_of=share_of,
                  convert=_choice(item, "convert", list(CONVERT), "none", where),
                  unit=_choice(item, "unit", list(UNITS), "one", where),
                  compare=_choice(item, "compare", COMPARE, "log", where),
                  analogue=_text(item, "analogue", where, required=False))


def _number(item: dict, name: str, where: str, default: float | None = None) -> float:
    value = item.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CalibrationError(f"{where}: {name}: expected a number, got {value!r}")
    return float(value)


def _as_of_round(row: dict[str, str]) -> float | None:
    try:
        return round_of(row["as_of"])
    except DateError:
        return None  # free-text dates of the calibration table ("2024 (projected Sep 2024)")


def _target(item: Any, index: int, path: str, series: dict[str, Series]) -> Target:
    name = item.get("name") if isinstance(item, dict) else None
    where = _where(path, "target", index, name if isinstance(name, str) else None)
    _check_fields(item, _TARGET_FIELDS, {"name", "series", "figure", "tolerance", "weight", "reason"}, where)
    if not isinstance(name, str) or not _NAME.match(name):
        raise CalibrationError(f"{where}: name: {name!r} must be lower-case snake_case")
    sname = item["series"]
    if sname not in series:
        raise CalibrationError(f"{where}: series: {sname!r} is not a [[series]] of this file; "
                               f"allowed: {', '.join(series) or 'none defined'}")
    s = series[sname]
    try:
        value, keys = evaluate_figure(item["figure"])
    except ValueError as err:
        raise CalibrationError(f"{where}: figure: {err}") from None
    if s.compare == "log" and value <= 0:
        raise CalibrationError(f"{where}: figure: {value:g} ≤ 0 cannot be compared on a log scale "
                               f"(series {sname} has compare = 'log')")
    if ("date" in item) == ("window" in item):
        raise CalibrationError(f"{where}: date/window: give exactly one (date = \"2025-06\" or "
                               f"window = \"2025-01..2025-12\")")
    try:
        if "date" in item:
            when = str(item["date"])
            start = end = round_of(when)
        else:
            when = str(item["window"])
            a, sep, b = when.partition("..")
            if not sep or not _MONTH.match(a.strip()) or not _MONTH.match(b.strip()):
                raise CalibrationError(f"{where}: window: {when!r}; allowed: 'YYYY-MM..YYYY-MM'")
            start, end = round_of(a.strip()), round_of(b.strip())
            if end < start:
                raise CalibrationError(f"{where}: window: {when!r} ends before it starts")
    except DateError as err:
        raise CalibrationError(f"{where}: {'date' if 'date' in item else 'window'}: {err}") from None
    if start < 0:
        raise CalibrationError(f"{where}: {'date' if 'date' in item else 'window'}: {when!r} is round {start:g}, "
                               f"before the model starts (round 0 = July 2024)")
    bound = _choice(item, "bound", BOUNDS, "point", where)
    tolerance = _number(item, "tolerance", where)
    if s.compare == "log" and not tolerance > 1:
        raise CalibrationError(f"{where}: tolerance: {tolerance:g} out of range (allowed: a factor > 1 for a log "
                               f"comparison, e.g. 1.5 = within ×/÷ 1.5)")
    if s.compare == "diff" and not tolerance > 0:
        raise CalibrationError(f"{where}: tolerance: {tolerance:g} out of range (allowed: > 0, in {s.unit})")
    weight = _number(item, "weight", where)
    if not 0 < weight <= 1:
        raise CalibrationError(f"{where}: weight: {weight:g} out of range (allowed: (0, 1])")
    reason = _text(item, "reason", where)
    date_note = _text(item, "date_note", where, required=False)
    tags: list[str] = []
    for key in keys:
        _, row = lookup(key)
        for tag in path_targets.quality_tags(row["note"]):
            if tag not in tags:
                tags.append(tag)
        as_of = _as_of_round(row)
        if as_of is not None and not date_note and not (start - DATE_SLACK_MONTHS <= as_of <= end + DATE_SLACK_MONTHS):
            raise CalibrationError(f"{where}: date_note: missing; {when!r} (round {start:g}) is more than "
                                   f"{DATE_SLACK_MONTHS:g} months from {key}'s as_of {row['as_of']!r} (round "
                                   f"{as_of:g}): say why the figure is compared there")
    quality_note = _text(item, "quality_note", where, required=False)
    soft = [t for t in tags if t in SOFT_TAGS]
    if soft and weight >= 1 and not quality_note:
        raise CalibrationError(f"{where}: weight: {weight:g} but a cited row is tagged {soft[0]}; such rows weigh "
                               f"less (allowed: < 1, or a quality_note saying why the tag does not apply to the "
                               f"figure used)")
    return Target(name=name, series=sname, figure=str(item["figure"]), value=value, keys=keys, when=when,
                  start=start, end=end, bound=bound, tolerance=tolerance, weight=weight, reason=reason,
                  date_note=date_note, quality_note=quality_note, tags=tuple(tags))


def _unused(item: Any, index: int, path: str) -> Unused:
    key = item.get("key") if isinstance(item, dict) else None
    where = _where(path, "unused", index, key if isinstance(key, str) else None)
    _check_fields(item, _UNUSED_FIELDS, {"key", "reason"}, where)
    try:
        path_targets.row(key)
    except (KeyError, TypeError) as err:
        raise CalibrationError(f"{where}: key: {err.args[0] if err.args else key!r}") from None
    return Unused(key, _text(item, "reason", where), _text(item, "needs", where, required=False))


def parse_targets(text: str, path: str = "<targets>") -> TargetTable:
    """Validate a targets table given as TOML text (see the module docstring for the format).

    Args:
        text: the TOML text.
        path: the file name used in messages and kept with the table.

    Returns:
        :class:`TargetTable`.

    Raises:
        CalibrationError: bad TOML, an unknown or missing field, a value outside what is allowed, an unknown
            key, series or date, duplicated names, a soft row weighing 1, a date far from its row's as_of without a
            note, or an unused key that a target cites; the message names the row and the field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CalibrationError(f"{path}: bad TOML: {err}") from None
    unknown = sorted(set(data) - {"series", "target", "unused"})
    if unknown:
        raise CalibrationError(f"{path}: {unknown[0]}: unknown section; allowed: [[series]], [[target]], [[unused]]")
    for section in ("series", "target", "unused"):
        if not isinstance(data.get(section, []), list):
            raise CalibrationError(f"{path}: {section}: write it as an array of tables ([[{section}]])")
    series: dict[str, Series] = {}
    for i, item in enumerate(data.get("series", [])):
        s = _series(item, i, path)
        if s.name in series:
            raise CalibrationError(f"{_where(path, 'series', i, s.name)}: name: duplicate series name")
        series[s.name] = s
    targets: list[Target] = []
    for i, item in enumerate(data.get("target", [])):
        t = _target(item, i, path, series)
        if t.name in {x.name for x in targets}:
            raise CalibrationError(f"{_where(path, 'target', i, t.name)}: name: duplicate target name")
        targets.append(t)
    if not targets:
        raise CalibrationError(f"{path}: no [[target]] rows: nothing to calibrate against")
    cited = {k for t in targets for k in t.keys}
    unused: list[Unused] = []
    for i, item in enumerate(data.get("unused", [])):
        u = _unused(item, i, path)
        if u.key in cited:
            raise CalibrationError(f"{_where(path, 'unused', i, u.key)}: key: cited by a target, so not unused")
        if u.key in {x.key for x in unused}:
            raise CalibrationError(f"{_where(path, 'unused', i, u.key)}: key: listed twice")
        unused.append(u)
    return TargetTable(path, text, series, tuple(targets), tuple(unused))


def load_targets(path: str | Path | None = None) -> TargetTable:
    """Read and validate a targets file (default: the shipped ``runs/calibration/targets.toml``).

    Raises:
        CalibrationError: unreadable file or any problem :func:`parse_targets` reports.
    """
    path = Path(path) if path is not None else SHIPPED
    return parse_targets(read_text(path, "--targets"), display_path(path))


def read_text(path: Path, flag: str) -> str:
    """The UTF-8 text of an input file. Raises CalibrationError naming ``flag`` and the file when unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{flag}: file {str(path)!r} does not exist") from None
    except (UnicodeDecodeError, OSError) as err:
        raise CalibrationError(f"{flag}: cannot read {str(path)!r} ({err})") from None


def display_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (``runs/calibration/targets.toml``), else as given."""
    root = Path(__file__).resolve().parents[2]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)
