"""The estimator on a synthetic problem with a known answer: a cheap stub stands in for the model (injected as
tests inject a fake simulate function into runs.sweeps.executors.evaluate), its optimum is known, one parameter it
ignores must come out as a flat direction; resume and parallel executors give the same trials; the outputs
(draws, calibrated scenario, report) are usable."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from market.config import build_config
from market.scenario import load_scenario
from market.provenance import resolve_source
from market.simulate import RunResult
from runs.calibration.uncertainty import draw_overrides
from runs.calibration.estimate import make_plan, read_trials
from runs.calibration.run import calibrate
from runs.calibration.population import population_check
from runs.calibration.uncertainty import bootstrap
from runs.sweeps.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from runs.reports.params import parameter_rows

A, B, C = "customers.segments.0.price_scale_usd", "world.usage_growth_per_year", "customers.segments.0.switching_cost_usd"
TRUE_A, TRUE_B = 6.0, 10.0 / 6.0   # x = a must hit openai_arr_2024_friar (6); y = a·b must hit openai_arr_2025_06 (10)

TARGETS = """
[[series]]
name = "x"
table = "model"
column = "x"

[[series]]
name = "y"
table = "model"
column = "y"

[[target]]
name = "x_2024_12"
series = "x"
figure = "openai_arr_2024_friar"
date = "2024-12"
tolerance = 1.1
weight = 1.0
reason = "stub"

[[target]]
name = "y_2025_06"
series = "y"
figure = "openai_arr_2025_06"
date = "2025-06"
tolerance = 1.1
weight = 0.5
reason = "stub"
"""

PARAMS = f"""
[[parameter]]
path = "{A}"
lo = 1.0
hi = 25.0
scale = "log"
reason = "a: sets x"

[[parameter]]
path = "{B}"
lo = 0.1
hi = 4.0
reason = "b: sets y with a"

[[parameter]]
path = "{C}"
lo = 0.5
hi = 20.0
scale = "log"
reason = "c: the stub ignores it"
"""


def stub(task) -> RunResult:
    """x = a, y = a·b in every round, with 1 % seed noise (the same seeds for every trial: common random numbers)."""
    a, b = task.params.get(A, 5.0), task.params.get(B, 0.5)
    eps = 0.01 * np.random.default_rng(task.seed).normal()
    rounds = np.arange(1, (task.rounds or 12) + 1)
    model = pd.DataFrame({"round": rounds, "x": a * (1 + eps), "y": a * b * (1 - eps)})
    return RunResult(model, pd.DataFrame(columns=["round", "type", "name", "funding", "vertical"]), pd.DataFrame())


class Interrupt:
    """The stub, but Ctrl-C arrives when trial ``at`` starts (as a kill would leave the journal)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self, task) -> RunResult:
        if task.point == self.at:
            raise KeyboardInterrupt
        return stub(task)


def sized_stub(task) -> RunResult:
    """x = a·(1 + 1000/n): a moment that depends on the population size n in a known way."""
    n = task.base_config["customers"]["n_customers"]
    result = stub(task)
    result.model["x"] = task.params.get(A, 5.0) * (1 + 1000 / n)
    return result


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stub")
    (d / "targets.toml").write_text(TARGETS)
    (d / "params.toml").write_text(PARAMS)
    return d


def plan_for(files, trials=96, **kw):
    return make_plan(None, {}, targets=files / "targets.toml", params=files / "params.toml", customers=1000,
                     seeds=2, trials=trials, batch=4, draws=60, path_draws=2, **kw)


