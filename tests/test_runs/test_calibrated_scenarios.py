"""The shipped scenarios stand on the calibrated market: the calibrated layer (market/data/calibrated.toml) puts
the estimates of runs/calibration/parameters.toml, with their source, under the baseline and every other shipped
scenario alike, so that a pair differs only in its stated condition (runs/compare/pairs.py); `params` says which
values came from the layer, a run's manifest records it, and applying a calibration rewrites it alone."""

import hashlib
import json
from pathlib import Path

import pytest

import market.calibrated as layer_module
from market.config import list_scenarios
from market.scenario import config_from
from runs.calibration.parameters import load_parameters
from runs.commands.main import main
from runs.reports.params import parameter_rows

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--set", "customers.n_customers=500", "--rounds", "2", "--quiet"]

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
        assert row.kind == "estimated" and row.origin == "calibrated", (p.path, row.kind, row.origin, row.source)
        assert row.source.startswith("estimated by tokenmarket calibrate against runs/calibration/targets.toml")
        assert p.lo <= _value(base, p.path) <= p.hi


def test_params_names_the_layer_or_the_file_as_who_set_an_estimated_value(tmp_path):
    own = tmp_path / "own.toml"
    own.write_text("[world]\nusage_growth_per_year = 1.0  # assumption: a slower world\n")
    row = {r.path: r for r in parameter_rows(own)}["world.usage_growth_per_year"]
    assert (row.value, row.origin, row.kind) == (1.0, "scenario", "scenario")
    off = tmp_path / "off.toml"
    off.write_text("calibrated = false\n")
    row = {r.path: r for r in parameter_rows(off)}["world.usage_growth_per_year"]
    assert (row.value, row.origin) == (0.5, "schema")


def test_the_shipped_layer_is_what_apply_makes_of_the_shipped_calibration(tmp_path, monkeypatch):
    from runs.calibration.apply import main as apply_main, shipped_layer

    monkeypatch.chdir(REPO)
    layer = tmp_path / "calibrated.toml"
    commit = layer_module.read_layer().record.commit
    assert apply_main(["runs/calibration/results", "--layer", str(layer), "--date", "2026-12-08",
                       "--commit", commit]) == 0
    assert layer.read_bytes() == shipped_layer().read_bytes()


def _layer_with(text: str, path: str, value: str) -> str:
    """The layer file's text with the estimate of ``path`` set to ``value``, whatever the shipped estimate is (a
    recalibration rewrites the values). Raises ValueError if the layer has no estimate of ``path``."""
    key = f'path = "{path}"\nvalue = '
    start = text.index(key) + len(key)
    return text[:start] + value + text[text.index("\n", start):]


def test_a_run_manifest_records_the_layer_and_replays_without_it(tmp_path, monkeypatch):
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", *SMALL, "--out", str(first)]) == 0
    record = json.loads((first / "manifest.json").read_text())["calibrated_layer"]
    from runs.calibration.apply import shipped_layer

    assert record["file"] == "market/data/calibrated.toml"
    assert record["sha256"] == hashlib.sha256(shipped_layer().read_bytes()).hexdigest()
    assert sorted(record["applied"]) == sorted(p.path for p in load_parameters(None, {}).parameters)
    # another layer in place: the manifest's config alone fixes the run
    other = tmp_path / "other.toml"
    other.write_text(_layer_with(shipped_layer().read_text(), "world.usage_growth_per_year", "0.9"))
    monkeypatch.setattr(layer_module, "layer_path", other)
    assert config_from("baseline", {}).world.usage_growth_per_year == 0.9
    assert main(["run", "--from-manifest", str(first / "manifest.json"), "--quiet", "--out", str(again)]) == 0
    for name in ("model.csv", "agents.csv", "events.csv"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    assert json.loads((again / "manifest.json").read_text())["calibrated_layer"] == record


def test_an_opted_out_run_records_no_layer(tmp_path):
    off = tmp_path / "off.toml"
    off.write_text("calibrated = false\n")
    assert main(["run", "--scenario", str(off), *SMALL, "--out", str(tmp_path / "r")]) == 0
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["calibrated_layer"] is None


def test_a_bad_layer_exits_2_naming_field_value_and_range_before_any_output(tmp_path, monkeypatch, capsys):
    from runs.calibration.apply import shipped_layer

    bad = tmp_path / "calibrated.toml"
    bad.write_text(_layer_with(shipped_layer().read_text(), "customers.nest_lambda_api", "1.5"))
    monkeypatch.setattr(layer_module, "layer_path", bad)
    assert main(["run", *SMALL, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in ("calibrated layer", "customers.nest_lambda_api", "1.5", "(0.01, 1]")), err
    assert not (tmp_path / "r").exists()
    assert main(["params", "--scenario", "commodity_pipe"]) == 2


def test_calibrate_apply_takes_only_the_folder(tmp_path, capsys):
    assert main(["calibrate", "--apply", str(tmp_path / "none"), "--trials", "3"]) == 2
    assert "--apply: takes only the folder" in capsys.readouterr().err
    assert main(["calibrate", "--layer", str(tmp_path / "x.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "--layer: only with --apply" in capsys.readouterr().err
    assert main(["calibrate", "--apply", str(tmp_path / "none"), "--layer", str(tmp_path / "x.toml")]) == 2
    assert "no finished calibration" in capsys.readouterr().err and not (tmp_path / "x.toml").exists()
