"""Sweep mechanics: executors agree, failures are isolated, output is written as runs finish, resume,
analysis, Parquet, load_sweep and mesa.batch_run. Never asserts on market outcomes (the model is being
calibrated): only on what the sweep machinery does with them."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from market.simulate import RunResult
from runs import io
from runs.commands.main import main
from runs.sweeps.executors import ProcessExecutor, SerialExecutor, evaluate, outcome_flags, simulate, summary_metrics
from runs.sweeps.sweep import load_sweep, make_plan, run_sweep

TINY = ["--set", "customers.n_customers=2000", "--rounds", "3", "--quiet"]
GRID = ["--grid", "gpu_market.reference_rent_usd_per_hour=2,3.5", "--grid", "providers.n=1,3", "--replicates", "2", "--seed", "11"]


def tiny_plan(**design):
    return make_plan(None, {"customers.n_customers": 2000}, rounds=3, **design)


def read_runs(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "runs.csv", dtype={"run_id": str}).sort_values("run_id").reset_index(drop=True)


def read_rounds(folder) -> pd.DataFrame:
    df = pd.read_csv(folder / "rounds.csv", dtype={"run_id": str})
    return df.sort_values(["run_id", "round"]).reset_index(drop=True)


# Run functions for injected failures: module level, so worker processes can import them.
def flaky(task):
    """Raises at design point 1, simulates elsewhere."""
    if task.point == 1:
        raise RuntimeError(f"injected failure at point {task.point}")
    return simulate(task)


def crashy(task):
    """Kills its worker process at design point 1 (a segfault or OOM kill, as far as the pool can tell)."""
    if task.point == 1:
        os._exit(7)
    return simulate(task)


def linear(task):
    """A fake run whose metric y = 10·skill + 0.1·rent (no simulation): for checking the analysis plumbing."""
    a, b = task.params["labs.0.skill"], task.params.get("gpu_market.reference_rent_usd_per_hour", 0.0)
    model = pd.DataFrame({"run_id": task.run_id, "seed": task.seed, "round": [1, 2],
                          "y": [10 * a + 0.1 * b] * 2, "z": [1.0, 1.0]})
    return RunResult(model, pd.DataFrame(), pd.DataFrame())


# ----------------------------------------------------------------------------------------- one run

def test_summary_metrics_discovers_numeric_columns():
    model = pd.DataFrame({"run_id": "r", "seed": 1, "round": [1, 3, 2], "price_usd": [1.0, np.nan, 2.0],
                          "n_labs": [4, 3, 4], "alive": [True, False, True], "label": ["a", "b", "c"]})
    m = summary_metrics(model)
    assert set(m) == {"last_price_usd", "mean_price_usd", "last_n_labs", "mean_n_labs", "last_alive", "mean_alive"}
    assert np.isnan(m["last_price_usd"]) and m["mean_price_usd"] == 1.5
    assert m["last_n_labs"] == 3 and m["mean_alive"] == pytest.approx(2 / 3)


def test_outcome_flags_become_columns():
    result = RunResult(pd.DataFrame({"round": [1]}), pd.DataFrame(), pd.DataFrame(),
                       outcomes={"flags": {"dumb_pipe": True, "loss_leading": False}})
    assert outcome_flags(result) == {"outcome_dumb_pipe": True, "outcome_loss_leading": False}


def test_outcome_columns_reach_runs_csv(tmp_path):
    run_sweep(tmp_path / "s", tiny_plan(replicates=2), progress=False)
    runs = read_runs(tmp_path / "s")
    for name in ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover"):
        assert runs[f"outcome_{name}"].isin([True, False]).all()


def test_evaluate_turns_an_exception_into_a_failed_outcome():
    plan = tiny_plan(grid=[("providers.n", [1, 2])], replicates=2)
    task = plan.tasks(plan.design.table())[2]
    out = evaluate(task, flaky)
    assert not out.ok and out.rounds is None
    assert out.row["status"] == "failed" and out.row["error"] == "RuntimeError: injected failure at point 1"
    assert "Traceback" in out.traceback and "flaky" in out.traceback
    assert out.row["providers.n"] == 2 and out.row["seed"] == task.seed


# ----------------------------------------------------------------------------------------- executors agree

@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        yield cluster


def test_serial_processes_and_dask_give_identical_results(tmp_path, dask_cluster):
    outs = {"serial": ["--workers", "1"], "processes": ["--workers", "2"],
            "dask": ["--dask-scheduler", dask_cluster.scheduler_address]}
    for name, where in outs.items():
        assert main(["sweep", *TINY, *GRID, *where, "--out", str(tmp_path / name)]) == 0
    serial = read_runs(tmp_path / "serial")
    assert len(serial) == 8 and (serial["status"] == "ok").all() and serial["run_id"].is_unique
    assert {"last_api_price_usd_per_mtok", "mean_lerner_api", "last_n_labs", "mean_hhi_api"} <= set(serial.columns)
    for name in ("processes", "dask"):
        pd.testing.assert_frame_equal(read_runs(tmp_path / name), serial)
        pd.testing.assert_frame_equal(read_rounds(tmp_path / name), read_rounds(tmp_path / "serial"))
        assert (tmp_path / name / "design.csv").read_bytes() == (tmp_path / "serial" / "design.csv").read_bytes()
    executors = {json.loads((tmp_path / n / "manifest.json").read_text())["attempts"][0]["executor"] for n in outs}
    assert executors == {"serial", "processes", "dask"}


def test_same_seed_same_numbers_as_a_single_run(tmp_path):
    """A sweep run gives exactly what run_once gives for its config and seed."""
    from market.scenario import config_from
    from market.simulate import run_once

    plan = tiny_plan(grid=[("providers.n", [2])], master_seed=4)
    run_sweep(tmp_path / "s", plan, progress=False)
    row = read_runs(tmp_path / "s").iloc[0]
    solo = run_once(config_from(None, {"customers.n_customers": 2000, "providers.n": 2}), int(row["seed"]), rounds=3)
    expected = solo.model.drop(columns=["run_id", "seed"]).reset_index(drop=True)
    got = read_rounds(tmp_path / "s").drop(columns=["run_id", "seed"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)


# ----------------------------------------------------------------------------------------- failures

@pytest.mark.parametrize("executor", [SerialExecutor, lambda: ProcessExecutor(2)], ids=["serial", "processes"])
def test_one_failing_run_is_recorded_and_the_others_continue(tmp_path, executor):
    plan = tiny_plan(grid=[("providers.n", [1, 2, 3])], replicates=2)
    report = run_sweep(tmp_path / "s", plan, executor(), progress=False, fn=flaky)
    assert (report.ok, report.failed, report.status) == (4, 2, "complete_with_failures")
    runs = read_runs(tmp_path / "s")
    assert list(runs.loc[runs.status == "failed", "run_id"]) == ["p0001-r00", "p0001-r01"]
    assert runs.loc[runs.status == "ok", "last_lerner_api"].notna().all()
    errors = pd.read_csv(tmp_path / "s" / "errors.csv")
    assert sorted(errors["run_id"]) == ["p0001-r00", "p0001-r01"]
    assert (errors["providers.n"] == 2).all() and errors["traceback"].str.contains("injected failure").all()
    assert set(read_rounds(tmp_path / "s")["run_id"]) == set(runs.loc[runs.status == "ok", "run_id"])


def test_a_worker_that_dies_fails_only_its_own_run(tmp_path):
    plan = tiny_plan(grid=[("providers.n", [1, 2, 3, 4])])
    report = run_sweep(tmp_path / "s", plan, ProcessExecutor(2), progress=False, fn=crashy)
    runs = read_runs(tmp_path / "s")
    assert (report.ok, report.failed) == (3, 1)
    failed = runs[runs.status == "failed"]
    assert list(failed["run_id"]) == ["p0001-r00"] and "worker process died" in failed["error"].iloc[0]


def test_resume_reruns_failed_runs_only(tmp_path, capsys):
    out = tmp_path / "s"
    plan = tiny_plan(grid=[("providers.n", [1, 2, 3])], replicates=2)
    run_sweep(out, plan, progress=False, fn=flaky)
    before = read_runs(out).set_index("run_id")
    assert main(["sweep", "--out", str(out), "--resume", "--quiet", "--workers", "1"]) == 0
    assert "6 runs (4 done before), 2 ok, 0 failed" in capsys.readouterr().out
    after = read_runs(out)
    assert after["run_id"].is_unique and len(after) == 6 and (after["status"] == "ok").all()
    kept = after.set_index("run_id").loc[before.index[before.status == "ok"], "last_lerner_api"]
    pd.testing.assert_series_equal(kept, before.loc[before.status == "ok", "last_lerner_api"])
    assert len(pd.read_csv(out / "errors.csv")) == 0
    assert len(read_rounds(out)) == 6 * 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and [a["ok"] for a in manifest["attempts"]] == [4, 2]
    # Nothing left to do: a further resume runs nothing and changes nothing.
    assert main(["sweep", "--out", str(out), "--resume", "--quiet"]) == 0
    pd.testing.assert_frame_equal(read_runs(out), after)


def test_resume_drops_torn_and_unmarked_output(tmp_path):
    out = tmp_path / "s"
    run_sweep(out, tiny_plan(replicates=3), progress=False)
    reference_runs, reference_rounds = read_runs(out), read_rounds(out)
    # Simulate a kill: p0000-r02's rounds written but its runs.csv row torn mid-line.
    lines = (out / "runs.csv").read_text().splitlines(keepends=True)
    (out / "runs.csv").write_text("".join(lines[:3]) + lines[3][:25])
    with open(out / "rounds.csv", "a") as fh:
        fh.write("p0000-r02,123,1,4.2")
    run_sweep(out, resume=True, progress=False)
    pd.testing.assert_frame_equal(read_runs(out), reference_runs)
    pd.testing.assert_frame_equal(read_rounds(out), reference_rounds)


def test_resume_with_a_different_design_is_refused(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", *TINY, *GRID, "--out", str(out)]) == 0
    assert main(["sweep", *TINY, *GRID, "--out", str(out), "--resume"]) == 0  # same design: fine
    changed = [a if a != "11" else "12" for a in GRID]
    assert main(["sweep", *TINY, *changed, "--out", str(out), "--resume"]) == 2
    assert "plan differs" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- formats, loading

def test_parquet_rounds_match_csv_rounds(tmp_path):
    pytest.importorskip("pyarrow")
    args = [*TINY, "--grid", "providers.n=1,2", "--workers", "2"]
    assert main(["sweep", *args, "--out", str(tmp_path / "c")]) == 0
    assert main(["sweep", *args, "--parquet", "--out", str(tmp_path / "p")]) == 0
    assert sorted(p.name for p in (tmp_path / "p" / "rounds.parquet").iterdir()) == ["p0000-r00.parquet",
                                                                                    "p0001-r00.parquet"]
    runs_c, rounds_c = load_sweep(tmp_path / "c")
    runs_p, rounds_p = load_sweep(tmp_path / "p")
    pd.testing.assert_frame_equal(runs_p, runs_c)
    pd.testing.assert_frame_equal(rounds_p, rounds_c, check_dtype=False, rtol=1e-9)  # CSV keeps 10 digits


def test_load_sweep_joins_parameters_and_hides_unfinished_runs(tmp_path):
    out = tmp_path / "s"
    run_sweep(out, tiny_plan(grid=[("providers.n", [1, 2, 3])]), progress=False, fn=flaky)
    with open(out / "rounds.csv", "a") as fh:  # rounds of a run killed before its runs.csv row
        fh.write("p0009-r00,1,1" + "," * (len((out / "rounds.csv").read_text().splitlines()[0].split(",")) - 3) + "\n")
    runs, rounds = load_sweep(out)
    assert list(runs["run_id"]) == ["p0000-r00", "p0001-r00", "p0002-r00"]
    assert list(runs["status"]) == ["ok", "failed", "ok"]
    assert list(rounds.columns[:5]) == ["run_id", "point", "replicate", "seed", "providers.n"]
    assert sorted(set(rounds["run_id"])) == ["p0000-r00", "p0002-r00"] and len(rounds) == 6
    assert rounds.groupby("run_id")["providers.n"].first().tolist() == [1, 3]


def test_no_rounds_keeps_runs_only(tmp_path):
    assert main(["sweep", *TINY, "--no-rounds", "--replicates", "2", "--out", str(tmp_path / "s")]) == 0
    assert not (tmp_path / "s" / "rounds.csv").exists()
    runs, rounds = load_sweep(tmp_path / "s")
    assert len(runs) == 2 and rounds.empty


# ----------------------------------------------------------------------------------------- analyze

def test_sobol_indices_rank_the_influential_parameter(tmp_path):
    plan = make_plan(None, {"customers.n_customers": 2000}, method="sobol", n=16, master_seed=2,
                     ranges=[("labs.0.skill", 0.5, 2.0), ("gpu_market.reference_rent_usd_per_hour", 1.5, 4.0)])
    run_sweep(tmp_path / "s", plan, progress=False, fn=linear)
    assert main(["analyze", str(tmp_path / "s"), "--metric", "last_y", "--resamples", "50"]) == 0
    table = pd.read_csv(tmp_path / "s" / "sensitivity.csv").set_index("parameter")
    assert list(table.columns) == ["method", "metric", "S1", "S1_conf", "ST", "ST_conf", "blocks_used",
                                   "blocks_dropped"]
    assert table.loc["labs.0.skill", "ST"] > 0.9 > 0.1 > table.loc["gpu_market.reference_rent_usd_per_hour", "ST"]
    assert (table["blocks_used"] == 16).all()


def test_morris_on_the_model_and_failed_blocks_dropped(tmp_path, capsys):
    # Reference rents above the owned cost (≈ 1.8 $/h): below it labs rent their whole fleets and a run may be
    # refused for want of GPUs at round 0 (market.fleets.GpuMarket.start), which would drop a second block.
    plan = make_plan(None, {"customers.n_customers": 2000}, rounds=3, method="morris", n=3, master_seed=1,
                     ranges=[("providers.n", 1, 5), ("gpu_market.reference_rent_usd_per_hour", 2.5, 4.0)])
    run_sweep(tmp_path / "s", plan, progress=False, fn=flaky)  # point 1 fails: trajectory 0 is dropped
    assert main(["analyze", str(tmp_path / "s"), "--resamples", "20"]) == 0
    table = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert {"mu", "mu_star", "sigma", "mu_star_conf"} <= set(table.columns)
    assert set(table["parameter"]) == {"providers.n", "gpu_market.reference_rent_usd_per_hour"}
    assert (table["blocks_used"] == 2).all() and (table["blocks_dropped"] == 1).all()
    assert table["metric"].str.startswith("last_").all()


def test_analyze_refuses_designs_without_structure(tmp_path, capsys):
    assert main(["sweep", *TINY, "--grid", "providers.n=1,2", "--out", str(tmp_path / "g")]) == 0
    assert main(["analyze", str(tmp_path / "g")]) == 2
    assert "grid design allows no Sobol or Morris" in capsys.readouterr().err
    plan = make_plan(None, {"customers.n_customers": 2000}, method="sobol", n=4,
                     ranges=[("labs.0.skill", 0.5, 2.0)])
    run_sweep(tmp_path / "s", plan, progress=False, fn=linear)
    assert main(["analyze", str(tmp_path / "s"), "--metric", "last_nope"]) == 2
    assert "unknown metric 'last_nope'" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "s"), "--metric", "last_z"]) == 2  # constant
    assert "constant" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- io helpers

def test_append_csv_extends_header_and_repairs_torn_tail(tmp_path):
    path = tmp_path / "t.csv"
    io.append_csv(path, pd.DataFrame([{"run_id": "a", "status": "failed"}]))
    io.append_csv(path, pd.DataFrame([{"run_id": "b", "status": "ok", "x": 1.5}]))
    with open(path, "a") as fh:
        fh.write("c,ok,2.")  # torn
    io.append_csv(path, pd.DataFrame([{"x": 3.0, "run_id": "d", "status": "ok"}]))
    assert path.read_text() == "run_id,status,x\na,failed,\nb,ok,1.5\nd,ok,3\n"
    assert io.filter_csv(path, "run_id", {"a", "d"}) == 1
    assert path.read_text() == "run_id,status,x\na,failed,\nd,ok,3\n"


# ----------------------------------------------------------------------------------------- mesa.batch_run

def test_mesa_batch_run_on_token_market():
    """batch_run builds TokenMarket(**params, rng=...) with '__'-separated overrides and reads its DataCollector.
    (Mesa 3.5 refuses iterations= together with rng=: the list of seeds sets the replicates.)"""
    import mesa

    from market.model import TokenMarket

    rows = mesa.batch_run(TokenMarket, parameters={"customers__n_customers": 2000, "world__rounds": 3,
                                                   "providers__n": [1, 2]},
                          max_steps=3, number_processes=1, rng=[1], display_progress=False)
    assert len(rows) == 2
    assert {r["providers__n"] for r in rows} == {1, 2} and all(r["customers__n_customers"] == 2000 for r in rows)
    assert all(r["Step"] == 3 and "lerner_api" in r for r in rows)


def test_decision_counts_count_options_and_reviews():
    from runs.sweeps.executors import decision_counts

    events = pd.DataFrame({
        "round": [3, 3, 5, 5], "kind": ["decision", "decision", "decision", "exit"],
        "actor": ["lab0", "lab0", "lab1", "lab1"], "target": ["penetration", "build", "penetration", ""],
        "detail": ['{"move": "api_conduct"}', '{"move": "vertical"}', '{"move": "api_conduct"}', ""]})
    got = decision_counts(RunResult(pd.DataFrame({"round": [1]}), pd.DataFrame(), events))
    assert got["reviews"] == 2  # (3, lab0) and (5, lab1)
    assert got["choice_api_conduct_penetration"] == 2 and got["choice_vertical_build"] == 1
    assert got["choice_publish_publish"] == 0 and len(got) == 1 + 14  # every option of market.config.MOVES (3+3+3+3+2)
    empty = decision_counts(RunResult(pd.DataFrame({"round": [1]}), pd.DataFrame(), pd.DataFrame()))
    assert empty["reviews"] == 0 and sum(empty.values()) == 0
