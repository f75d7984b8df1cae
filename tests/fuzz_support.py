"""Malformed input for the command line, generated from the schema: ``--set`` values and keys, and scenario files.

Every generated input is wrong (a value of the wrong type, out of its range, not finite, a key that names
nothing, a section given a scalar, TOML that does not parse), and :func:`outcome` runs ``tokenmarket run`` on it
in this process and classifies what happened. The only acceptable outcome is ``clean``: exit status 2 with one
line on stderr naming the field (or, for a file that is not TOML, the file), no simulation started and nothing
created or changed in the output folder's parent. Used by tests/test_runs/test_fuzz_cli.py and
benchmarks/fuzz_cli.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import string
import tempfile
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from market.config import MarketConfig, resolve, schema_fields

BASE = MarketConfig().model_dump(mode="json")


def _free_text(f) -> bool:
    """A text field without a pattern or length limit (any text is valid), other than lab names (reserved)."""
    info = f.model.model_fields[f.name]
    ruled = any(getattr(m, "pattern", None) or getattr(m, "max_length", None) for m in info.metadata)
    return f.kind == "str" and not ruled and f.path != "labs[].name"


# A field whose every text is valid (free text) has no malformed value to give; forced moves are an empty list.
FIELDS = [f for f in schema_fields() if not f.path.startswith("forced[]") and not _free_text(f)]
OUTCOMES = ("clean", "traceback", "accepted", "wrong exit", "not one line", "vague", "touched")


def concrete(path: str) -> str:
    """A collapsed schema path with ``[]`` replaced by the first element (``labs[].skill`` → ``labs.0.skill``)."""
    return path.replace("[]", ".0")


@dataclass(frozen=True)
class Case:
    """One malformed input: ``--set KEY=TEXT`` arguments or a scenario file's text, and what the one error line
    must name."""

    kind: str  # set | toml
    argv: tuple[str, ...]
    toml: str | None
    names: tuple[str, ...]  # the error line must hold one of these


# ------------------------------------------------------------------------------------------------ values

_WORD = st.text(alphabet=string.ascii_letters, min_size=1, max_size=8).filter(
    lambda w: w.lower() not in ("true", "false", "inf", "nan"))


def _number_text(x: float | int) -> str:
    return repr(x) if isinstance(x, float) else str(x)


def _outside(f) -> st.SearchStrategy:
    """Numbers outside a numeric field's bounds (the field's own type), or None when it has none."""
    parts = []
    b = f.bounds
    if "ge" in b or "gt" in b:
        lo = b.get("ge", b.get("gt"))
        if f.kind == "int":
            parts.append(st.integers(max_value=int(lo) - (1 if "ge" in b else 0), min_value=int(lo) - 10**9))
        else:
            parts.append(st.floats(max_value=lo, exclude_max="ge" in b, allow_nan=False, allow_infinity=False,
                                   min_value=-1e300))
    if "le" in b or "lt" in b:
        hi = b.get("le", b.get("lt"))
        if f.kind == "int":
            parts.append(st.integers(min_value=int(hi) + (1 if "le" in b else 0), max_value=int(hi) + 10**12))
        else:
            parts.append(st.floats(min_value=hi, exclude_min="le" in b, allow_nan=False, allow_infinity=False,
                                   max_value=1e300))
    return st.one_of(parts)


def bad_value(f, via: str) -> st.SearchStrategy:
    """Python values that field ``f`` must refuse, in a TOML file (``via="toml"``) or after ``--set`` (``"set"``:
    there text fields take any text, so only text breaking their rule is malformed)."""
    shapes = st.sampled_from([[1, 2], {"a": 1}, [], "[1]"])
    if f.kind == "int":
        return st.one_of(_outside(f), st.floats(), st.booleans(), _WORD, st.just(""), shapes,
                         st.integers(0, 9).map(str))
    if f.kind == "float":
        return st.one_of(_outside(f), st.sampled_from([math.nan, math.inf, -math.inf]), st.booleans(), _WORD,
                         st.just(""), shapes, st.integers(0, 9).map(str))
    if f.kind == "bool":
        return st.one_of(st.integers(), st.floats(), _WORD, st.just(""), shapes, st.sampled_from(["true", "false"]))
    if f.kind == "choice":
        choices = typing.get_args(f.annotation)
        return st.one_of(_WORD.filter(lambda w: w not in choices), st.integers(), st.booleans(), st.just(""), shapes)
    if f.kind == "str":
        reserved = st.sampled_from(["provider_1", "coding_wrapper_2", "lab_investor_b"]) if f.path == "labs[].name" \
            else st.sampled_from(["../x", "a/b", "x" * 101, "a b"])  # outside every name pattern and length
        not_text = st.sampled_from([[1, 2], {"a": 1}, []])
        return reserved if via == "set" else st.one_of(reserved, st.integers(), st.booleans(), not_text)
    if f.kind in ("tuple", "list"):
        return st.one_of(st.just([]), st.lists(st.sampled_from([math.nan, math.inf, "a", True, -5.0, 99.0]),
                                               min_size=1, max_size=3),
                         st.lists(st.just(0.5), min_size=101, max_size=105), st.integers(), _WORD)
    if f.kind == "dict":
        # Wrong for every dict field of the schema (vertical shares, wrapper counts, quality multipliers).
        entry = st.sampled_from([{"bogus": 1}, {"coding": -1}, {"coding": "a"}, {"coding": True}, {"coding": 99}])
        return st.one_of(entry, st.integers(), _WORD, st.just([1]))
    raise AssertionError(f"no malformed values for {f.path} ({f.kind})")


def toml_value(v) -> str:
    """A Python value as TOML (strings quoted, dicts as inline tables, floats including nan and inf)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # None (an unset optional field) is left out: TOML has no null
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items() if x is not None) + "}"
    if v is None:
        raise ValueError("TOML has no null")
    raise TypeError(type(v))