@pytest.fixture(scope="module")
def done(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "out"
    report = calibrate(out, plan_for(files), progress=False, simulate=stub)
    return out, report


def test_the_estimator_recovers_the_known_optimum(done):
    out, report = done
    best = json.loads((out / "best.json").read_text())
    assert report.status == "complete" and report.trials == 96
    # within the targets' own tolerance (×/÷ 1.1), with both moments at under half a tolerance on average
    assert best["parameters"][A] == pytest.approx(TRUE_A, rel=0.1)
    assert best["parameters"][B] == pytest.approx(TRUE_B, rel=0.1)
    assert best["objective"] < 0.25
    fit = pd.read_csv(out / "fit.csv")
    assert list(fit["verdict"]) == ["within", "within"]


def test_identification_flags_the_ignored_parameter_as_flat(done):
    out, _ = done
    ident = pd.read_csv(out / "identification.csv")
    params = ident[ident["section"] == "parameter"].set_index("parameter")
    assert bool(params.loc[C, "flat"]) and params.loc[C, "weighted"] == 0
    assert not params[params.index != C]["flat"].astype(bool).any()
    sing = ident[ident["section"] == "singular"]
    flat = sing[sing["flat"].astype(bool)]
    assert len(flat) == 1 and flat["detail"].iloc[0] == f"1.00·{C}"
    assert "x_2024_12" in params.loc[A, "detail"] and "y_2025_06 1.00" in params.loc[B, "detail"]


def test_every_trial_runs_on_the_same_seeds(done):
    out, _ = done
    moments = pd.read_csv(out / "moments.csv", dtype={"eval": str})
    seeds = moments.groupby("eval")["seed"].apply(lambda s: tuple(sorted(set(s))))
    assert seeds.nunique() == 1 and len(seeds.iloc[0]) == 2


def test_resume_gives_the_same_result_as_an_uninterrupted_run(files, tmp_path):
    plan = plan_for(files, trials=24)
    whole = calibrate(tmp_path / "whole", plan, progress=False, simulate=stub)
    with pytest.raises(KeyboardInterrupt):
        calibrate(tmp_path / "cut", plan, progress=False, simulate=Interrupt(at=10))
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["status"] == "interrupted"
    assert 0 < len(read_trials(tmp_path / "cut")) < 24
    resumed = calibrate(tmp_path / "cut", None, resume=True, progress=False, simulate=stub)
    pd.testing.assert_frame_equal(read_trials(tmp_path / "whole"), read_trials(tmp_path / "cut"))
    assert (whole.best_trial, whole.best_objective) == (resumed.best_trial, resumed.best_objective)
    for name in ("draws.csv", "fit.csv", "identification.csv", "calibrated.toml"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "cut" / name).read_bytes(), name


def test_local_processes_and_dask_give_the_same_trials_as_this_process(files, tmp_path):
    distributed = pytest.importorskip("distributed")
    import sys

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # Dask workers cannot import a test module
    plan = plan_for(files, trials=12)
    calibrate(tmp_path / "serial", plan, SerialExecutor(), progress=False, simulate=stub)
    calibrate(tmp_path / "pool", plan, ProcessExecutor(2), progress=False, simulate=stub)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        calibrate(tmp_path / "dask", plan, DaskExecutor(cluster.scheduler_address), progress=False, simulate=stub)
    for other in ("pool", "dask"):
        pd.testing.assert_frame_equal(read_trials(tmp_path / "serial"), read_trials(tmp_path / other))
        assert (tmp_path / "serial" / "draws.csv").read_bytes() == (tmp_path / other / "draws.csv").read_bytes()


def test_more_trials_on_resume_continue_the_search(files, tmp_path):
    calibrate(tmp_path / "c", plan_for(files, trials=8), progress=False, simulate=stub)
    calibrate(tmp_path / "c", None, resume=True, trials=12, progress=False, simulate=stub)
    assert list(read_trials(tmp_path / "c")["trial"]) == list(range(12))


def test_a_resume_with_a_different_plan_is_refused(files, tmp_path):
    from runs.calibration import CalibrationError

    calibrate(tmp_path / "c", plan_for(files, trials=4), progress=False, simulate=stub)
    other = make_plan(None, {}, targets=files / "targets.toml", params=files / "params.toml", customers=2000,
                      seeds=2, trials=4, batch=4, draws=60, path_draws=2)
    with pytest.raises(CalibrationError, match="--resume: the plan differs.*customers"):
        calibrate(tmp_path / "c", other, resume=True, progress=False, simulate=stub)


def test_draws_become_override_sets_that_validate(done):
    out, _ = done
    sets = draw_overrides(out / "draws.csv")
    assert len(sets) == 60 and all(set(s) == {A, B, C} for s in sets)
    for s in sets[:5]:
        build_config({}, s)   # raises on an invalid value
    draws = pd.read_csv(out / "draws.csv")
    assert sets[0][A] == pytest.approx(draws.loc[0, A])


def test_bootstrap_keeps_a_trial_that_fits_every_target_exactly():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(20, 3, 5))
    d[7] = 0.0
    chosen, values = bootstrap(d, [1.0] * 5, [1.0] * 5, ["point"] * 5, 50, master_seed=1)
    assert set(chosen) == {7} and np.all(values == 0)


