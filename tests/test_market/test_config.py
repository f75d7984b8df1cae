"""Config schema: defaults point at sources, bad input names field, value and range."""

import pytest

from market import calibration
from market.config import (ConfigError, GpuMarketConfig, LabConfig, MarketConfig, build_config, field_meta,
                           list_scenarios)
from market.scenario import config_from


def _all_fields(model, seen=None):
    for name, info in model.model_fields.items():
        yield model, name, info
        ann = info.annotation
        for sub in (ann, *getattr(ann, "__args__", ())):
            if isinstance(sub, type) and hasattr(sub, "model_fields"):
                yield from _all_fields(sub)


def test_every_numeric_default_has_unit_and_source():
    for model, name, info in _all_fields(MarketConfig):
        extra = info.json_schema_extra
        if extra is None:
            continue
        assert extra.get("unit"), f"{model.__name__}.{name} has no unit"
        source = extra.get("source", "")
        assert source, f"{model.__name__}.{name} has no source"


def test_calibration_keys_named_in_sources_exist():
    keys = set(calibration.keys())
    for model, name, info in _all_fields(MarketConfig):
        src = (info.json_schema_extra or {}).get("source", "")
        for word in src.replace("(", " ").replace(")", " ").replace(",", " ").split():
            if word.endswith(("_usd", "_pct", "_derived", "_estimate", "_hour", "_month")) and "_" in word and word.islower():
                assert word in keys, f"{model.__name__}.{name}: source {word!r} is not a calibration key"


def test_defaults_match_calibration_table():
    rent = field_meta(GpuMarketConfig, "reference_rent_usd_per_hour")["default"]
    assert rent == calibration.value("h100_rental_oct_2024_ondemand_usd_per_hour")
    ceiling = field_meta(GpuMarketConfig, "rent_ceiling_usd_per_hour")["default"]
    assert ceiling == calibration.value("aws_p5_ondemand_usd_per_gpu_hour_2023")
    capex = field_meta(GpuMarketConfig, "capex_usd_per_gpu")["default"]
    assert capex == calibration.value("h100_allin_cluster_capex_per_gpu_usd")
    # GPT-4o and GPT-4o mini blended at DeepSeek's 608:168 mix; the small tier's size is their price ratio (DERIVED).
    mix = 608 / 776
    blend = lambda key: mix * calibration.value(f"{key}_input_usd_per_m") + (1 - mix) * calibration.value(f"{key}_output_usd_per_m")  # noqa: E731
    frontier, small = LabConfig(name="x").tiers
    assert blend("price_gpt4o_2024_08") == pytest.approx(frontier.price_usd_per_mtok, abs=0.01)
    assert blend("price_gpt4o_mini") == pytest.approx(small.price_usd_per_mtok, abs=0.001)
    assert blend("price_gpt4o_mini") / blend("price_gpt4o_2024_08") == pytest.approx(small.size_factor, abs=0.002)


@pytest.mark.parametrize("overrides, fragment", [
    ({"gpu_market.capex_usd_per_gpu": -1}, "gpu_market.capex_usd_per_gpu: Input should be greater than 0 (allowed: (0, 1e+06]); got -1"),
    ({"world.gpu_price_change_per_year": 0.1}, "world.gpu_price_change_per_year: unknown key"),
    ({"finance.investor_appetite": 0.5}, "finance.investor_appetite: unknown key"),
    ({"world.nonsense": 1}, "world.nonsense: unknown key"),
    ({"customers.n_customers": "many"}, "customers.n_customers"),
    ({"labs.9.skill": 2}, "labs.9: no such list element"),
    ({"world.rounds": 0}, "allowed: [1, 1200]"),
])
def test_bad_values_name_field_value_and_range(overrides, fragment):
    with pytest.raises(ConfigError) as err:
        build_config({}, overrides)
    assert fragment in str(err.value)


def test_overrides_parse_toml_scalars_and_double_underscore():
    cfg = build_config({}, {"gpu_market__supply_share": "0.5", "world.scale_economies": "false", "labs.0.skill": 2})
    assert cfg.gpu_market.supply_share == 0.5 and cfg.world.scale_economies is False
    assert cfg.labs[0].skill == 2


def test_scenarios_load_and_unknown_scenario_fails():
    assert "baseline" in list_scenarios()
    for name in list_scenarios():
        config_from(name)
    with pytest.raises(ConfigError, match="unknown scenario 'nope'"):
        config_from("nope")


def test_segment_mix_must_sum_to_one():
    with pytest.raises(ConfigError, match="sum to 1"):
        build_config({}, {"customers.segments": [{"name": "a", "share": 1.0, "vertical_mix": {"coding": 0.5},
                                                  "wtp_median_usd_per_month": 1, "usage_median_mtok": 1,
                                                  "price_scale_usd": 1, "switching_cost_usd": 1}]})


@pytest.mark.parametrize("overrides, message", [
    ({"providers.n": 13}, "providers.n: 13 providers exceed max_n = 12; allowed: n ≤ max_n"),
    ({"wrappers.per_vertical.coding": 7}, "wrappers.per_vertical.coding: 7 wrappers exceed max_per_vertical = 6"),
    ({"customers.market_size": 1}, "customers.market_size: 1 is below n_customers = 1000000"),
    ({"labs.0.name": "provider_1"}, "labs.0.name: 'provider_1' is a provider's or wrapper's name"),
    ({"labs.1.name": "coding_wrapper_2"}, "labs.1.name: 'coding_wrapper_2'"),
    ({"name": "../../etc"}, "name: String should match pattern"),
    ({"name": "a/b"}, "got 'a/b'"),
])
def test_cross_field_and_name_rules(overrides, message):
    with pytest.raises(ConfigError) as err:
        config_from(None, overrides)
    assert message in str(err.value)
    assert "Value error" not in str(err.value) and "<root>" not in str(err.value)


