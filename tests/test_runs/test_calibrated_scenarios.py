"""The shipped scenarios stand on the calibrated market: the baseline carries the estimates of
runs/calibration/parameters.toml with their source, and every other shipped scenario the same values, so that a
pair differs only in its stated condition (runs/compare/pairs.py)."""

import pytest

from market.config import config_from, list_scenarios
from runs.calibration.parameters import load_parameters
from runs.reports.params import parameter_rows

PARAMS = load_parameters(None, {}).parameters


def _value(config, path):
    node = config
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node


@pytest.mark.parametrize("scenario", [s for s in list_scenarios() if s != "baseline"])
def test_every_shipped_scenario_holds_the_baselines_estimates(scenario):
    base, other = config_from("baseline", {}), config_from(scenario, {})
    differ = [(p.path, _value(base, p.path), _value(other, p.path)) for p in PARAMS
              if _value(base, p.path) != _value(other, p.path)]
    assert not differ, f"{scenario} does not stand on the baseline's estimates: {differ}"


def test_the_baselines_estimates_are_sourced_as_estimated_and_inside_their_priors():
    rows = {r.path: r for r in parameter_rows("baseline")}
    base = config_from("baseline", {})
    for p in PARAMS:
        row = rows[p.path]
        assert row.kind == "estimated", (p.path, row.kind, row.source)
        assert row.source.startswith("estimated by tokenmarket calibrate against runs/calibration/targets.toml")
        assert p.lo <= _value(base, p.path) <= p.hi
