"""A run can be reproduced from its manifest alone: ``tokenmarket run --from-manifest`` rewrites the same CSVs
byte for byte, for every shipped scenario (issue 15, defect 2)."""

from __future__ import annotations

import json

import pytest

from market.config import list_scenarios
from market.scenario import config_from
from runs.commands.main import main

SMALL = ["--set", "customers.n_customers=5000", "--rounds", "3", "--quiet"]
OUTPUTS = ("model.csv", "agents.csv", "events.csv", "outcomes.json")


def test_manifest_keeps_the_config_order_the_model_reads(tmp_path):
    out = tmp_path / "r"
    assert main(["run", *SMALL, "--out", str(out)]) == 0
    written = json.loads((out / "manifest.json").read_text())["config"]
    config = config_from("baseline", {"customers.n_customers": 5000, "world.rounds": 3}).model_dump(mode="json")
    assert list(written["wrappers"]["per_vertical"]) == list(config["wrappers"]["per_vertical"])
    for i, segment in enumerate(config["customers"]["segments"]):
        assert list(written["customers"]["segments"][i]["vertical_mix"]) == list(segment["vertical_mix"])
    assert json.dumps(written) == json.dumps(config)  # every key, at every level, in the schema's order


@pytest.mark.parametrize("scenario", list(list_scenarios()))
def test_from_manifest_reproduces_every_csv_byte_for_byte(tmp_path, scenario):
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", "--scenario", scenario, *SMALL, "--seed", "4", "--customers", "30", "--out", str(first)]) == 0
    assert main(["run", "--from-manifest", str(first / "manifest.json"), "--quiet", "--out", str(again)]) == 0
    for name in (*OUTPUTS, "customers.csv"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    replayed = json.loads((again / "manifest.json").read_text())
    assert replayed["config"] == json.loads((first / "manifest.json").read_text())["config"]
    assert replayed["from_manifest"].endswith("manifest.json")


@pytest.mark.parametrize("extra, words", [
    (["--seed", "3"], ["--from-manifest", "--seed"]),
    (["--set", "world.rounds=2"], ["--from-manifest", "--set"]),
    (["--scenario", "baseline"], ["--from-manifest", "--scenario"]),
    (["--rounds", "2"], ["--from-manifest", "--rounds"]),
])
def test_from_manifest_refuses_settings_that_would_change_the_run(tmp_path, capsys, extra, words):
    first = tmp_path / "first"
    assert main(["run", *SMALL, "--out", str(first)]) == 0
    capsys.readouterr()
    assert main(["run", "--from-manifest", str(first / "manifest.json"), *extra, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("content, words", [
    ("not json", ["manifest", "not JSON"]),
    ('{"kind": "tokenmarket sweep"}', ["sweep manifest", "run manifest"]),
    ('{"run_id": "x", "seed": 1}', ["config", "missing"]),
    ('{"run_id": "x", "seed": "1", "config": {}}', ["seed", "'1'"]),
    ('{"run_id": "x", "seed": 1, "config": {"world": {"rounds": "3"}}}', ["world.rounds", "'3'"]),
    ("[" * 100000, ["manifest", "nested"]),
])
def test_bad_manifests_exit_2_naming_what_is_wrong(tmp_path, capsys, content, words):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    assert main(["run", "--from-manifest", str(path), "--quiet", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
