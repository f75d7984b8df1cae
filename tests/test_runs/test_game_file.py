"""Game files: bad ones exit 2 with one message naming the field, before any run; the shipped examples validate,
enumerate the profiles they should and run end to end with a stub payoff; the command runs the real model and
either scores it or stops at the first run naming the payoff key the model does not report yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runs.commands.main import main
from runs.games.analysis import analyse_game, summary_text
from runs.games.execute import run_game
from runs.games.plan import make_game_plan
from runs.games.report import write_game_outputs
from runs.games.spec import GameError
from tests.test_runs.game_stubs import PseudoRandomGame

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "runs" / "games" / "examples"

GOOD = """name = "g"
replicates = 2

[[conditions]]
name = "growth"
overrides = { "capital.appetites" = [1.0] }

[[roles]]
name = "a"
labs = ["lab_investor_a"]
move = "api_conduct"
strategies = ["best_response", "premium"]
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "game.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("old, new, message", [
    ('name = "g"', 'name = "g"\nrepetitions = 3', "repetitions: unknown key"),
    ('move = "api_conduct"', 'move = "pricing"', "roles.0.move: Input should be 'api_conduct'"),
    ('["best_response", "premium"]', '["best_response", "discount"]',
     "roles.0.strategies.1: 'discount' is not an option of move 'api_conduct'; allowed: best_response, penetration, "
     "premium"),
    ('["best_response", "premium"]', '["premium"]', "roles.0.strategies: List should have at least 2 items"),
    ('["best_response", "premium"]', '["premium", "premium"]', "roles.0.strategies.1: 'premium' listed twice"),
    ('labs = ["lab_investor_a"]', 'labs = ["lab_x"]',
     "roles.0.labs.0: 'lab_x' is not a lab of condition 'growth'; allowed: lab_investor_a, lab_investor_b"),
    ('labs = ["lab_investor_a"]', 'labs = []', "roles.0.labs: List should have at least 1 item"),
    ('move = "api_conduct"', 'move = "api_conduct"\nvertical = "coding"',
     "roles.0.vertical: 'coding' given for move 'api_conduct'; allowed only with move 'vertical'"),
    ('"capital.appetites" = [1.0]', '"capital.appetites" = [2.0]',
     "conditions.0 (growth).overrides: capital.appetites: [2.0]; allowed: a non-empty list of numbers in [0, 1]"),
    ('"capital.appetites" = [1.0]', '"capital.apetites" = [1.0]',
     "conditions.0 (growth).overrides: capital.apetites: unknown key"),
    ('name = "growth"', 'name = "growth money"', "conditions.0.name: String should match pattern"),
    ("replicates = 2", "replicates = 0", "replicates: Input should be greater than or equal to 1; got 0"),
    ("replicates = 2", 'replicates = 2\nscenario = "no_such_scenario"', "unknown scenario 'no_such_scenario'"),
    ("replicates = 2", 'replicates = 2\nforced = []', "forced: unknown key"),
    ('name = "g"', 'name = "g"\noverrides = { forced = [{ firm = "lab_investor_a", move = "publish", option = "publish" }] }',
     "force a move on lab_investor_a, which play roles"),
    ("replicates = 2", "replicates = 2 2", "bad TOML"),
])
def test_bad_game_files_exit_2_naming_the_field(tmp_path, capsys, old, new, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    assert main(["game", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokenmarket game: error:") and message in err, err
    assert str(path) in err or "bad TOML" in err or "scenario" in err
    assert not (tmp_path / "out").exists()  # nothing written, no run started


def test_a_lab_in_two_roles_is_refused(tmp_path):
    text = GOOD + '\n[[roles]]\nname = "b"\nlabs = ["lab_investor_a"]\nmove = "publish"\nstrategies = ["closed", "publish"]\n'
    with pytest.raises(GameError, match="roles.1.labs.0: lab 'lab_investor_a' is already in role 'a'"):
        make_game_plan(write(tmp_path, text))


def test_a_role_name_used_twice_is_refused(tmp_path):
    text = GOOD + '\n[[roles]]\nname = "a"\nlabs = ["lab_investor_b"]\nmove = "publish"\nstrategies = ["closed", "publish"]\n'
    with pytest.raises(GameError, match="roles.1.name: 'a' used twice"):
        make_game_plan(write(tmp_path, text))


@pytest.mark.parametrize("argv, message", [
    (["--set", "world.no_such=1"], "--set: world.no_such: unknown key"),
    (["--set", "capital.appetites"], "--set: expected key=value"),
    (["--rounds", "0"], "--rounds: 0 out of range"),
    (["--replicates", "x"], "--replicates: expected an integer"),
])
def test_bad_options_exit_2(tmp_path, capsys, argv, message):
    path = write(tmp_path, GOOD)
    with pytest.raises(SystemExit) if argv[0] in ("--rounds", "--replicates") else _nothing():
        code = main(["game", str(path), *argv, "--out", str(tmp_path / "out")])
        assert code == 2
    assert message in capsys.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_missing_file_and_missing_game_exit_2(tmp_path, capsys):
    assert main(["game", str(tmp_path / "nope.toml")]) == 2
    assert "GAME: file" in capsys.readouterr().err
    assert main(["game"]) == 2
    assert "a game file is required" in capsys.readouterr().err
    assert main(["game", "--resume", "--out", str(tmp_path)]) == 2
    assert "is not a game folder" in capsys.readouterr().err


def test_too_many_profiles_are_refused_before_any_run(tmp_path):
    """Three roles of six labs with three strategies: C(8, 2)³ = 21,952 reduced profiles (> 20,000)."""
    text = 'name = "big"\n' + "".join(f'[[overrides.labs]]\nname = "lab{i}"\n' for i in range(18))
    for r in range(3):
        labs = ", ".join(f'"lab{6 * r + i}"' for i in range(6))
        text += (f'[[roles]]\nname = "r{r}"\nlabs = [{labs}]\nmove = "api_conduct"\n'
                 f'strategies = ["best_response", "penetration", "premium"]\n')
    with pytest.raises(GameError, match="roles: 21952 profiles after the symmetric reduction \\(allowed: ≤ 20000\\)"):
        make_game_plan(write(tmp_path, text))
    # One such role alone is small: C(8, 2) = 28 profiles.
    one = text[:text.index('[[roles]]\nname = "r1"')]
    assert len(make_game_plan(write(tmp_path, one)).profiles) == 28


# ------------------------------------------------------------------------------------------- examples

@pytest.mark.parametrize("name, n_profiles, n_players", [("api_conduct", 9, 2), ("vertical_entry", 18, 3)])
def test_shipped_examples_validate_and_enumerate_their_profiles(name, n_profiles, n_players):
    plan = make_game_plan(EXAMPLES / f"{name}.toml")
    assert len(plan.profiles) == n_profiles and len(plan.role_labs) == n_players
    assert [c.name for c in plan.conditions] == ["growth", "disciplined"]
    assert [list(c.config["capital"]["appetites"]) for c in plan.conditions] == [[1.0], [0.0]]
    assert plan.notes == ()  # symmetric roles hold identical labs
    assert len(plan.tasks()) == 2 * (n_profiles + 1) * 10


@pytest.mark.parametrize("name", ["api_conduct", "vertical_entry"])
def test_shipped_examples_run_end_to_end_with_a_stub_payoff(tmp_path, name):
    plan = make_game_plan(EXAMPLES / f"{name}.toml", replicates=2, sets={"customers.n_customers": 2000}, rounds=2)
    free = tuple((lab, role.strategies[-1]) for role in plan.roles for lab in role.labs)
    run_game(tmp_path / "out", plan, progress=False, simulate_fn=PseudoRandomGame(tuple(plan.role_labs), free))
    analysis = analyse_game(tmp_path / "out")
    written = write_game_outputs(tmp_path / "out", analysis, html_report=False)
    assert {p.name for p in written} >= {"payoffs.csv", "regret.csv", "equilibria.csv", "choices.csv", "summary.txt"}
    assert [r.condition for r in analysis.results] == ["growth", "disciplined"]
    for res in analysis.results:
        assert res.solution.equilibria, f"{name}/{res.condition}: no equilibrium"  # a finite game has one
        assert all(eq.regret_usd <= res.game.tol for eq in res.solution.equilibria)
        assert len(res.choices) == 2 and res.choices["in_game"].all()
    assert "played in equilibrium by" in summary_text(analysis)


def test_the_command_runs_the_real_model_and_scores_it_or_names_the_missing_payoff(tmp_path, capsys):
    """One real run per profile at toy size. Until the model writes owners' values the game stops at the first
    run with exit 2 naming the key; once it does, the game completes."""
    out = tmp_path / "out"
    code = main(["game", str(EXAMPLES / "api_conduct.toml"), "--set", "customers.n_customers=2000", "--rounds", "2",
                 "--replicates", "1", "--workers", "1", "--out", str(out), "--quiet", "--no-report"])
    err = capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    if code == 2:
        assert "no 'owners_value_usd' key" in err and manifest["status"] == "aborted"
    else:
        assert code == 0 and manifest["status"] == "complete" and (out / "equilibria.csv").is_file()


@pytest.mark.filterwarnings("ignore:ipyparallel not installed")
def test_games_doc_commands_parse_and_the_code_it_names_exists():
    import importlib
    import re
    import shlex

    from runs.commands.main import build_parser

    text = (ROOT / "docs" / "games.md").read_text()
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", text, flags=re.S)).replace("\\\n", " ")
    commands = [shlex.split(line.split("#")[0]) for line in blocks.splitlines() if line.startswith("tokenmarket")]
    assert {c[1] for c in commands} >= {"game", "discover", "sweep"}
    for argv in commands:
        build_parser().parse_args(argv[1:])
    names = {n for n in re.findall(r"`((?:market|runs|ema_workbench)\.[\w.]+)`", text) if not n.endswith((".csv", ".json"))}
    assert {"market.config.ForcedMove", "market.config.MOVES"} <= names
    for dotted in names:
        module, _, attr = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), dotted
    for path in re.findall(r"`(runs/games/examples/\w+\.toml)`", text):
        make_game_plan(ROOT / path)
