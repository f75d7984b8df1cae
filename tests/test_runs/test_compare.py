"""tokenmarket compare and outcomes: interval estimates against published values, the study plan (common random
numbers, draws), resuming, the summary tables, the report and the command lines (bad arguments exit 2 naming
the flag). Market outcomes are never asserted here: only what the machinery does with them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from market.simulate import RunResult
from runs.commands.main import main
from runs.compare import summaries as S
from runs.compare.stats import bands, mean_interval, newcombe_interval, t_quantile, wilson_interval
from runs.compare.study import StudyError, load_study, make_plan, run_study
from runs.sweeps.executors import SerialExecutor

TINY = {"customers.n_customers": 1000}


# ----------------------------------------------------------------------------------------------- stats

def test_wilson_interval_matches_published_values():
    # Newcombe (1998a), Table I: 81/263 → 0.2553–0.3662; 0/10 → 0–0.2775; 10/10 by symmetry.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert all(np.isnan(wilson_interval(0, 0)))
    with pytest.raises(ValueError, match="k="):
        wilson_interval(3, 2)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998b), example (a): 56/70 − 48/80 = 0.2, method 10 → 0.0524 to 0.3339.
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)


@pytest.mark.parametrize("df,table", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452)])
def test_t_quantile_matches_the_table(df, table):
    assert t_quantile(0.975, df) == pytest.approx(table, abs=1.5e-3)


def test_mean_interval_by_hand():
    # x = 1, 2, 3: mean 2, s = 1, half-width t(0.975, 2) / √3 = 4.3027 / 1.7321 = 2.4841.
    mean, lo, hi, n = mean_interval(np.array([1.0, 2.0, 3.0, np.nan]))
    assert (mean, n) == (2.0, 3) and (lo, hi) == pytest.approx((2 - 2.4841, 2 + 2.4841), abs=1e-3)
    assert np.isnan(mean_interval(np.array([5.0]))[1])


def test_bands_are_quantiles_per_group():
    df = pd.DataFrame({"arm": ["a"] * 5 + ["b"] * 5, "round": 1, "x": [1.0, 2, 3, 4, 5, 10, 10, 10, 10, np.nan]})
    out = bands(df, ["arm", "round"], ["x"]).set_index("arm")
    assert out.loc["a", "median"] == 3.0 and out.loc["a", "q25"] == 2.0 and out.loc["a", "q05"] == pytest.approx(1.2)
    assert out.loc["b", "n"] == 4 and out.loc["b", "q95"] == 10.0


# ----------------------------------------------------------------------------------------------- plan

def test_replicates_share_seeds_and_draws_across_arms(tmp_path):
    draws = tmp_path / "draws.csv"
    pd.DataFrame({"draw": [0, 1], "trial": [3, 5], "objective": [1.0, 1.1], "objective_resampled": [1.0, 1.2],
                  "world.efficiency_gain_per_year": [0.2, 0.5]}).to_csv(draws, index=False)
    plan = make_plan("outcomes", [("baseline", "baseline", TINY), ("commodity_pipe", "commodity_pipe", TINY)], 3,
                     master_seed=7, rounds=2, draws_file=str(draws))
    table = plan.table()
    wide = table.pivot(index="replicate", columns="arm", values="seed")
    assert (wide["baseline"] == wide["commodity_pipe"]).all() and wide["baseline"].is_unique
    assert table.groupby("arm")["draw"].apply(list).tolist() == [[0, 1, 0], [0, 1, 0]]
    tasks = {t.run_id: t for t in plan.tasks(table)}
    cfg = tasks["commodity_pipe-r001"].config()
    assert cfg.world.efficiency_gain_per_year == 0.5 and cfg.name == "commodity_pipe"
    assert cfg.customers.n_customers == 1000


def test_a_draw_a_scenario_rejects_stops_the_study_before_any_run(tmp_path):
    draws = tmp_path / "draws.csv"
    pd.DataFrame({"draw": [0], "labs.3.skill": [1.2]}).to_csv(draws, index=False)  # the loss-leader pair has 2 labs
    with pytest.raises(StudyError, match="--draws: draw 0 does not apply to scenario 'api_war_growth_money'"):
        make_plan("outcomes", [("x", "api_war_growth_money", {})], 2, draws_file=str(draws))


# ----------------------------------------------------------------------------------------------- running

def fake(task):
    """A run without simulation: outcome flags and a metric that depend on the arm and replicate only."""
    arm_b = task.point == 1
    model = pd.DataFrame({"run_id": task.run_id, "seed": task.seed, "round": [1, 2],
                          "lerner_api_marginal_cost": [0.5, 0.5 + 0.1 * task.replicate - 0.2 * arm_b],
                          "api_price_usd_per_mtok": [1.0, 2.0]})
    flags = {"dumb_pipe": not arm_b and task.replicate < 2, "loss_leading": arm_b,
             "loss_leading_recouped": False, "vertical_takeover": False}
    return RunResult(model, pd.DataFrame(), pd.DataFrame(), outcomes={"flags": flags})


class StopAfter(SerialExecutor):
    """Serial, but interrupted (as by Ctrl-C) after ``n`` runs."""

    def __init__(self, n):
        self.n = n

    def outcomes(self, tasks, fn):
        for i, outcome in enumerate(super().outcomes(tasks, fn)):
            if i == self.n:
                raise KeyboardInterrupt
            yield outcome


def compare_plan(replicates=4):
    return make_plan("compare", [("a", "baseline", TINY), ("b", "commodity_pipe", TINY)], replicates, rounds=2)


def test_interrupted_study_resumes_without_duplicates(tmp_path):
    out = tmp_path / "cmp"
    with pytest.raises(KeyboardInterrupt):
        run_study(out, compare_plan(), StopAfter(3), kind="compare", progress=False, fn=fake)
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert len(pd.read_csv(out / "runs.csv")) == 3
    report = run_study(out, None, SerialExecutor(), kind="compare", resume=True, progress=False, fn=fake)
    assert (report.done_before, report.ok, report.status) == (3, 5, "complete")
    runs = pd.read_csv(out / "runs.csv")
    assert runs["run_id"].is_unique and len(runs) == 8
    rounds = pd.read_csv(out / "rounds.csv")
    assert len(rounds) == 16 and not rounds.duplicated(["run_id", "round"]).any()
    with pytest.raises(StudyError, match="plan differs"):
        run_study(out, compare_plan(replicates=5), kind="compare", resume=True, progress=False, fn=fake)
    with pytest.raises(StudyError, match="not a tokenmarket outcomes folder"):
        run_study(out, None, kind="outcomes", resume=True, progress=False, fn=fake)
    with pytest.raises(StudyError, match="not an empty folder"):
        run_study(out, compare_plan(), progress=False, fn=fake)


def test_summaries_pair_replicates_and_count_outcomes(tmp_path):
    out = tmp_path / "cmp"
    run_study(out, compare_plan(), kind="compare", progress=False, fn=fake)
    study = load_study(out, "compare")
    freq = S.frequencies(study).set_index(["arm", "outcome"])
    assert freq.loc[("a", "dumb_pipe"), "fired"] == 2 and freq.loc[("a", "dumb_pipe"), "runs"] == 4
    assert freq.loc[("a", "dumb_pipe"), "wilson_low"] == pytest.approx(wilson_interval(2, 4)[0])
    assert freq.loc[("b", "loss_leading"), "frequency"] == 1.0 and freq.loc[("a", "dumb_pipe"), "horizon_months"] == 2
    diff = S.differences(study, "a", "b").set_index(["round", "metric"])
    # Round 2: a − b = 0.2 in every replicate (same replicate, same seed): mean 0.2, zero-width interval.
    row = diff.loc[(2, "lerner_api_marginal_cost")]
    assert row["n_pairs"] == 4 and row["mean_difference"] == pytest.approx(0.2)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.2, 0.2))
    fd = S.frequency_differences(study, "a", "b").set_index("outcome")
    assert fd.loc["dumb_pipe", "difference"] == 0.5 and fd.loc["dumb_pipe", "pairs_a_only"] == 2
    assert fd.loc["loss_leading", "pairs_b_only"] == 4
    series = S.series(study).set_index(["arm", "round", "metric"])
    assert series.loc[("a", 2, "lerner_api_marginal_cost"), "median"] == pytest.approx(0.65)
    paths = S.write_summaries(study)
    assert [p.name for p in paths] == ["series.csv", "frequencies.csv", "differences.csv", "frequency_differences.csv"]


# ----------------------------------------------------------------------------------------------- commands

@pytest.mark.parametrize("argv,flag", [
    (["compare", "baseline", "--replicates", "3"], "SCENARIO"),
    (["compare", "baseline", "commodity_pipe", "--replicates", "1"], "--replicates"),
    (["compare", "baseline", "commodity_pipe"], "--replicates"),
    (["compare", "baseline", "commodity_pipe", "--replicates", "2", "--rounds", "0"], "--rounds"),
    (["compare", "baseline", "commodity_pipe", "--replicates", "2", "--set-a", "oops"], "--set-a"),
    (["compare", "baseline", "commodity_pipe", "--replicates", "2", "--set", "world.rounds=-3"], "world.rounds"),
    (["compare", "baseline", "nope_scenario", "--replicates", "2"], "nope_scenario"),
    (["compare", "--resume"], "--out"),
    (["outcomes", "baseline"], "--replicates"),
    (["outcomes", "baseline", "--replicates", "0"], "--replicates"),
    (["outcomes", "baseline", "--replicates", "2", "--draws", "/no/such/draws.csv"], "--draws"),
    (["outcomes", "baseline", "baseline", "--replicates", "2"], "scenarios"),
    (["outcomes", "baseline", "--replicates", "2", "--workers", "0"], "--workers"),
])
def test_bad_arguments_exit_2_naming_the_flag(argv, flag, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        code = main([*argv, "--out", str(tmp_path / "x")] if "--resume" not in argv else argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_resume_of_a_folder_that_is_not_a_study_exits_2(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    assert main(["outcomes", "--out", str(tmp_path / "x"), "--resume"]) == 2
    assert "not a study folder" in capsys.readouterr().err


def test_compare_end_to_end_writes_tables_and_a_self_contained_report(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "api_war_growth_money", "api_war_disciplined_money", "--replicates", "2", "--rounds",
            "3", "--set", "customers.n_customers=1000", "--workers", "1", "--quiet", "--no-png", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "api_war_growth_money" in text and "95% Wilson interval" in text and "3 months (2024-10)" in text
    for name in ("manifest.json", "design.csv", "runs.csv", "rounds.csv", "series.csv", "differences.csv",
                 "frequencies.csv", "frequency_differences.csv", "report.html"):
        assert (out / name).is_file(), name
    runs = pd.read_csv(out / "runs.csv")
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()  # common random numbers
    html = (out / "report.html").read_text()
    assert "cdn" not in html.lower() and "Outcome frequencies" in html and "Paired differences" in html
    (out / "report.html").unlink()
    assert main(["report", str(out), "--no-png"]) == 0 and (out / "report.html").is_file()
    assert main([*argv[:-2], "--out", str(out)]) == 2  # the folder is taken
    assert main(["compare", "--out", str(out), "--resume", "--quiet", "--no-png"]) == 0  # nothing left to run


def test_outcomes_over_draws_records_each_runs_parameters(tmp_path, capsys):
    draws = tmp_path / "draws.csv"
    pd.DataFrame({"draw": [0, 1], "world.efficiency_gain_per_year": [0.1, 0.6]}).to_csv(draws, index=False)
    out = tmp_path / "freq"
    assert main(["outcomes", "baseline", "differentiated", "--replicates", "2", "--rounds", "2", "--draws",
                 str(draws), "--set", "customers.n_customers=1000", "--workers", "1", "--quiet", "--out",
                 str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(runs["world.efficiency_gain_per_year"]) == [0.1, 0.1, 0.6, 0.6]
    freq = pd.read_csv(out / "frequencies.csv")
    assert set(freq["scenario"]) == {"baseline", "differentiated"} and (freq["runs"] == 2).all()
    assert "differentiated" in capsys.readouterr().out


def test_local_processes_and_dask_give_the_serial_numbers(tmp_path):
    distributed = pytest.importorskip("distributed")
    base = ["compare", "baseline", "commodity_pipe", "--replicates", "2", "--rounds", "2", "--set",
            "customers.n_customers=1000", "--quiet", "--no-png"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        where = {"serial": ["--workers", "1"], "processes": ["--workers", "2"],
                 "dask": ["--dask-scheduler", cluster.scheduler_address]}
        for name, flags in where.items():
            assert main([*base, *flags, "--out", str(tmp_path / name)]) == 0
    keys = {"runs.csv": ["run_id"], "rounds.csv": ["run_id", "round"], "frequencies.csv": ["arm", "outcome"],
            "differences.csv": ["round", "metric"]}
    read = lambda name, f: pd.read_csv(tmp_path / name / f).sort_values(keys[f]).reset_index(drop=True)  # noqa: E731
    for name in ("processes", "dask"):
        for f in ("runs.csv", "rounds.csv", "frequencies.csv", "differences.csv"):
            pd.testing.assert_frame_equal(read(name, f), read("serial", f))
    attempts = {n: json.loads((tmp_path / n / "manifest.json").read_text())["attempts"][0]["executor"] for n in where}
    assert attempts == {"serial": "serial", "processes": "processes", "dask": "dask"}