@pytest.mark.parametrize("content, fragment", [
    (b"\xff\xfe[world]", "is not UTF-8 text"),
    (None, "is a folder, not a TOML file"),
])
def test_unreadable_scenario_files_are_config_errors(tmp_path, content, fragment):
    path = tmp_path / "s.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        config_from(str(path))
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_a_scenario_path_without_suffix_is_read_as_a_file(tmp_path):
    path = tmp_path / "myscen"
    path.write_text('name = "mine"\n[world]\nrounds = 7\n')
    assert config_from(str(path)).world.rounds == 7


def test_an_element_of_a_tuple_field_can_be_overridden_by_index():
    # Sweeps address one investor's appetite the way they address one lab's field (labs.0.skill).
    cfg = build_config({}, {"capital.appetites": [0.2, 0.9], "capital.appetites.1": 0.4})
    assert cfg.capital.appetites == (0.2, 0.4)
    with pytest.raises(ConfigError, match=r"capital\.appetites\.2: no such list element"):
        build_config({}, {"capital.appetites.2": 0.5})


# ------------------------------------------------------------------------------ strict, bounded, finite

def _numeric_fields():
    from market.config import schema_fields

    return [f for f in schema_fields() if f.kind in ("int", "float")]


def test_every_numeric_field_is_bounded_on_both_sides():
    unbounded = [f.path for f in _numeric_fields() if f.lower is None or f.upper is None]
    assert unbounded == []


def test_every_policy_parameter_is_bounded_and_finite():
    from market.config import PolicyConfig

    for name in PolicyConfig.model_fields:
        if name == "name":
            continue
        for bad in (float("nan"), float("inf"), -float("inf")):
            value = [bad] if name == "levels" else bad
            with pytest.raises(ConfigError, match=f"labs.0.pricing.{name}"):
                build_config({}, {f"labs.0.pricing.{name}": value})


@pytest.mark.parametrize("data, fragment", [
    ({"gpu_market": {"reference_rent_usd_per_hour": True}},
     "gpu_market.reference_rent_usd_per_hour: Input should be a valid number"),
    ({"world": {"rounds": "60"}}, "world.rounds: Input should be a valid integer"),
    ({"world": {"rounds": 60.0}}, "world.rounds: Input should be a valid integer"),
    ({"world": {"data_flywheel": "yes"}}, "world.data_flywheel: Input should be a valid boolean"),
    ({"world": {"data_flywheel": 1}}, "world.data_flywheel: Input should be a valid boolean"),
    ({"labs": [{"name": 7}]}, "labs.0.name: Input should be a valid string"),
    ({"labs": [{"name": "a", "pricing": {"levels": []}}]}, "labs.0.pricing.levels: "),
])
def test_types_are_strict(data, fragment):
    """What a TOML file or a manifest holds is taken with its type: no string, bool or float is coerced."""
    with pytest.raises(ConfigError) as err:
        build_config(data)
    assert fragment in str(err.value)


@pytest.mark.parametrize("overrides, fragment", [
    ({"gpu_market.reference_rent_usd_per_hour": "true"},
     "gpu_market.reference_rent_usd_per_hour: expected a number, got 'true'"),
    ({"world.rounds": "6.0"}, "world.rounds: expected an integer, got '6.0'"),
    ({"world.data_flywheel": "yes"}, "world.data_flywheel: expected a boolean (true or false), got 'yes'"),
    ({"world.rounds": "5\nworld.x = 1"}, "world.rounds: expected an integer"),
])
def test_override_text_is_parsed_for_its_field(overrides, fragment):
    with pytest.raises(ConfigError) as err:
        build_config({}, overrides)
    assert fragment in str(err.value)


def test_override_text_for_text_fields_is_taken_as_written():
    cfg = build_config({}, {"labs.0.name": "123", "labs.1.name": '"quoted"', "labs.2.funding": "efficient"})
    assert (cfg.labs[0].name, cfg.labs[1].name, cfg.labs[2].funding) == ("123", "quoted", "efficient")


def test_integers_are_numbers_for_float_fields():
    cfg = build_config({}, {"gpu_market.reference_rent_usd_per_hour": 3})
    assert cfg.gpu_market.reference_rent_usd_per_hour == 3.0


def test_a_market_needs_a_seller():
    with pytest.raises(ConfigError, match=r"labs, providers\.n: no seller"):
        build_config({"labs": []}, {"providers.n": 0})


def test_duplicate_lab_names_name_the_repeated_element():
    with pytest.raises(ConfigError, match=r"labs\.1\.name: 'a' repeats labs\.0\.name"):
        build_config({"labs": [{"name": "a"}, {"name": "a"}]})


def test_a_dumped_config_loads_back_as_json_and_python_data():
    """Manifests hold the config as JSON (tuples become lists): every field must take back what it dumps."""
    config = MarketConfig()
    assert build_config(config.model_dump(mode="json")) == config
    assert build_config(config.model_dump()) == config
