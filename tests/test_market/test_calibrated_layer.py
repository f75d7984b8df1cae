"""The calibrated layer (market/calibrated.py, market/data/calibrated.toml): schema defaults → layer → the
scenario file's own values → overrides, for the shipped scenarios and a user's own file alike."""

from __future__ import annotations

import textwrap

import pytest

from market.calibrated import apply_layer, parse_layer, read_layer
from market.config import ConfigError, build_config, shipped_scenarios
from market.scenario import config_from, load_scenario, read_scenario

LAYER = read_layer()


def _value(config, path):
    node = config
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node


def _write(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("scenario", list(shipped_scenarios()))
def test_every_shipped_scenario_resolves_as_its_file_with_the_estimates_written_in(scenario):
    # What runs/calibration/apply.py did before the layer: the file's own values, then the estimates set at the
    # calibration's paths. The layer must give exactly that config (every path, every key order).
    old_way = build_config(load_scenario(scenario, calibrated=False), LAYER.values()).model_dump(mode="json")
    assert config_from(scenario, {}).model_dump(mode="json") == old_way


@pytest.mark.parametrize("scenario", list(shipped_scenarios()))
def test_shipped_scenario_files_state_only_their_conditions(scenario):
    text = shipped_scenarios()[scenario].read_text(encoding="utf-8")
    assert "# estimated by tokenmarket calibrate" not in text   # no value carries an estimate's source
    raw, wanted = read_scenario(scenario)
    assert wanted
    # every estimate reaches the scenario from the layer: the file sets none of them itself
    assert len(apply_layer(raw, LAYER)[1]) == len(LAYER.estimates)


def test_the_shipped_layer_has_ten_estimates_each_moved_from_its_default_and_inside_its_prior():
    assert len(LAYER.estimates) == 10
    for e in LAYER.estimates:
        assert e.default is not None and e.value != e.default, e.path
        assert e.prior[0] <= e.value <= e.prior[1], e.path
        assert e.default == _value(build_config({}), e.path), e.path   # the default it records is the schema's


def test_a_value_the_scenario_file_sets_wins_over_the_layer(tmp_path):
    path = _write(tmp_path, """
        [world]
        usage_growth_per_year = 1.0
        [customers]
        brand_imitation = 0.4
        """)
    config = config_from(path, {})
    assert config.world.usage_growth_per_year == 1.0 and config.customers.brand_imitation == 0.4
    others = [e for e in LAYER.estimates if e.path not in ("world.usage_growth_per_year", "customers.brand_imitation")]
    assert others and all(_value(config, e.path) == e.value for e in others)
    assert config_from(path, {"world.usage_growth_per_year": "3"}).world.usage_growth_per_year == 3.0  # --set last


def test_a_users_file_outside_the_package_stands_on_the_layer(tmp_path):
    path = _write(tmp_path, """
        [moves]
        allow_acquisitions = false
        """)
    config = config_from(path, {})
    assert not config.moves.allow_acquisitions
    assert all(_value(config, e.path) == e.value for e in LAYER.estimates)


def test_calibrated_false_gives_the_schema_defaults(tmp_path):
    path = _write(tmp_path, """
        calibrated = false
        [moves]
        allow_acquisitions = false
        """)
    config = config_from(path, {}).model_dump(mode="json")
    bare = build_config({"name": "mine", "moves": {"allow_acquisitions": False}}).model_dump(mode="json")
    assert config == bare
    for e in LAYER.estimates:
        assert _value(config_from(path, {}), e.path) == e.default
    # the caller can force either way (the calibration estimates without the layer)
    assert config_from("baseline", {}, calibrated=False).world.usage_growth_per_year == build_config({}).world.usage_growth_per_year
    assert config_from(path, {}, calibrated=True).world.usage_growth_per_year == LAYER.values()["world.usage_growth_per_year"]


@pytest.mark.parametrize("flag", ['"no"', "0", "[true]"])
def test_calibrated_must_be_true_or_false(tmp_path, flag):
    path = _write(tmp_path, f"calibrated = {flag}\n")
    with pytest.raises(ConfigError, match=r"calibrated: expected true or false, got .*allowed: true"):
        config_from(path, {})


def test_segment_estimates_follow_the_segments_name_not_its_position(tmp_path):
    path = _write(tmp_path, """
        [[customers.segments]]
        name = "hobbyist"
        share = 0.5
        vertical_mix = { writing = 1.0 }
        wtp_median_usd_per_month = 7.0
        usage_median_mtok = 0.2
        price_scale_usd = 3.0
        switching_cost_usd = 10.0

        [[customers.segments]]
        name = "consumer"
        share = 0.5
        vertical_mix = { general_chat = 1.0 }
        switching_cost_usd = 10.0
        """)
    hobbyist, consumer = config_from(path, {}).customers.segments
    est = LAYER.values()
    assert consumer.usage_median_mtok == est["customers.segments.0.usage_median_mtok"]
    assert consumer.price_scale_usd == est["customers.segments.0.price_scale_usd"]
    assert consumer.wtp_median_usd_per_month == est["customers.segments.0.wtp_median_usd_per_month"]
    assert (hobbyist.wtp_median_usd_per_month, hobbyist.usage_median_mtok, hobbyist.price_scale_usd) == (7.0, 0.2, 3.0)


def test_a_restated_segment_takes_omitted_required_fields_from_below_and_nothing_else(tmp_path):
    path = _write(tmp_path, """
        calibrated = false
        [[customers.segments]]
        name = "developer"
        share = 1.0
        vertical_mix = { coding = 1.0 }
        switching_cost_usd = 5.0
        """)
    (developer,) = config_from(path, {}).customers.segments
    schema = build_config({}).customers.segments[1]
    assert (developer.wtp_median_usd_per_month, developer.usage_median_mtok, developer.price_scale_usd) == \
        (schema.wtp_median_usd_per_month, schema.usage_median_mtok, schema.price_scale_usd)
    # a field with a default of its own keeps that default, not the default list's value
    assert developer.quality_exponent == 1.5 and schema.quality_exponent == 2.0
    assert not developer.api_capable


# ------------------------------------------------------------------------------------------ bad layers

RECORD = """
[calibration]
targets = "runs/calibration/targets.toml"
objective = 4.9
trial = 18
trials = 90
within = 22
n_targets = 62
seeds = 2
customers = 20000
date = "2026-12-08"
commit = "59c781c"
"""


def _estimate(path="customers.segments.0.usage_median_mtok", value="0.33", extra='item = "consumer"'):
    return f'\n[[estimate]]\npath = "{path}"\nvalue = {value}\n{extra}\n'


@pytest.mark.parametrize("text, words", [
    (RECORD + _estimate(value="-1.0"),
     ["estimate 1", "customers.segments.0.usage_median_mtok", "greater than 0", "(0, 1e+06]", "-1.0"]),
    (RECORD + _estimate("customers.nest_lambda_api", "1.5", ""),
     ["customers.nest_lambda_api", "(0.01, 1]", "1.5"]),
    (RECORD + _estimate(extra='item = "developer"'), ["item", "'developer'", "allowed: 'consumer'"]),
    (RECORD + _estimate(extra=""), ["item", "None", "allowed: 'consumer'"]),
    (RECORD + _estimate("world.bogus", "1", ""), ["world.bogus", "unknown key"]),
    (RECORD + _estimate("world.scale_economies", "1", ""), ["world.scale_economies", "bool field", "numeric"]),
    (RECORD + _estimate(value='"x"'), ["value", "expected a finite number", "'x'"]),
    (RECORD + _estimate(extra='item = "consumer"\nbogus = 1'), ["bogus", "unknown field"]),
    (RECORD + _estimate() + _estimate(), ["customers.segments.0.usage_median_mtok", "estimated twice"]),
    (_estimate(), ["[calibration]", "missing"]),
    (RECORD.replace('date = "2026-12-08"\n', ""), ["calibration.date", "missing"]),
    (RECORD.replace("trial = 18", 'trial = "18"'), ["calibration.trial", "integer", "'18'"]),
    ("[calibration\n", ["bad TOML"]),
])
def test_a_bad_layer_is_refused_naming_the_field_the_value_and_what_is_allowed(text, words):
    with pytest.raises(ConfigError) as err:
        parse_layer(text, "bad.toml")
    message = str(err.value)
    assert message.startswith("calibrated layer bad.toml: ")
    assert all(w in message for w in words), message


def test_a_bad_layer_stops_every_scenario_load(tmp_path, monkeypatch):
    import market.calibrated as layer_module

    bad = tmp_path / "calibrated.toml"
    bad.write_text(RECORD + _estimate(value="-1.0"))
    monkeypatch.setattr(layer_module, "layer_path", bad)
    with pytest.raises(ConfigError, match="usage_median_mtok"):
        config_from("baseline", {})
    opted_out = _write(tmp_path, "calibrated = false\n")
    assert config_from(opted_out, {}).world.usage_growth_per_year == build_config({}).world.usage_growth_per_year