def as_text(v) -> str:
    """How a value is written after ``--set KEY=``: TOML syntax; text as it is, quoted when it would read as a
    number, boolean or list (``"3"`` stays the text 3)."""
    if isinstance(v, str):
        try:
            parsed = tomllib.loads(f"v = {v}")
        except tomllib.TOMLDecodeError:
            return v
        return v if isinstance(parsed.get("v"), str) else json.dumps(v)
    return toml_value(v)


# ------------------------------------------------------------------------------------------------ keys

_MODELS = ["", "world", "customers", "customers.segments.1", "labs.0", "labs.2.pricing", "providers",
           "providers.policy", "wrappers", "finance", "outcomes"]


@st.composite
def bad_key(draw) -> tuple[str, str]:
    """(key, what the error must name): an unknown field, a step into a value, a bad list index, an empty part."""
    how = draw(st.sampled_from(["unknown", "into_scalar", "index", "not_index", "empty_part"]))
    if how == "unknown":
        where = draw(st.sampled_from(_MODELS))
        model = resolve(where).annotation if where else MarketConfig
        name = draw(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
            lambda n: n not in model.model_fields and "__" not in n))  # "__" reads as "."
        key = f"{where}.{name}" if where else name
        return key, key
    if how == "into_scalar":
        f = draw(st.sampled_from([f for f in FIELDS if f.kind in ("int", "float", "bool", "str", "choice")]))
        key = concrete(f.path) + "." + draw(st.sampled_from(["x", "0", "a.b"]))
        return key, concrete(f.path)
    if how == "index":
        i = draw(st.integers(4, 10**6))
        return f"labs.{i}.skill", f"labs.{i}"
    if how == "not_index":
        part = draw(st.sampled_from(["x", "-1", "first", "0x1", "1.5"]))
        return f"customers.segments.{part}.share", f"customers.segments.{part}"
    key = draw(st.sampled_from(["world..rounds", "world.", ".world", "labs..skill", "labs.0.", "a..b"]))
    return key, key


# ------------------------------------------------------------------------------------------------ cases

