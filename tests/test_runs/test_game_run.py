"""The game folder: runs streamed to disk with forced configs and common seeds, resume after Ctrl-C and after
SIGKILL to the same tables, conditions solved apart, the labs' own choices scored, failures and a model
without owners' values handled, and the written outputs. Stub payoffs stand in for the model."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from runs.sweeps.executors import ProcessExecutor, SerialExecutor
from runs.games.analysis import analyse_game, summary_text
from runs.games.execute import load_game_runs, run_game
from runs.games.plan import make_game_plan
from runs.games.report import write_game_outputs
from runs.games.spec import GameError
from tests.test_runs.game_stubs import (ByAppetite, Disobeying, Failing, Interrupting, no_owners_value, table_stub)

B = 1e9
A_LAB, B_LAB = "lab_investor_a", "lab_investor_b"
S = ["premium", "penetration"]
ROOT = Path(__file__).resolve().parents[2]


def bimatrix(a, b):
    def payoff(options):
        i, j = S.index(options[A_LAB]), S.index(options[B_LAB])
        return {A_LAB: a[i][j] * B, B_LAB: b[i][j] * B}
    return payoff


PD = bimatrix([[3, 1], [5, 2]], [[3, 5], [1, 2]])          # equilibrium: both penetration
STAG = bimatrix([[4, 0], [3, 3]], [[4, 3], [0, 3]])        # equilibria: both premium, both penetration (+ mixed)
FREE = ((A_LAB, "penetration"), (B_LAB, "premium"))

GAME = f"""name = "conduct"
replicates = 3
bootstrap = 40
seed = 7

[[conditions]]
name = "growth"
overrides = {{ "capital.appetites" = [1.0] }}

[[conditions]]
name = "disciplined"
[conditions.overrides.capital]
appetites = [0.0]

[[roles]]
name = "a"
labs = ["{A_LAB}"]
move = "api_conduct"
strategies = ["premium", "penetration"]

[[roles]]
name = "b"
labs = ["{B_LAB}"]
move = "api_conduct"
strategies = ["premium", "penetration"]
"""


def stub(**kw):
    return ByAppetite(((1.0, table_stub(PD, [A_LAB, B_LAB], [S, S], noise_usd=0.05 * B, free=FREE, **kw)),
                       (0.0, table_stub(STAG, [A_LAB, B_LAB], [S, S], noise_usd=0.05 * B, free=FREE, **kw))))


def plan_in(tmp_path, text=GAME):
    path = tmp_path / "game.toml"
    path.write_text(text)
    return make_game_plan(path)


def runs_table(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "runs.csv", dtype={"run_id": str}).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    out = tmp / "out"
    run_game(out, plan_in(tmp), progress=False, simulate_fn=stub())
    write_game_outputs(out, analyse_game(out), html_report=True)
    return out


# ------------------------------------------------------------------------------------------- the folder

def test_every_profile_runs_over_the_same_seeds_with_its_moves_forced(tmp_path, reference):
    plan = plan_in(tmp_path)
    design = pd.read_csv(reference / "design.csv", dtype={"run_id": str}, keep_default_na=False)
    assert len(design) == 2 * (4 + 1) * 3  # conditions × (profiles + free) × replicates
    assert design.groupby("replicate")["seed"].nunique().eq(1).all()  # common random numbers
    assert design["seed"].nunique() == 3
    tasks = {t.run_id: t for t in plan.tasks()}
    forced = tasks["growth-p0001-r01"].config().forced
    assert {(m.firm, m.move, m.option) for m in forced} == {(A_LAB, "api_conduct", "premium"),
                                                             (B_LAB, "api_conduct", "penetration")}
    assert tasks["growth-free-r00"].config().forced == []
    assert tasks["disciplined-p0000-r00"].config().capital.appetites == (0.0,)


def test_runs_csv_has_one_row_per_run_with_payoffs_and_identity(reference):
    runs = runs_table(reference)
    assert len(runs) == 30 and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    row = runs.set_index("run_id").loc["growth-p0001-r01"]
    assert row["strategy__lab_investor_a"] == "premium" and row["strategy__lab_investor_b"] == "penetration"
    assert row["payoff_usd__lab_investor_b"] == pytest.approx(5 * B, abs=0.3 * B)
    assert row["rounds_completed"] == 3 and "outcome_dumb_pipe" in runs and "last_price_usd" in runs
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["kind"] == "tokenmarket game" and manifest["status"] == "complete"
    assert list(manifest["plan"]["conditions"][1]["config"]["capital"]["appetites"]) == [0.0]


def test_each_condition_is_solved_as_its_own_game(reference):
    eq = pd.read_csv(reference / "equilibria.csv")
    growth = eq[eq["condition"] == "growth"]
    assert set(growth["description"]) == {"a=penetration; b=penetration"}
    disciplined = eq[eq["condition"] == "disciplined"]
    pure = set(disciplined.loc[disciplined["kind"] == "pure", "description"])
    assert pure == {"a=premium; b=premium", "a=penetration; b=penetration"}
    # Stag hunt mixed equilibrium: premium with p = 3/4 (4p = 3), for both labs.
    mixed = disciplined[(disciplined["kind"] == "mixed") & (disciplined["strategy"] == "premium")]
    assert mixed["probability"].tolist() == pytest.approx([0.75, 0.75], abs=0.02)


def test_strategies_in_equilibrium_are_named_per_condition(reference):
    st = pd.read_csv(reference / "strategies.csv").set_index(["condition", "role", "strategy"])
    assert not st.loc[("growth", "a", "premium"), "in_equilibrium"]
    assert st.loc[("growth", "a", "penetration"), "in_equilibrium"]
    assert st.loc[("disciplined", "a", "premium"), "in_equilibrium"]
    text = (reference / "summary.txt").read_text()
    assert "condition growth" in text and "played in equilibrium by a: penetration" in text


def test_the_labs_own_choices_are_scored_by_regret(reference):
    """Free runs record (penetration, premium): in the prisoner's dilemma that profile's regret is b's gain from
    defecting, 2 − 1 = $1B; in the stag hunt, b's gain from penetration 3 − 0 = $3B."""
    ch = pd.read_csv(reference / "choices.csv")
    assert len(ch) == 6 and (ch["label"] == "a=penetration; b=premium").all()
    by = ch.groupby("condition")["regret_usd"].first()
    assert by["growth"] == pytest.approx(1 * B, rel=1e-6) and by["disciplined"] == pytest.approx(3 * B, rel=1e-6)
    assert not ch["equilibrium"].any()
    assert "chosen in 3 of 3 free runs: a=penetration; b=premium: regret $1B" in (reference / "summary.txt").read_text()


