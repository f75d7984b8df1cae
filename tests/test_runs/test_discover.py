"""Scenario discovery (`tokenmarket discover`): PRIM finds a box planted in a synthetic sweep, and bad arguments
exit 2 with a message naming the problem. The sweep is made by runs/sweep.py itself with a stub run function
whose outcome flag is true exactly inside a known box, so the folder has the real layout."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from market.simulate import RunResult
from runs.commands.main import main
from runs.sweeps.sweep import make_plan, run_sweep

pytest.importorskip("ema_workbench")

# The planted box: rent in [2.5, 4.0] $/h and efficiency gain in [0.2, 0.4] /year; providers.n is irrelevant.
RENT, GAIN = (2.5, 4.0), (0.2, 0.4)
RANGES = [("gpu_market.reference_rent_usd_per_hour", 1.0, 6.0), ("world.efficiency_gain_per_year", 0.0, 0.8),
          ("providers.n", 1, 8)]


def inside(params) -> bool:
    rent, gain = params["gpu_market.reference_rent_usd_per_hour"], params["world.efficiency_gain_per_year"]
    return RENT[0] <= rent <= RENT[1] and GAIN[0] <= gain <= GAIN[1]


def planted(task) -> RunResult:
    """A stub run: outcome dumb_pipe true inside the planted box; last_margin = distance from its centre."""
    p = task.params
    margin = abs(p["gpu_market.reference_rent_usd_per_hour"] - 3.25) + abs(p["world.efficiency_gain_per_year"] - 0.3)
    model = pd.DataFrame({"round": [1, 2], "margin": [margin, margin]})
    return RunResult(model, pd.DataFrame(), pd.DataFrame(), outcomes={"flags": {"dumb_pipe": inside(p)}})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("discover") / "sweep"
    plan = make_plan(None, {"customers.n_customers": 2000}, rounds=2, rounds_format="none", method="lhs", n=800,
                     ranges=RANGES, master_seed=4)
    run_sweep(out, plan, progress=False, fn=planted)
    return out


def read_boxes(folder):
    return pd.read_csv(folder / "boxes.csv")


def test_prim_finds_the_planted_box(sweep, tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--outcome", "dumb_pipe", "--out", str(out), "--no-report"]) == 0
    boxes = read_boxes(out)
    first = boxes[boxes["box"] == 1].set_index("parameter")
    # Tolerance: one LHS stratum of 800 points is 1/800 of a range; PRIM's peels of 5 % leave a limit within a few
    # strata of the truth. 0.15 $/h is 3 % of the rent range, 0.03 /year 4 % of the gain range.
    assert first.loc["gpu_market.reference_rent_usd_per_hour", "lo"] == pytest.approx(RENT[0], abs=0.15)
    assert first.loc["gpu_market.reference_rent_usd_per_hour", "hi"] == pytest.approx(RENT[1], abs=0.15)
    assert first.loc["world.efficiency_gain_per_year", "lo"] == pytest.approx(GAIN[0], abs=0.03)
    assert first.loc["world.efficiency_gain_per_year", "hi"] == pytest.approx(GAIN[1], abs=0.03)
    assert not first.loc["providers.n", "restricted"]
    assert first["coverage"].iloc[0] >= 0.9 and first["density"].iloc[0] >= 0.9
    assert "box 1: coverage" in capsys.readouterr().out


def test_trajectory_runs_from_coverage_to_density_and_marks_the_box(sweep, tmp_path):
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--outcome", "outcome_dumb_pipe", "--out", str(out)]) == 0
    traj = pd.read_csv(out / "trajectory.csv")
    first = traj[traj["box"] == 1]
    assert first["coverage"].iloc[0] == pytest.approx(1.0) and first["mass"].iloc[0] == pytest.approx(1.0)
    base_rate = (RENT[1] - RENT[0]) / 5.0 * (GAIN[1] - GAIN[0]) / 0.8  # the box's share of the swept space: 7.5 %
    assert first["density"].iloc[0] == pytest.approx(base_rate, abs=0.015)
    assert first["density"].iloc[-1] > 0.9 and first["selected"].sum() == 1
    html = (out / "report.html").read_text()
    assert "peeling trajectories" in html and "cdn.jsdelivr" not in html


def test_a_numeric_outcome_with_a_threshold(sweep, tmp_path):
    out = tmp_path / "d"
    assert main(["discover", str(sweep), "--outcome", "last_margin", "--below", "0.5", "--out", str(out),
                 "--no-report"]) == 0
    first = read_boxes(out).query("box == 1").set_index("parameter")
    assert first.loc["gpu_market.reference_rent_usd_per_hour", "restricted"]
    assert first["density"].iloc[0] >= 0.8


def test_default_output_folder_is_inside_the_sweep(sweep, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    assert main(["discover", str(copy), "--outcome", "dumb_pipe", "--no-report"]) == 0
    assert (copy / "discovery" / "outcome_dumb_pipe" / "boxes.csv").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--outcome", "dumb_pipe"], "is not a folder"),
    (["--outcome", "no_such_outcome"], "'no_such_outcome' is not a column of runs.csv; outcome flags: dumb_pipe"),
    (["--outcome", "last_margin"], "needs --above VALUE or --below VALUE"),
    (["--outcome", "dumb_pipe", "--above", "1"], "apply to numeric columns only"),
    (["--outcome", "last_margin", "--above", "100"], "holds in no one of the 800 runs"),
    (["--outcome", "last_margin", "--above", "-1"], "holds in every one of the 800 runs"),
    (["--outcome", "dumb_pipe", "--threshold", "1.5"], "--threshold: 1.5 out of range"),
    (["--outcome", "dumb_pipe", "--mass-min", "0"], "--mass-min: 0.0 out of range"),
])
def test_bad_arguments_exit_2_naming_the_problem(sweep, tmp_path, capsys, argv, message):
    folder = tmp_path / "missing" if message == "is not a folder" else sweep
    assert main(["discover", str(folder), *argv, "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("tokenmarket discover: error:")
    assert not (tmp_path / "d").exists()


def test_a_sweep_without_swept_parameters_exits_2(tmp_path, capsys):
    out = tmp_path / "reps"
    plan = make_plan(None, {"customers.n_customers": 2000}, rounds=2, rounds_format="none", replicates=6)
    run_sweep(out, plan, progress=False, fn=planted_by_replicate)
    assert main(["discover", str(out), "--outcome", "dumb_pipe"]) == 2
    assert "varies no parameter" in capsys.readouterr().err


def planted_by_replicate(task) -> RunResult:
    return RunResult(pd.DataFrame({"round": [1]}), pd.DataFrame(), pd.DataFrame(),
                     outcomes={"flags": {"dumb_pipe": task.replicate % 2 == 0}})


def test_a_folder_that_is_not_a_sweep_exits_2(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    assert main(["discover", str(tmp_path / "x"), "--outcome", "dumb_pipe"]) == 2
    assert "holds no runs.csv" in capsys.readouterr().err


def test_covering_finds_a_second_box_outside_the_first():
    """Two planted boxes, a large one (a, b > 0.6) and a small one (a, b < 0.25, c > 0.5): the first box found is
    the large one, the second is found on the runs outside it, and together they cover every outcome run."""
    from runs.discovery.prim import DiscoveryData, find_boxes

    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 3000), "b": rng.uniform(0, 1, 3000), "c": rng.uniform(0, 1, 3000)})
    big = (x["a"] > 0.6) & (x["b"] > 0.6)
    small = (x["a"] < 0.25) & (x["b"] < 0.25) & (x["c"] > 0.5)
    boxes, notes = find_boxes(DiscoveryData(x, (big | small).to_numpy(), "outcome_t", "t", 0), mass_min=0.01)
    assert len(boxes) == 2 and "every run with the outcome is in the boxes found" in notes
    first = {lim.parameter: lim for lim in boxes[0].limits}
    second = {lim.parameter: lim for lim in boxes[1].limits}
    assert first["a"].lo == pytest.approx(0.6, abs=0.03) and first["b"].lo == pytest.approx(0.6, abs=0.03)
    assert not first["c"].restricted
    assert second["a"].hi == pytest.approx(0.25, abs=0.03) and second["c"].lo == pytest.approx(0.5, abs=0.03)
    assert boxes[0].density >= 0.9 and boxes[1].density >= 0.9
    assert boxes[0].coverage + boxes[1].coverage == pytest.approx(1.0)
