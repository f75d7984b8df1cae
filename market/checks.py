"""Argument checks shared by the pure mechanisms (GPU market, learning, open weights, capital, exit): one message
format that names the argument, the value given and the range allowed."""

from __future__ import annotations

import math


def check(name: str, value: float, lo: float | None = 0.0, strict: bool = False) -> float:
    """``value`` as a float if it is finite and ≥ ``lo`` (> ``lo`` when ``strict``; no bound when ``lo`` is None).

    Raises:
        ValueError: naming ``name``, the value and the allowed range.
    """
    v = float(value)
    if not math.isfinite(v) or (lo is not None and (v <= lo if strict else v < lo)):
        bound = "" if lo is None else f" and {'>' if strict else '>='} {lo}"
        raise ValueError(f"{name}={value!r} out of range: must be finite{bound}")
    return v


def check_share(name: str, value: float) -> float:
    """``value`` as a float if it lies in [0, 1]. Raises ValueError naming ``name`` otherwise."""
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name}={value!r} out of range: must be in [0, 1]")
    return v