def test_report_is_self_contained(reference):
    html = (reference / "report.html").read_text()
    assert "Condition growth" in html and "regret of each profile" in html and "payoff matrices" in html
    assert "cdn.jsdelivr" not in html and "vegaEmbed" in html


def test_process_pool_gives_the_rows_of_a_serial_game(tmp_path, reference):
    run_game(tmp_path / "out", plan_in(tmp_path), ProcessExecutor(2), progress=False, simulate_fn=stub())
    pd.testing.assert_frame_equal(runs_table(tmp_path / "out"), runs_table(reference))


def test_dask_cluster_gives_the_rows_of_a_serial_game(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    from runs.sweeps.executors import DaskExecutor

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        run_game(tmp_path / "out", plan_in(tmp_path), DaskExecutor(cluster.scheduler_address), progress=False,
                 simulate_fn=stub())
    pd.testing.assert_frame_equal(runs_table(tmp_path / "out"), runs_table(reference))
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["attempts"][0]["executor"] == "dask"


# ------------------------------------------------------------------------------------------- resume

def test_interrupted_game_resumes_to_the_uninterrupted_tables(tmp_path, reference):
    out = tmp_path / "out"
    stop = frozenset({"disciplined-p0002-r01"})
    plan = plan_in(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_game(out, plan, SerialExecutor(), progress=False, simulate_fn=Interrupting(stub(), stop))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    done = len(runs_table(out))
    assert 0 < done < 30
    report = run_game(out, plan, resume=True, progress=False, simulate_fn=stub())
    assert report.done_before == done and report.ok == 30 - done
    pd.testing.assert_frame_equal(runs_table(out), runs_table(reference))
    write_game_outputs(out, analyse_game(out), html_report=False)
    for name in ("payoffs.csv", "regret.csv", "equilibria.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(reference / name))


KILL_SCRIPT = """
import sys
from runs.sweeps.executors import ProcessExecutor
from runs.games.execute import run_game
from runs.games.plan import make_game_plan
from tests.test_runs.test_game_run import stub
run_game(sys.argv[1], make_game_plan(sys.argv[2]), ProcessExecutor(2), progress=False, simulate_fn=stub(delay_s=0.15))
"""


def test_killed_game_resumes_without_losing_or_repeating_runs(tmp_path, reference):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    plan_in(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(out), str(tmp_path / "game.toml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "runs.csv").exists() or len((out / "runs.csv").read_text().splitlines()) < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "game made no progress"
            time.sleep(0.01)
        helpers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, f"workers left behind: {alive}"
    done = runs_table(out)
    assert 4 <= len(done) < 30 and done["run_id"].is_unique
    report = run_game(out, None, resume=True, progress=False, simulate_fn=stub())
    assert report.done_before == len(done)
    pd.testing.assert_frame_equal(runs_table(out), runs_table(reference))


def test_resume_refuses_a_different_game(tmp_path, reference):
    other = plan_in(tmp_path, GAME.replace("replicates = 3", "replicates = 4"))
    import shutil

    shutil.copytree(reference, tmp_path / "copy")
    with pytest.raises(GameError, match="differs from the one in .*replicates"):
        run_game(tmp_path / "copy", other, resume=True, progress=False, simulate_fn=stub())


def test_a_fresh_game_refuses_a_used_folder(tmp_path, reference):
    with pytest.raises(GameError, match="is not an empty folder; pass --resume"):
        run_game(reference, plan_in(tmp_path), progress=False, simulate_fn=stub())


# ------------------------------------------------------------------------------------------- failures

def test_a_model_without_owners_values_stops_the_game_naming_the_key(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(GameError, match="no 'owners_value_usd' key"):
        run_game(out, plan_in(tmp_path), progress=False, simulate_fn=no_owners_value)
    runs = runs_table(out)
    assert len(runs) == 1 and runs["error"].iloc[0].startswith("PayoffUnavailable")
    assert json.loads((out / "manifest.json").read_text())["status"] == "aborted"


def test_a_profile_that_always_fails_leaves_the_game_unsolved(tmp_path):
    out = tmp_path / "out"
    report = run_game(out, plan_in(tmp_path), progress=False, simulate_fn=Failing(stub(), "p0003"))
    assert report.failed == 6 and report.status == "complete_with_failures"
    with pytest.raises(GameError, match="profile\\(s\\) without a finished run .*a=penetration; b=penetration"):
        analyse_game(out)


def test_a_condition_with_a_hole_is_left_unsolved_and_the_others_solved(tmp_path):
    out = tmp_path / "out"
    run_game(out, plan_in(tmp_path), progress=False, simulate_fn=Failing(stub(), "p0003", condition="growth"))
    analysis = analyse_game(out)
    assert [r.condition for r in analysis.results] == ["disciplined"] and list(analysis.unsolved) == ["growth"]
    assert "condition growth: not solved" in summary_text(analysis)


def test_a_failed_replicate_is_noted_and_the_rest_used(tmp_path):
    out = tmp_path / "out"
    run_game(out, plan_in(tmp_path), progress=False, simulate_fn=Failing(stub(), "p0001", replicate=2))
    analysis = analyse_game(out)
    res = analysis.results[0]
    assert any("fewer than 3 finished replicates" in n for n in res.notes)
    assert res.table.n_replicates().tolist() == [3, 2, 3, 3]
    errors = pd.read_csv(out / "errors.csv")
    assert len(errors) == 2 and errors["error"].str.contains("injected failure").all()


def test_free_runs_without_decision_rows_get_a_note(tmp_path):
    bare = ByAppetite(((1.0, table_stub(PD, [A_LAB, B_LAB], [S, S])), (0.0, table_stub(STAG, [A_LAB, B_LAB], [S, S]))))
    out = tmp_path / "out"
    run_game(out, plan_in(tmp_path), progress=False, simulate_fn=bare)
    analysis = analyse_game(out)
    text = summary_text(analysis)
    assert "no `decision` rows" in text and "lab_investor_a, lab_investor_b" in text


def test_forced_moves_the_model_ignores_are_reported(tmp_path):
    inner = table_stub(PD, [A_LAB, B_LAB], [S, S], free=FREE)
    out = tmp_path / "out"
    run_game(out, plan_in(tmp_path), progress=False,
             simulate_fn=ByAppetite(((1.0, Disobeying(inner, "premium")), (0.0, Disobeying(inner, "premium")))))
    notes = [n for r in analyse_game(out).results for n in r.notes]
    assert any(n.startswith("forced moves not honoured") for n in notes)


def test_load_game_runs_reads_strategies_as_text(reference):
    plan, runs = load_game_runs(reference)
    assert plan.name == "conduct" and runs.loc[runs["profile"] == "free", "strategy__lab_investor_a"].eq("").all()


def test_cli_resume_of_a_finished_game_analyses_it(tmp_path, reference, capsys):
    import shutil

    from runs.commands.main import main

    shutil.copytree(reference, tmp_path / "copy")
    assert main(["game", "--out", str(tmp_path / "copy"), "--resume", "--quiet", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "condition growth" in out and "30 runs (30 done before), 0 ok, 0 failed" in out
    assert main(["game", "--out", str(tmp_path / "copy"), "--resume", "--replicates", "2"]) == 2
    assert "need GAME.toml" in capsys.readouterr().err
