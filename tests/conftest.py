"""Shared fixtures: small, fast configurations (the 1M-customer default is for users and benchmarks)."""

from __future__ import annotations

import pytest

from market.config import build_config

SMALL = {"customers.n_customers": 3000, "world.rounds": 12}


def small_config(**overrides):
    """A small baseline config (3,000 customers, 12 rounds) with dotted ``overrides`` (use ``__`` for dots)."""
    return build_config({}, {**SMALL, **{k.replace("__", "."): v for k, v in overrides.items()}})


@pytest.fixture
def small():
    """Factory for small configs."""
    return small_config
