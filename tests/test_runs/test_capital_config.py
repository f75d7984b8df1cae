"""The config sections of issue 13 (gpu_market, learning, open_weights, capital): bad values exit 2 naming the
field, the value and what is allowed, before any work; DERIVED defaults recompute from their rows."""

import pytest

from market import calibration as cal
from market.config import GpuMarketConfig, build_config
from market.costs import HOURS_PER_MONTH
from runs.commands.main import main


@pytest.mark.parametrize("setting, fragment", [
    ("gpu_market.supply_share=2", "gpu_market.supply_share: Input should be less than or equal to 1 (allowed: (0, 1]); got 2"),
    ("gpu_market.reference_rent_usd_per_hour=0.1", "gpu_market.reference_rent_usd_per_hour: 0.1 must lie between"),
    ("gpu_market.life_months=3", "gpu_market.life_months: Input should be greater than or equal to 12"),
    ("learning.progress_ratio=1", "learning.progress_ratio: Input should be less than 1 (allowed: (0.5, 1))"),
    ("learning.cache_miss_floor=0.5", "learning.cache_miss_floor"),
    ("open_weights.distill_cost_usd=-1", "open_weights.distill_cost_usd: Input should be greater than or equal to 0"),
    ("capital.appetites=[0.5, 1.5]", "capital.appetites: [0.5, 1.5]; allowed: a non-empty list of numbers in [0, 1]"),
    ("capital.fire_sale_discount=1.2", "capital.fire_sale_discount: Input should be less than or equal to 1 (allowed: [0, 1])"),
    ("capital.long_run_growth_per_year=0.1", "capital.long_run_growth_per_year: 0.1 must be below the lowest cost of capital"),
])
def test_bad_capital_and_gpu_market_values_exit_2_naming_the_field(capsys, setting, fragment):
    assert main(["params", "--set", setting]) == 2
    assert fragment in capsys.readouterr().err


def test_defaults_validate_and_appetites_take_a_list():
    cfg = build_config(None, {"capital.appetites": "[0.0, 1.0]"})
    assert cfg.capital.appetites == (0.0, 1.0)


def test_opex_default_recomputes_from_the_at_cost_estimate():
    # DERIVED: 20 % running cost on a three-year payback of the all-in capex.
    derived = 0.2 * cal.value("h100_allin_cluster_capex_per_gpu_usd") / (36 * HOURS_PER_MONTH)
    assert GpuMarketConfig().opex_usd_per_gpu_hour == pytest.approx(derived, abs=0.005)