def test_the_calibrated_scenario_runs_and_cites_the_estimate(done):
    out, _ = done
    best = json.loads((out / "best.json").read_text())
    data = load_scenario(out / "calibrated.toml")
    config = build_config(data)
    assert config.customers.segments[0].price_scale_usd == pytest.approx(best["parameters"][A])
    assert config.world.usage_growth_per_year == pytest.approx(best["parameters"][B])
    assert config.customers.n_customers == build_config({}).customers.n_customers   # the full population again
    rows = {r.path: r for r in parameter_rows(out / "calibrated.toml")}
    assert not [p for p, r in rows.items() if r.kind == "unsourced"]
    for path in (A, B, C):
        assert resolve_source(rows[path].source).kind == "estimated"
        assert "targets.toml (fit: J = " in rows[path].source


def test_population_check_reports_the_known_difference(files):
    plan = plan_for(files, trials=4)
    table = population_check(plan, full_customers=4000, executor=SerialExecutor(), simulate=sized_stub).set_index("target")
    assert table.loc["x_2024_12", "rel_diff"] == pytest.approx((1 + 1000 / 1000) / (1 + 1000 / 4000) - 1)
    assert table.loc["y_2025_06", "rel_diff"] == pytest.approx(0.0, abs=1e-12)


def test_the_report_renders_every_chart(done):
    import vl_convert

    from runs.calibration.report import render, write_report

    out, _ = done
    path = write_report(out)
    text = path.read_text()
    assert "Fit" in text and "Singular values" in text and "x_2024_12" in text
    specs = [json.loads(s.split(", {\"actions\"")[0]) for s in text.split('vegaEmbed("#c')[1:]
             for s in [s.split('", ', 1)[1]]]
    assert len(specs) == 4   # two series, the share heat map, the objective by trial
    for spec in specs:
        assert "<svg" in vl_convert.vegalite_to_svg(spec)
    assert render(out) == text


def test_population_check_gives_each_size_its_miss_and_a_figure(files):
    plan = plan_for(files, trials=4)
    table = population_check(plan, full_customers=4000, executor=SerialExecutor(), simulate=sized_stub).set_index("target")
    x = table.loc["x_2024_12"]
    assert x["dz"] == pytest.approx(x["z_reduced"] - x["z_full"], abs=1e-12)
    assert x["z_reduced"] != pytest.approx(x["z_full"], abs=1e-3)   # the stub's moment depends on the size
    assert table.loc["y_2025_06", "z_reduced"] == pytest.approx(table.loc["y_2025_06", "z_full"], abs=1e-12)
    from runs.calibration.population import population_chart

    spec = population_chart(table.reset_index(), 1000, 4000).to_dict()
    points = [layer for layer in spec["layer"] if layer["mark"]["type"] == "circle"]
    rows = spec["datasets"][points[0]["data"]["name"]]
    assert sorted(r["target"] for r in rows) == sorted(table.index)
    assert "1,000" in spec["layer"][0]["encoding"]["y"]["title"]


def _scenario_files() -> dict[str, bytes]:
    from market.config import shipped_scenarios

    return {name: path.read_bytes() for name, path in shipped_scenarios().items()}


