"""The one walker of the configuration schema: what a dotted path names (:func:`resolve`), every leaf field
(:func:`schema_fields`) and every leaf value of a config (:func:`leaf_values`), the schema's names
(:func:`schema_names`) and one field's metadata (:func:`field_meta`). Overrides, sweeps, calibration, the
parameter table, the provenance checks and the page all walk the schema through here.

Paths are dotted (``world.rounds``, ``labs.0.skill``, ``wrappers.per_vertical.coding``,
``labs.0.pricing.levels.1``); ``__`` is read as ``.`` so that keyword arguments (``mesa.batch_run``,
SolaraViz) can carry them, and ``*`` stands for any list element.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from market.config.schema import ConfigError, MarketConfig


_KIND_NAMES = {"bool": "a boolean (true or false)", "int": "an integer", "float": "a number", "str": "text",
               "choice": "a choice", "model": "a group of fields", "list": "a list", "tuple": "a list",
               "dict": "a table of entries"}


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(the type, its constraint metadata) with ``Optional[...]`` and ``Annotated[...]`` removed."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    if origin is typing.Literal:
        return "choice"
    if origin in (list, tuple, dict):
        return origin.__name__
    if annotation in (bool, int, float, str):
        return annotation.__name__
    return "other"


def _bounds(metadata: list[Any]) -> dict[str, float]:
    """``ge``/``gt``/``le``/``lt`` found in pydantic constraint metadata (FieldInfo or annotated_types)."""
    out: dict[str, float] = {}
    for m in metadata:
        inner = getattr(m, "metadata", None)
        if isinstance(inner, list):
            out.update(_bounds(inner))
        for attr in ("ge", "gt", "le", "lt"):
            if getattr(m, attr, None) is not None:
                out[attr] = getattr(m, attr)
    return out


def _item(annotation: Any) -> Any:
    """The element annotation of a list, tuple or dict annotation (a dict's values)."""
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return args[-1] if args else Any


@dataclass(frozen=True)
class Slot:
    """What one dotted path of the schema holds.

    Attributes:
        path: the path as given, ``__`` read as ``.`` (``labs.0.pricing.levels.1``).
        annotation: its type, ``Optional``/``Annotated`` removed (``float``, ``LabConfig``, ``list[...]``).
        kind: bool | int | float | str | choice | model | list | tuple | dict | other.
        bounds: ``ge``/``gt``/``le``/``lt`` that apply (the field's, or its elements' for an element).
        model, name: the pydantic model and field name the path ends in (for an element: its field's).
    """

    path: str
    annotation: Any
    kind: str
    bounds: dict[str, float]
    model: type[BaseModel]
    name: str

    @property
    def info(self):
        """The pydantic FieldInfo of the field the path ends in."""
        return self.model.model_fields[self.name]

    def range_text(self) -> str | None:
        """The bounds in interval notation (``(0, 50]``), or None without bounds."""
        b = self.bounds
        if not b:
            return None
        lo = f"[{b['ge']:g}" if "ge" in b else f"({b['gt']:g}" if "gt" in b else "(-inf"
        hi = f"{b['le']:g}]" if "le" in b else f"{b['lt']:g})" if "lt" in b else "inf)"
        return f"{lo}, {hi}"


def split_key(key: str) -> list[str]:
    """A dotted override key (``__`` works as ``.``) as its parts.

    Raises:
        ConfigError: an empty key or an empty part (``world.``, ``labs..skill``), naming the key.
    """
    parts = key.strip().replace("__", ".").split(".")
    if not key.strip():
        raise ConfigError("'': empty key; allowed: field names joined by dots, e.g. world.rounds")
    if any(not p for p in parts):
        raise ConfigError(f"{key!r}: empty part in a dotted key; allowed: field names joined by dots, e.g. "
                          f"world.rounds")
    return parts


def resolve(key: str | list[str], root: type[BaseModel] | None = None) -> Slot:
    """What the dotted path ``key`` names in the schema: a field (``world.rounds``), a list element by index or
    ``*`` (``labs.0.skill``, ``labs.*.skill``), a dict entry (``wrappers.per_vertical.coding``) or an element of
    a list of numbers (``labs.0.pricing.levels.1``).

    Raises:
        ConfigError: unknown key (naming the allowed ones), a non-index into a list, a step into a value that
            has no parts (``world.rounds.x``), naming the path.
    """
    parts = split_key(key) if isinstance(key, str) else list(key)
    model: type[BaseModel] = root or MarketConfig
    annotation, kind, bounds, name = model, "model", {}, ""
    for i, part in enumerate(parts):
        where, above = ".".join(parts[: i + 1]), ".".join(parts[:i])
        if kind == "model":
            fields = annotation.model_fields
            if part not in fields:
                raise ConfigError(f"{where}: unknown key; allowed: {', '.join(fields)}")
            model, name = annotation, part
            annotation, meta = _unwrap(fields[part].annotation)
            bounds = _bounds([*fields[part].metadata, *meta])
        elif kind in ("list", "tuple"):
            if part != "*" and not part.isdigit():
                raise ConfigError(f"{where}: expected a list index (0, 1, …) after {above}, got {part!r}")
            annotation, meta = _unwrap(_item(annotation))
            bounds = _bounds(meta)
        elif kind == "dict":
            annotation, meta = _unwrap(_item(annotation))
            bounds = _bounds(meta)
        else:
            raise ConfigError(f"{where}: {above} is {_KIND_NAMES.get(kind, 'a value')}, not a group of fields")
        kind = _kind(annotation)
    return Slot(".".join(parts), annotation, kind, bounds, model, name)


@dataclass(frozen=True)
class FieldSpec:
    """One leaf field of the schema, found by :func:`schema_fields`.

    Attributes:
        path: collapsed path, ``[]`` marking list elements (``labs[].pricing.levels``).
        model, name: the pydantic model and field name.
        annotation, kind, bounds: as in :class:`Slot` (bounds of the field itself).
    """

    path: str
    model: type[BaseModel]
    name: str
    annotation: Any
    kind: str
    bounds: dict[str, float]

    @property
    def lower(self) -> float | None:
        """The lower bound (``ge`` or ``gt``), or None."""
        return self.bounds.get("ge", self.bounds.get("gt"))

    @property
    def upper(self) -> float | None:
        """The upper bound (``le`` or ``lt``), or None."""
        return self.bounds.get("le", self.bounds.get("lt"))


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the pydantic model a field holds, whether it holds a list of them)."""
    annotation, _ = _unwrap(annotation)
    if _kind(annotation) == "model":
        return annotation, False
    if _kind(annotation) == "list":
        inner, _ = _unwrap(_item(annotation))
        if _kind(inner) == "model":
            return inner, True
    return None, False


def schema_fields(model: type[BaseModel] | None = None, prefix: str = "") -> list[FieldSpec]:
    """Every leaf field of the schema in schema order: sub-models walked into (``world.rounds``), lists of
    sub-models marked ``[]`` (``labs[].skill``)."""
    model = model or MarketConfig
    out = []
    for name, info in model.model_fields.items():
        sub, is_list = _submodel(info.annotation)
        if sub is None:
            annotation, meta = _unwrap(info.annotation)
            out.append(FieldSpec(prefix + name, model, name, annotation, _kind(annotation),
                                 _bounds([*info.metadata, *meta])))
        else:
            out.extend(schema_fields(sub, f"{prefix}{name}{'[]' if is_list else ''}."))
    return out


def leaf_values(obj: BaseModel, path: str = "", field: str = "") -> list[tuple[str, str, Any]]:
    """(path, collapsed path, value) of every leaf value of a config instance, list elements by index, in the
    order of :func:`schema_fields`."""
    out = []
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        sub, is_list = _submodel(info.annotation)
        if sub is None:
            out.append((path + name, field + name, value))
        elif is_list:
            for i, element in enumerate(value):
                out.extend(leaf_values(element, f"{path}{name}.{i}.", f"{field}{name}[]."))
        else:
            out.extend(leaf_values(value, f"{path}{name}.", f"{field}{name}."))
    return out


@functools.cache
def schema_names() -> frozenset[str]:
    """Every field name of the schema (sub-models' included) and every value of its choice fields."""
    names: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            names.add(name)
            sub, _ = _submodel(info.annotation)
            if sub is not None:
                walk(sub)
            annotation, _ = _unwrap(info.annotation)
            if _kind(annotation) == "choice":
                names.update(str(a) for a in typing.get_args(annotation))

    walk(MarketConfig)
    return frozenset(names)


def field_meta(model: type[BaseModel], name: str) -> dict[str, Any]:
    """Unit, source, ``allowed`` (a validator's constraint in words, or None), description, default and bounds of
    one field (for docs, sliders and the schema file)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra or {}
    bounds = _bounds(info.metadata)
    return {"unit": extra.get("unit"), "source": extra.get("source"), "allowed": extra.get("allowed"),
            "description": info.description, "default": info.default, **bounds}