@st.composite
def set_case(draw) -> Case:
    """``--set`` with a malformed value for a schema field, or a malformed key."""
    if draw(st.integers(0, 3)) == 0:
        key, names = draw(bad_key())
        return Case("set", ("--set", f"{key}=1"), None, (names,))
    f = draw(st.sampled_from(FIELDS))
    key = concrete(f.path)
    text = as_text(draw(bad_value(f, "set")))
    return Case("set", ("--set", f"{key}={text}"), None, (key,))


def _with(data, parts: list[str], value):
    """A copy of nested ``data`` with ``value`` at ``parts`` (list indices as digits)."""
    data = json.loads(json.dumps(data))
    node = data
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return data


def toml_document(data: dict) -> str:
    """A whole config as TOML, one top-level key per line (sections as inline tables)."""
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items() if v is not None)


@st.composite
def toml_case(draw) -> Case:
    """A scenario file: the baseline with one malformed value, an unknown key, a section given a scalar, deep
    nesting, or text that is not TOML."""
    how = draw(st.sampled_from(["value", "value", "value", "unknown", "section", "deep", "syntax"]))
    if how == "value":
        f = draw(st.sampled_from(FIELDS))
        key = concrete(f.path)
        doc = toml_document(_with(BASE, key.split("."), draw(bad_value(f, "toml"))))
        return Case("toml", (), doc, (key,))
    if how == "unknown":
        where = draw(st.sampled_from([m for m in _MODELS if m]))
        model = resolve(where).annotation
        name = draw(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
            lambda n: n not in model.model_fields and "__" not in n))  # "__" reads as "."
        parts = where.split(".") + [name]
        return Case("toml", (), toml_document(_with(BASE, parts, 1)), (".".join(parts),))
    if how == "section":
        where = draw(st.sampled_from(["world", "customers", "providers", "wrappers", "finance", "outcomes",
                                      "labs.1", "labs.0.pricing", "customers.segments.2"]))
        value = draw(st.one_of(st.integers(), _WORD, st.booleans(), st.just([1, 2])))
        return Case("toml", (), toml_document(_with(BASE, where.split("."), value)), (where,))
    if how == "deep":
        depth = draw(st.integers(200, 3000))
        key = draw(st.sampled_from(["world", "bogus"]))
        doc = f"{key} = " + "[" * depth + "]" * depth + "\n"
        return Case("toml", (), doc, ("scenario", f"{key}:"))  # too deep to parse, or parsed and refused
    junk = draw(st.sampled_from(["[world", "x = ", "= 3", "[[labs]\n", "a = 1\na = 2\n", "x = [1,", "\x00",
                                 "world = {rounds = 1", "'unterminated"]))
    return Case("toml", (), junk, ("bad TOML",))


# ------------------------------------------------------------------------------------------------ running

class _Accepted(Exception):
    """Raised in place of the simulation: the input got past validation."""


def outcome(case: Case, workdir: Path) -> tuple[str, str]:
    """Run ``tokenmarket run`` on ``case`` in this process; (outcome, stderr). Nothing is simulated."""
    import market.simulate
    from runs.commands.main import main

    case_dir = Path(tempfile.mkdtemp(dir=workdir))
    out_parent = case_dir / "outputs"
    out_parent.mkdir()
    argv = ["run", *case.argv, "--quiet", "--out", str(out_parent / "o")]
    if case.toml is not None:
        scenario = case_dir / "scenario.toml"
        scenario.write_text(case.toml, encoding="utf-8")
        argv += ["--scenario", str(scenario)]
    before = (sorted(os.listdir(out_parent)), os.stat(out_parent).st_mtime_ns)

    def accepted(*a, **k):
        raise _Accepted

    real, market.simulate.run_once = market.simulate.run_once, accepted
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except _Accepted:
        return "accepted", err.getvalue()
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001 - any escape is the finding
        return "traceback", f"{type(exc).__name__}: {exc}"
    finally:
        market.simulate.run_once = real
    text = err.getvalue()
    after = (sorted(os.listdir(out_parent)), os.stat(out_parent).st_mtime_ns)
    if after != before:
        return "touched", text
    if code != 2:
        return "wrong exit", text
    if len(text.strip().splitlines()) != 1:
        return "not one line", text
    if not any(n in text for n in case.names):
        return "vague", text
    return "clean", text