def test_apply_rewrites_only_the_layer_and_every_scenario_stands_on_it(done, tmp_path, monkeypatch):
    import market.calibrated as layer_module
    from market.calibrated import read_layer
    from market.scenario import config_from
    from runs.calibration.apply import apply_calibration

    out, _ = done
    best = json.loads((out / "best.json").read_text())
    layer = tmp_path / "calibrated.toml"
    layer.write_text("old layer\n")
    scenarios = _scenario_files()
    assert apply_calibration(out, layer) == layer
    assert _scenario_files() == scenarios                     # no scenario file touched
    read = read_layer(layer)
    assert read.values() == pytest.approx(best["parameters"])
    assert read.record.trial == best["trial"] and read.record.objective == pytest.approx(best["objective"])
    assert len(read.record.date) == 10 and read.record.commit   # from the calibration's manifest.json
    monkeypatch.setattr(layer_module, "layer_path", layer)
    plain, segs = config_from("no_scale_economies", {}), config_from("switching_costs_high", {})
    for cfg in (plain, segs):
        assert cfg.world.usage_growth_per_year == pytest.approx(best["parameters"][B])
        assert cfg.customers.segments[0].price_scale_usd == pytest.approx(best["parameters"][A])
    assert plain.world.scale_economies is False                # the scenario's own condition stays
    # the stub estimates C, the consumers' switching cost: switching_costs_high sets it itself, and its value wins
    assert config_from("baseline", {}).customers.segments[0].switching_cost_usd == pytest.approx(best["parameters"][C])
    assert segs.customers.segments[0].switching_cost_usd == 72.0


def test_apply_refuses_a_folder_without_a_finished_calibration_and_keeps_the_layer(tmp_path):
    from runs.calibration.apply import main as apply_main

    layer = tmp_path / "calibrated.toml"
    layer.write_text("kept\n")
    assert apply_main([str(tmp_path / "nothing"), "--layer", str(layer)]) == 2
    assert layer.read_text() == "kept\n"


def test_apply_of_estimates_the_loader_would_refuse_writes_nothing(done, tmp_path, capsys):
    import shutil

    from runs.calibration.apply import main as apply_main

    out, _ = done
    bad = tmp_path / "cal"
    shutil.copytree(out, bad)
    best = json.loads((bad / "best.json").read_text())
    best["parameters"][A] = -3.0                                   # a price scale must be > 0
    (bad / "best.json").write_text(json.dumps(best))
    layer = tmp_path / "calibrated.toml"
    layer.write_text("kept\n")
    assert apply_main([str(bad), "--layer", str(layer)]) == 2
    err = capsys.readouterr().err
    assert A in err and "-3" in err and "greater than 0" in err, err
    assert layer.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".calibrated")] == []


def test_an_interrupted_apply_leaves_the_previous_layer_whole(done, tmp_path, monkeypatch):
    import os

    from runs.calibration.apply import apply_calibration

    out, _ = done
    layer = tmp_path / "calibrated.toml"
    layer.write_text("previous layer\n")

    def killed(src, dst):
        raise KeyboardInterrupt  # stopped between writing the new text and putting it in place

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        apply_calibration(out, layer)
    assert layer.read_text() == "previous layer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibrated.toml"]   # no temporary file left


def test_the_estimation_does_not_stand_on_the_previous_estimates(files, tmp_path, monkeypatch):
    import market.calibrated as layer_module

    bare = make_plan("baseline", {}, targets=files / "targets.toml", params=files / "params.toml", customers=1000)
    assert bare.base_config["world"]["usage_growth_per_year"] == build_config({}).world.usage_growth_per_year
    assert [p.default for p in bare.parameters.parameters] == [5.0, 0.5, 24.0]   # the schema's hand-set values
    other = tmp_path / "layer.toml"
    other.write_text(_layer_text(99.0))
    monkeypatch.setattr(layer_module, "layer_path", other)
    again = make_plan("baseline", {}, targets=files / "targets.toml", params=files / "params.toml", customers=1000)
    assert again.base_config == bare.base_config                  # another layer changes nothing
    layered = make_plan("baseline", {}, targets=files / "targets.toml", params=files / "params.toml",
                        customers=1000, calibrated=True)            # a population check sees the layer
    assert layered.base_config["customers"]["segments"][0]["price_scale_usd"] == 99.0


def _layer_text(price_scale: float) -> str:
    return textwrap.dedent(f"""
        [calibration]
        targets = "t.toml"
        objective = 1.0
        trial = 1
        trials = 2
        within = 1
        n_targets = 2
        seeds = 1
        customers = 1000
        date = "2026-12-08"
        commit = "abc1234"

        [[estimate]]
        path = "{A}"
        item = "consumer"
        value = {price_scale}
    """)
