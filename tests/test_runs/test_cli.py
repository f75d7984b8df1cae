"""The tokenmarket command end to end: outputs, determinism, bad input (exit 2, nothing lost)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from runs.commands.main import main

SMALL = ["--set", "customers.n_customers=2000", "--rounds", "4", "--quiet"]


def run(args):
    return main(["run", *SMALL, *args])


def test_run_writes_all_files_with_run_id_and_seed(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(["--seed", "3", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["agents.csv", "events.csv", "manifest.json", "model.csv", "outcomes.json"]
    for name in ("model.csv", "agents.csv", "events.csv"):
        df = pd.read_csv(out / name)
        assert {"run_id", "seed"} <= set(df.columns)
        assert (df["seed"] == 3).all() if len(df) else True
    model = pd.read_csv(out / "model.csv")
    assert list(model["round"]) == [1, 2, 3, 4]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["config"]["customers"]["n_customers"] == 2000
    assert "mesa" in manifest["versions"] and manifest["git_commit"]
    printed = capsys.readouterr().out
    assert "by firm type" in printed and "API price" in printed


def test_same_seed_byte_identical_different_seed_differs(tmp_path):
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert run(["--seed", seed, "--out", str(tmp_path / name)]) == 0
    for f in ("model.csv", "agents.csv", "events.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "model.csv").read_bytes() != (tmp_path / "c" / "model.csv").read_bytes()


@pytest.mark.parametrize("args, fragment", [
    (["--set", "gpu_market.reference_rent_usd_per_hour=-2"], "gpu_market.reference_rent_usd_per_hour"),
    (["--set", "world.bogus=1"], "world.bogus: unknown key"),
    (["--set", "novalue"], "expected key=value"),
    (["--scenario", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
])
def test_bad_input_exits_2_with_message(tmp_path, capsys, args, fragment):
    out = tmp_path / "x"
    assert run([*args, "--out", str(out)]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_bad_flag_values_exit_2(capsys):
    with pytest.raises(SystemExit) as err:
        main(["run", "--rounds", "0"])
    assert err.value.code == 2
    assert "--rounds: 0 out of range" in capsys.readouterr().err


def test_non_empty_out_needs_force_and_is_kept_intact(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    (out / "sub").mkdir()
    assert run(["--out", str(out)]) == 2
    assert "not empty; pass --force" in capsys.readouterr().err
    # --force replaces earlier output folders only: a folder of other files (say, the current one) is refused.
    assert run(["--out", str(out), "--force"]) == 2
    assert "holds no manifest.json" in capsys.readouterr().err
    assert (out / "precious.txt").read_text() == "keep me" and (out / "sub").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_force_replaces_an_earlier_run_folder(tmp_path):
    out = tmp_path / "r"
    assert run(["--out", str(out), "--seed", "1"]) == 0
    first = (out / "model.csv").read_bytes()
    assert run(["--out", str(out), "--seed", "2", "--force"]) == 0
    assert (out / "model.csv").read_bytes() != first
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left behind
    assert out.stat().st_mode & 0o077 == 0o777 & ~_umask() & 0o077  # an ordinary folder, not mkdtemp's 0700


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_interrupt_missing_extra_and_closed_pipe_exit_cleanly(tmp_path, capsys, monkeypatch):
    import market.simulate

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(market.simulate, "run_once", interrupted)
    assert run(["--out", str(tmp_path / "a")]) == 130
    assert "interrupted" in capsys.readouterr().err and not (tmp_path / "a").exists()

    def missing(*a, **k):
        raise ModuleNotFoundError("No module named 'SALib'", name="SALib")

    monkeypatch.setattr(market.simulate, "run_once", missing)
    assert run(["--out", str(tmp_path / "b")]) == 2
    assert "pip install -e '.[sweep]'" in capsys.readouterr().err


def test_require_names_the_extra():
    from runs.commands.common import UsageError, require

    require("numpy")
    with pytest.raises(UsageError, match=r"'solara_not_a_package'.*pip install -e '\.\[test\]'"):
        require("solara_not_a_package")


def test_customers_beyond_the_population_are_capped_with_a_note(tmp_path, capsys):
    out = tmp_path / "c"
    assert run(["--customers", "5000", "--out", str(out)]) == 0
    assert "holds all of them" in capsys.readouterr().err
    assert len(pd.read_csv(out / "customers.csv")) == 2000
    assert json.loads((out / "manifest.json").read_text())["customers_rows"] == 2000


def test_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert run(["--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_out_on_a_special_file_system_fails_before_running(capsys):
    assert run(["--out", "/proc/tokenmarket_out"]) == 2
    assert "cannot create folders under '/proc'" in capsys.readouterr().err


def test_manifest_keeps_override_types(tmp_path):
    assert run(["--out", str(tmp_path / "r")]) == 0
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["overrides"]["customers.n_customers"] == 2000


def test_scenarios_lists_baseline(capsys):
    assert main(["scenarios"]) == 0
    assert "baseline" in capsys.readouterr().out


def test_console_script_runs(tmp_path):
    res = subprocess.run([sys.executable, "-m", "runs.commands", "run", *SMALL, "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stdout


@pytest.mark.parametrize("mode", ["vectorised", "agents"])
def test_customers_csv_only_when_asked(tmp_path, mode):
    out = tmp_path / mode
    assert run(["--set", f"customers.mode={mode}", "--customers", "40", "--out", str(out)]) == 0
    people = pd.read_csv(out / "customers.csv", keep_default_na=False)
    assert len(people) == 40 and people["customer"].is_unique
    # Evenly spaced through the segment-ordered population: 95 % / 4 % / 1 % of 2,000 → 38 / 2 / ... of 40.
    assert (people["segment"] == "consumer").sum() == 38
    assert set(people["vertical"]) <= {"general_chat", "coding", "customer_support", "writing"}
    assert (people["wtp_usd_per_month"] > 0).all() and (people["usage_mtok_per_month"] > 0).all()
    inside = people["offer"] != ""
    assert inside.any() and (people.loc[inside, "firm"] != "").all() and (people.loc[~inside, "firm"] == "").all()
    assert "customers.csv" in json.loads((out / "manifest.json").read_text())["files"]
    assert run(["--out", str(tmp_path / "none")]) == 0
    assert not (tmp_path / "none" / "customers.csv").exists()


def test_sweep_into_an_unusable_folder_fails_before_any_run(capsys):
    code = main(["sweep", "--set", "customers.n_customers=2000", "--rounds", "2", "--replicates", "1",
                 "--out", "/proc/tokenmarket-sweep", "--quiet"])
    assert code == 2 and "cannot" in capsys.readouterr().err


def test_a_run_past_the_calibrated_horizon_warns_and_the_summary_points_to_the_report(tmp_path, capsys, monkeypatch):
    from runs.reports import horizon

    out = tmp_path / "r"
    assert run(["--out", str(out)]) == 0  # 4 rounds, within the horizon: no warning
    captured = capsys.readouterr()
    assert "horizon" not in captured.err and f"next: tokenmarket report {out}" in captured.out
    monkeypatch.setattr(horizon, "built_horizon", lambda: 3)  # a 3-month horizon: the same 4 rounds go past it
    assert run(["--out", str(tmp_path / "r2")]) == 0
    err = capsys.readouterr().err
    assert "warning: 4 rounds run past the 3-month horizon" in err and "extrapolation" in err
